package inventory

import (
	"path"
	"strings"
)

// GroupLabel is the label key prefix of group membership: a host of the
// Ansible groups web and prod carries the labels "group.web: true" and
// "group.prod: true", and `--limit group=web` selects it.
const GroupLabel = "group."

// Groups returns the names of the groups h belongs to (its "group.NAME:
// true" labels), in no set order.
func (h Host) Groups() []string {
	var out []string
	for k, v := range h.Labels {
		if name, ok := strings.CutPrefix(k, GroupLabel); ok && v == "true" {
			out = append(out, name)
		}
	}
	return out
}

// matchHost reports whether h matches one --limit pattern: glob on its name,
// or, for KEY=GLOB, on its label KEY; KEY "group" matches its groups too.
func matchHost(h Host, key, glob string, isLabel bool) bool {
	if !isLabel {
		ok, _ := path.Match(glob, h.Name)
		return ok
	}
	if v, ok := h.Labels[key]; ok {
		if ok, _ := path.Match(glob, v); ok {
			return true
		}
	}
	if key == "group" {
		for _, g := range h.Groups() {
			if ok, _ := path.Match(glob, g); ok {
				return true
			}
		}
	}
	return false
}

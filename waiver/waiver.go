// Package waiver loads waiver files: the violations an organisation has
// accepted on some hosts, each with a justification and an expiry date.
//
// # Use
//
// [Load] reads and checks a file and returns its entries in the form the
// policy bundle reads as data.factorgate.waivers; the bundle moves a
// violation that an entry covers into Decision.Waived, where reports show
// it as waived (never as passed) and where it no longer counts toward the
// host's status. [Match] answers, in Go, the question the bundle asks of an
// entry: does it cover this host?
//
// [LoadFile] also keeps where each entry was written, so that a run can
// refuse a waiver for a check no loaded policy defines ([File.CheckKnown]:
// it would waive nothing) and warn about one that covers no host of the
// run ([File.Coverage]: a misspelt host name or label), naming FILE:LINE.
//
// # File format
//
//	waivers:
//	  - host: "web-*"            # a glob on the host name (* and ? only)
//	    check: selinux
//	    justification: "Vendor agent needs SELinux until the Q1 migration, CHG-1042"
//	    expires: 2027-01-31
//	  - selector: {env: prod}     # or: labels the host must all carry
//	    check: password_login
//	    justification: "..."
//	    expires: 2026-12-31
//
// Each entry needs check, justification, expires (YYYY-MM-DD) and exactly
// one of host or selector. A waiver holds through its expiry date (UTC);
// after it, [Load] drops it with a warning. Unknown fields are errors, so a
// misspelt key never silently widens or narrows a waiver. The check
// "reachable" cannot be waived: whether a host was reached is a fact.
package waiver

import (
	"fmt"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DateLayout is the layout of an expiry date.
const DateLayout = "2006-01-02"

// Load reads the waiver file at path and returns its entries that have not
// expired at now, as data.factorgate.waivers: objects
//
//	{"host": GLOB or "", "selector": map[string]any or nil,
//	 "check": ID, "justification": TEXT, "expires": "YYYY-MM-DD"}
//
// Each expired entry is dropped with a warning
// "FILE:LINE: waiver for CHECK on HOST expired on DATE; ignored". A file
// that cannot be read or that breaks the format gives an error naming the
// file, line and field at fault.
func Load(path string, now time.Time) (entries []map[string]any, warnings []string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read waivers: %w", err)
	}
	return Parse(path, data, now)
}

// Parse is [Load] on data already read; name is the file name used in
// errors and warnings.
func Parse(name string, data []byte, now time.Time) (entries []map[string]any, warnings []string, err error) {
	f, err := ParseFile(name, data, now)
	if err != nil {
		return nil, nil, err
	}
	return f.Entries, f.Warnings, nil
}

// ParseFile is [LoadFile] on data already read; name is the file name
// used in errors and warnings.
func ParseFile(name string, data []byte, now time.Time) (*File, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := oneLine(strings.TrimPrefix(err.Error(), "yaml: "))
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			return nil, fmt.Errorf("%s:%s: %s", name, m[1], m[2])
		}
		return nil, fmt.Errorf("%s: %s", name, msg)
	}
	f := &File{Name: name, Entries: []map[string]any{}}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return f, nil // an empty file waives nothing
	}
	root := doc.Content[0]
	at := func(n *yaml.Node, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", name, n.Line, fmt.Sprintf(format, args...))
	}
	if root.Kind != yaml.MappingNode {
		return nil, at(root, "want a mapping with the key waivers")
	}
	var list *yaml.Node
	for i := 0; i < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "waivers" {
			return nil, at(k, "unknown field %q (want waivers)", k.Value)
		}
		if list != nil {
			return nil, at(k, "waivers given twice")
		}
		list = v
	}
	if list == nil || isNull(list) {
		return f, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, at(list, "waivers: want a list of waivers")
	}
	today := now.UTC().Format(DateLayout)
	for _, item := range list.Content {
		e, checkLine, err := parseEntry(item, at)
		if err != nil {
			return nil, err
		}
		if e["expires"].(string) < today {
			f.Warnings = append(f.Warnings, fmt.Sprintf("%s:%d: waiver for %s on %s expired on %s; ignored",
				name, item.Line, e["check"], target(e), e["expires"]))
			continue
		}
		f.Entries = append(f.Entries, e)
		f.lines = append(f.lines, position{entry: item.Line, check: checkLine})
	}
	return f, nil
}

// fields lists the keys of an entry.
var fields = []string{"host", "selector", "check", "justification", "expires"}

// parseEntry checks one entry of the list.
func parseEntry(item *yaml.Node, at func(*yaml.Node, string, ...any) error) (e map[string]any, checkLine int, err error) {
	e, err = parseFields(item, at)
	if err != nil {
		return nil, 0, err
	}
	checkLine = item.Line
	for i := 0; i < len(item.Content); i += 2 {
		if item.Content[i].Value == "check" {
			checkLine = item.Content[i].Line
		}
	}
	return e, checkLine, nil
}

// parseFields checks the fields of one entry.
func parseFields(item *yaml.Node, at func(*yaml.Node, string, ...any) error) (map[string]any, error) {
	if item.Kind != yaml.MappingNode {
		return nil, at(item, "waiver: want a mapping with %s", strings.Join(fields, ", "))
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i < len(item.Content); i += 2 {
		k, v := item.Content[i], item.Content[i+1]
		known := false
		for _, f := range fields {
			known = known || k.Value == f
		}
		if !known {
			return nil, at(k, "unknown field %q (want one of %s)", k.Value, strings.Join(fields, ", "))
		}
		if seen[k.Value] != nil {
			return nil, at(k, "field %q given twice", k.Value)
		}
		seen[k.Value] = v
	}
	e := map[string]any{"host": "", "selector": nil}
	str := func(key string) (string, error) {
		v := seen[key]
		if v == nil || isNull(v) {
			return "", at(item, "waiver: missing %s", key)
		}
		if v.Kind != yaml.ScalarNode {
			return "", at(v, "%s: want a string", key)
		}
		s := strings.TrimSpace(v.Value)
		if s == "" {
			return "", at(v, "%s: empty", key)
		}
		return s, nil
	}
	var err error
	for _, key := range []string{"check", "justification", "expires"} {
		if e[key], err = str(key); err != nil {
			return nil, err
		}
	}
	if e["check"] == "reachable" {
		return nil, at(seen["check"], "check: reachable cannot be waived (whether a host was reached is a fact)")
	}
	exp := seen["expires"]
	if d, err := time.Parse(DateLayout, e["expires"].(string)); err != nil || d.Format(DateLayout) != e["expires"] {
		return nil, at(exp, "expires: %q is not a date YYYY-MM-DD", exp.Value)
	}
	host, sel := seen["host"], seen["selector"]
	switch {
	case host != nil && sel != nil:
		return nil, at(sel, "waiver: give host or selector, not both")
	case host == nil && sel == nil:
		return nil, at(item, "waiver: missing host or selector")
	case host != nil:
		h, err := str("host")
		if err != nil {
			return nil, err
		}
		if err := checkGlob(h); err != nil {
			return nil, at(host, "host: %v", err)
		}
		e["host"] = h
	default:
		if sel.Kind != yaml.MappingNode {
			return nil, at(sel, "selector: want a mapping of label to value")
		}
		if len(sel.Content) == 0 {
			return nil, at(sel, "selector: empty (it would cover every host: use host: \"*\" to mean that)")
		}
		m := map[string]any{}
		for i := 0; i < len(sel.Content); i += 2 {
			k, v := sel.Content[i], sel.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.Value == "" {
				return nil, at(k, "selector: want label names as keys")
			}
			if v.Kind != yaml.ScalarNode || isNull(v) {
				return nil, at(v, "selector: label %s: want a value", k.Value)
			}
			if _, dup := m[k.Value]; dup {
				return nil, at(k, "selector: label %s given twice", k.Value)
			}
			m[k.Value] = v.Value
		}
		e["selector"] = m
	}
	return e, nil
}

// checkGlob accepts the globs that Go's path.Match and OPA's glob.match
// read alike: literal text with * and ?. Brackets, braces and backslashes
// mean different things to the two, so they are refused.
func checkGlob(p string) error {
	if i := strings.IndexAny(p, `[]{}\`); i >= 0 {
		return fmt.Errorf("%q: %q is not allowed in a host glob (use * and ? only)", p, string(p[i]))
	}
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("%q: %v", p, err)
	}
	return nil
}

// Match reports whether entry (one of [Load]'s entries) covers the host
// named host with the given labels, as the policy bundle decides it: the
// host glob, when not empty, matches the whole name (path.Match; * does not
// cross a "/", which host names lack), and every label of the selector,
// when not nil, is present with the same value. Whether the entry's check
// is the finding's check is for the caller to compare.
func Match(entry map[string]any, host string, labels map[string]string) bool {
	if p, _ := entry["host"].(string); p != "" {
		if ok, err := path.Match(p, host); err != nil || !ok {
			return false
		}
	}
	switch sel := entry["selector"].(type) {
	case nil:
	case map[string]any:
		for k, v := range sel {
			got, ok := labels[k]
			if s, isStr := v.(string); !ok || !isStr || got != s {
				return false
			}
		}
	case map[string]string:
		for k, v := range sel {
			if got, ok := labels[k]; !ok || got != v {
				return false
			}
		}
	default:
		return false
	}
	return true
}

// target names the hosts an entry covers, for warnings.
func target(e map[string]any) string {
	if h, _ := e["host"].(string); h != "" {
		return h
	}
	sel, _ := e["selector"].(map[string]any)
	keys := make([]string, 0, len(sel))
	for k := range sel {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, sel[k])
	}
	return "hosts with " + strings.Join(parts, ",")
}

// yamlLine splits the line number off a YAML syntax error.
var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

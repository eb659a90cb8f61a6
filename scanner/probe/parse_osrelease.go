package probe

import (
	"strings"

	"github.com/factorgate/factorgate/contract"
)

// parseOSRelease reads os-release(5) text: KEY=VALUE lines, values optionally
// quoted with " or ' (backslash escapes inside double quotes), # comments.
// Malformed lines are skipped, as the format asks of readers.
func parseOSRelease(text string) map[string]string {
	kv := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t\"'") {
			continue
		}
		kv[k] = unquoteOSReleaseValue(v)
	}
	return kv
}

// unquoteOSReleaseValue undoes the shell-style quoting of one value.
func unquoteOSReleaseValue(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1]
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' && i+1 < len(v) && strings.IndexByte("\"\\$`", v[i+1]) >= 0 {
				i++
			}
			b.WriteByte(v[i])
		}
		return b.String()
	}
	return v
}

// linuxOSFacts builds the OS facts from the os-release, uname-r,
// redhat-release and debian_version sections. Version is VERSION_ID, made
// more precise by /etc/redhat-release or /etc/debian_version when those
// carry the same release with more digits (CentOS 7: "7" → "7.9.2009").
func linuxOSFacts(p *probeOutput) *contract.OS {
	os := &contract.OS{Family: contract.Ptr("linux")}
	if text, ok := p.ok("os-release"); ok {
		kv := parseOSRelease(text)
		os.ID = lxNonEmpty(kv["ID"])
		os.Name = lxNonEmpty(kv["NAME"])
		os.Version = lxNonEmpty(kv["VERSION_ID"])
	}
	if os.Version != nil {
		for _, name := range []string{"redhat-release", "debian_version"} {
			text, ok := p.ok(name)
			if !ok {
				continue
			}
			if v := preciseRelease(text, *os.Version); v != "" {
				os.Version = &v
				break
			}
		}
	}
	if text, ok := p.ok("uname-r"); ok {
		os.Kernel = lxNonEmpty(lxFirstLine(text))
	}
	return os
}

// preciseRelease finds in text a dotted number that extends versionID
// ("7" → "7.9.2009", "10" → "10.13"), or returns "".
func preciseRelease(text, versionID string) string {
	for _, w := range strings.Fields(text) {
		if !strings.HasPrefix(w, versionID+".") || len(w) == len(versionID)+1 {
			continue
		}
		if strings.Trim(w, "0123456789.") == "" && !strings.HasSuffix(w, ".") {
			return w
		}
	}
	return ""
}

// lxNonEmpty returns a pointer to s, or nil when s is blank.
func lxNonEmpty(s string) *string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return &s
}

// lxFirstLine returns the first line of text.
func lxFirstLine(text string) string {
	line, _, _ := strings.Cut(text, "\n")
	return strings.TrimSpace(line)
}

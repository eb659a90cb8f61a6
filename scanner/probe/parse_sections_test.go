package probe

import (
	"strconv"
	"strings"
	"testing"
)

// sec is one section for [renderProbe].
type sec struct {
	name string
	text string
	rc   int
}

// renderProbe frames sections the way [Linux] prints them.
func renderProbe(secs ...sec) []byte {
	var b strings.Builder
	b.WriteString(probeHeader + "\n")
	for _, s := range secs {
		b.WriteString(probeBeginPrefix + s.name + probeMarkSuffix + "\n")
		if t := strings.TrimRight(s.text, "\n"); t != "" {
			for _, line := range strings.Split(t, "\n") {
				b.WriteString("|" + line + "\n")
			}
		}
		b.WriteString(probeEndPrefix + strconv.Itoa(s.rc) + " " + s.name + probeMarkSuffix + "\n")
	}
	b.WriteString(probeDone + "\n")
	return []byte(b.String())
}

// mustSplit splits rendered sections.
func mustSplit(t *testing.T, secs ...sec) *probeOutput {
	t.Helper()
	p, err := splitProbeSections(renderProbe(secs...))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRenderProbeMatchesScript checks the test helper against the real
// script's framing on this machine, so tests built on it test the real thing.
func TestRenderProbeMatchesScript(t *testing.T) {
	out, _ := readCapture(t, "debian12-local")
	p, err := splitProbeSections(out)
	if err != nil {
		t.Fatal(err)
	}
	var secs []sec
	for _, s := range p.sections {
		secs = append(secs, sec{s.name, s.text, s.rc})
	}
	if got := string(renderProbe(secs...)); got != string(out) {
		t.Errorf("renderProbe does not reproduce the real capture")
	}
}

// lxStr returns *p, or "" for nil.
func lxStr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// lxBool renders a nullable bool as yes, no or null.
func lxBool(p *bool) string {
	switch {
	case p == nil:
		return "null"
	case *p:
		return "yes"
	}
	return "no"
}

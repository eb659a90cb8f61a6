package probe

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Markers of the output of [Linux].
const (
	probeHeader      = "@@factorgate:linux-probe v1@@"
	probeDone        = "@@factorgate:done@@"
	probeBeginPrefix = "@@factorgate:begin "
	probeEndPrefix   = "@@factorgate:end "
	probeMarkSuffix  = "@@"
)

// probeSection is one framed section of the probe's output.
type probeSection struct {
	name string
	text string // the command's output, "|" prefixes removed, no final newline
	rc   int    // the command's exit status; -1 when the end marker is missing
	done bool   // the end marker arrived
}

// probeOutput is the probe's output split into its sections.
type probeOutput struct {
	sections []probeSection
	byName   map[string]int // first section of each name
	complete bool           // the done marker arrived
	lines    int            // lines read
}

// section returns the complete section called name, or nil.
func (p *probeOutput) section(name string) *probeSection {
	i, ok := p.byName[name]
	if !ok || !p.sections[i].done {
		return nil
	}
	return &p.sections[i]
}

// ok returns the text of section name when its command exited 0.
func (p *probeOutput) ok(name string) (string, bool) {
	s := p.section(name)
	if s == nil || s.rc != 0 {
		return "", false
	}
	return s.text, true
}

// splitProbeSections splits the output of [Linux] into sections.
// Lines before the header (a chatty shell start-up file) are skipped.
func splitProbeSections(out []byte) (*probeOutput, error) {
	p := &probeOutput{byName: map[string]int{}}
	header := false
	first := "" // the first non-blank line, for the error of output that is not the probe's
	cur := -1   // index of the open section
	var body []string
	n := 0
	for len(out) > 0 {
		var line []byte
		if i := bytes.IndexByte(out, '\n'); i >= 0 {
			line, out = out[:i], out[i+1:]
		} else {
			// A last line without its newline was cut mid-line: the
			// probe ends every line it prints.
			n++
			break
		}
		n++
		s := strings.TrimSuffix(string(line), "\r")
		if !header {
			if first == "" {
				first = strings.TrimSpace(s)
			}
			if s == probeHeader {
				header = true
			}
			continue
		}
		if p.complete {
			if strings.TrimSpace(s) == "" {
				continue
			}
			return nil, fmt.Errorf("%w: line %d: text after the end marker: %.60q", ErrLinuxProbeOutput, n, s)
		}
		switch {
		case cur >= 0 && strings.HasPrefix(s, "|"):
			body = append(body, s[1:])
		case cur >= 0 && strings.HasPrefix(s, probeEndPrefix) && strings.HasSuffix(s, probeMarkSuffix):
			rest := strings.TrimSuffix(strings.TrimPrefix(s, probeEndPrefix), probeMarkSuffix)
			rcText, name, _ := strings.Cut(rest, " ")
			rc, err := strconv.Atoi(rcText)
			if err != nil || rc < 0 || name != p.sections[cur].name {
				return nil, fmt.Errorf("%w: line %d: bad end marker %.60q", ErrLinuxProbeOutput, n, s)
			}
			p.sections[cur].text = strings.Join(body, "\n")
			p.sections[cur].rc = rc
			p.sections[cur].done = true
			cur, body = -1, nil
		case cur < 0 && strings.HasPrefix(s, probeBeginPrefix) && strings.HasSuffix(s, probeMarkSuffix) && len(s) > len(probeBeginPrefix)+len(probeMarkSuffix):
			name := s[len(probeBeginPrefix) : len(s)-len(probeMarkSuffix)]
			p.sections = append(p.sections, probeSection{name: name, rc: -1})
			cur = len(p.sections) - 1
			if _, dup := p.byName[name]; !dup {
				p.byName[name] = cur
			}
		case cur < 0 && s == probeDone:
			p.complete = true
		default:
			return nil, fmt.Errorf("%w: line %d: unexpected line %.60q", ErrLinuxProbeOutput, n, s)
		}
	}
	p.lines = n
	if !header {
		if first == "" && len(out) > 0 {
			first = strings.TrimSpace(string(out))
		}
		if first == "" {
			return nil, fmt.Errorf("%w: no %s header in %d lines, nothing printed", ErrLinuxProbeOutput, probeHeader, n)
		}
		return nil, fmt.Errorf("%w: no %s header in %d lines; it starts %.80q", ErrLinuxProbeOutput, probeHeader, n, first)
	}
	if cur >= 0 {
		// The open section is incomplete: keep what arrived, marked not done.
		p.sections[cur].text = strings.Join(body, "\n")
	}
	return p, nil
}

// lastSection names, for a truncated output, the section it stopped in or
// after.
func (p *probeOutput) lastSection() string {
	if len(p.sections) == 0 {
		return " (no section arrived)"
	}
	last := p.sections[len(p.sections)-1]
	if !last.done {
		return fmt.Sprintf(" (inside section %.60q)", last.name)
	}
	return fmt.Sprintf(" (after section %.60q)", last.name)
}

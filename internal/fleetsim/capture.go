package fleetsim

import (
	"embed"
	"fmt"
	"strconv"
	"strings"
)

// captures are copies of scanner/probe/testdata/linux/<system>/probe.stdout (a test
// keeps them identical): the probe output of each stock release, from which
// every Linux profile is built.
//
//go:embed captures/*.stdout
var captures embed.FS

// section is one framed section of the Linux probe's output.
type section struct {
	name string
	text string
	rc   int
}

// probeOutput is a probe output as sections, to be edited and rendered.
type probeOutput struct {
	sections []section
}

// loadCapture reads the embedded capture of system.
func loadCapture(system string) *probeOutput {
	b, err := captures.ReadFile("captures/" + system + ".stdout")
	if err != nil {
		panic(fmt.Sprintf("fleetsim: no capture %s: %v", system, err))
	}
	p := &probeOutput{}
	var cur *section
	var body []string
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "@@factorgate:begin "):
			cur = &section{name: strings.TrimSuffix(strings.TrimPrefix(line, "@@factorgate:begin "), "@@")}
			body = nil
		case strings.HasPrefix(line, "@@factorgate:end "):
			rc, _, _ := strings.Cut(strings.TrimPrefix(line, "@@factorgate:end "), " ")
			cur.rc, _ = strconv.Atoi(rc)
			cur.text = strings.Join(body, "\n")
			p.sections = append(p.sections, *cur)
			cur = nil
		case cur != nil && strings.HasPrefix(line, "|"):
			body = append(body, line[1:])
		}
	}
	// Captures taken before the probe followed its process ancestry have no
	// sshd-listener section: a simulated host answers as a server whose
	// packaged sshd, started without options, serves the connection.
	if p.index("sshd-listener") < 0 {
		p.set("sshd-listener", "pid 812\nfrom exe\nbinary /usr/sbin/sshd", 0, "sshd-T")
	}
	return p
}

// index returns the position of section name, or -1.
func (p *probeOutput) index(name string) int {
	for i, s := range p.sections {
		if s.name == name {
			return i
		}
	}
	return -1
}

// set replaces section name, or inserts it before the section called
// before ("" appends).
func (p *probeOutput) set(name, text string, rc int, before string) *probeOutput {
	if i := p.index(name); i >= 0 {
		p.sections[i] = section{name, text, rc}
		return p
	}
	s := section{name, text, rc}
	if i := p.index(before); before != "" && i >= 0 {
		p.sections = append(p.sections[:i], append([]section{s}, p.sections[i:]...)...)
		return p
	}
	p.sections = append(p.sections, s)
	return p
}

// setting sets an sshd keyword in the sshd -T output (lower-case line) and
// in /etc/ssh/sshd_config (a line before the first existing one, so that
// it is the first value), like an operator editing the file and reloading.
func (p *probeOutput) setting(keyword, value string) *probeOutput {
	lower := strings.ToLower(keyword)
	for i, s := range p.sections {
		switch {
		case (s.name == "sshd-T" || s.name == "sshd-T-sudo") && s.rc == 0:
			lines := strings.Split(s.text, "\n")
			found := false
			for j, l := range lines {
				if k, _, _ := strings.Cut(l, " "); k == lower {
					lines[j] = lower + " " + value
					found = true
				}
			}
			if !found {
				lines = append(lines, lower+" "+value)
			}
			p.sections[i].text = strings.Join(lines, "\n")
		case s.name == "sshd_config /etc/ssh/sshd_config" && s.rc == 0:
			lines := strings.Split(s.text, "\n")
			var out []string
			for _, l := range lines {
				if k, _, _ := strings.Cut(strings.TrimSpace(l), " "); strings.EqualFold(k, keyword) {
					continue
				}
				out = append(out, l)
			}
			// After a leading Include, whose files come first anyway.
			at := 0
			for j, l := range out {
				if strings.HasPrefix(l, "Include ") {
					at = j + 1
				}
			}
			out = append(out[:at], append([]string{keyword + " " + value}, out[at:]...)...)
			p.sections[i].text = strings.Join(out, "\n")
		}
	}
	return p
}

// render frames the sections the way probe.Linux prints them.
func (p *probeOutput) render() []byte {
	var b strings.Builder
	b.WriteString("@@factorgate:linux-probe v1@@\n")
	for _, s := range p.sections {
		b.WriteString("@@factorgate:begin " + s.name + "@@\n")
		if t := strings.TrimRight(s.text, "\n"); t != "" {
			for _, line := range strings.Split(t, "\n") {
				b.WriteString("|" + line + "\n")
			}
		}
		fmt.Fprintf(&b, "@@factorgate:end %d %s@@\n", s.rc, s.name)
	}
	b.WriteString("@@factorgate:done@@\n")
	return []byte(b.String())
}

package report

import (
	"bufio"
	"fmt"
	"io"
	"iter"
	"strings"
	"unicode"

	"github.com/factorgate/factorgate/contract"
)

func init() { register("table", func() Renderer { return tableRenderer{width: 80} }) }

// tableRenderer is the default format: one row per host (status, host,
// OS), its findings indented below it, wrapped to fit width columns, and
// the summary at the end, with the number of hosts with waived violations.
// Text from facts and policies is stripped of
// control characters, so a message cannot move the cursor or recolour the
// terminal, and of bidirectional controls, so a host name cannot read as
// another.
type tableRenderer struct{ width int }

const (
	tableStatusWidth = 18 // len("enabled_ineligible")
	tableHostWidth   = 24
)

// Render implements [Renderer].
func (t tableRenderer) Render(w io.Writer, h Header, decisions iter.Seq2[contract.Decision, error]) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if h.Title != "" {
		fmt.Fprintf(bw, "factorgate check: %s (%s)\n\n", tableText(h.Title), h.GeneratedAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	fmt.Fprintf(bw, "%-*s  %-*s  %s\n", tableStatusWidth, "STATUS", tableHostWidth, "HOST", "OS")
	n, waived := 0, 0
	for d, err := range decisions {
		if err != nil {
			bw.Flush()
			return err
		}
		n++
		if len(d.Waived) > 0 {
			waived++
		}
		t.row(bw, d)
	}
	if n == 0 {
		bw.WriteString("(no hosts)\n")
	}
	bw.WriteString("\n")
	bw.WriteString("x violation   ! warning   ~ waived (shown, not counted)\n")
	bw.WriteString(t.wrap("", "  ", tableSummary(h.Summary, n)))
	if waived > 0 {
		bw.WriteString(t.wrap("", "  ", waivedHostsText(waived)+" (~: shown, not counted, not passed)"))
	}
	if len(h.NotScanned) > 0 {
		var names []string
		for _, c := range h.NotScanned {
			s := c.HostName
			if s == "" {
				s = c.HostID
			}
			var extra []string
			if c.HostID != "" && c.HostName != "" {
				extra = append(extra, c.HostID)
			}
			if c.PrivateIP != "" {
				extra = append(extra, c.PrivateIP)
			}
			if len(extra) > 0 {
				s += " (" + strings.Join(extra, ", ") + ")"
			}
			names = append(names, tableText(s))
		}
		bw.WriteString(t.wrap("", "  ", fmt.Sprintf("not scanned (HSS lists them, the inventory lacks them): %s", strings.Join(names, ", "))))
	}
	return bw.Flush()
}

// row writes one host and its findings.
func (t tableRenderer) row(w *bufio.Writer, d contract.Decision) {
	os := "-"
	if d.OS != nil && *d.OS != "" {
		os = tableText(*d.OS)
	}
	fmt.Fprintf(w, "%-*s  %-*s  %s\n", tableStatusWidth, tableText(d.Status), tableHostWidth, tableText(d.Host), os)
	for _, f := range d.Violations {
		t.finding(w, "x", f)
		w.WriteString(t.wrap("    fix: ", "         ", tableText(f.Remediation)))
	}
	for _, f := range d.Warnings {
		t.finding(w, "!", f)
		w.WriteString(t.wrap("    fix: ", "         ", tableText(f.Remediation)))
	}
	for _, f := range d.Waived {
		t.finding(w, "~", f)
		if f.Waiver != nil {
			w.WriteString(t.wrap("    waived until ", "      ", tableText(f.Waiver.Expires)+": "+tableText(f.Waiver.Justification)))
		}
	}
}

func (t tableRenderer) finding(w *bufio.Writer, mark string, f contract.Finding) {
	w.WriteString(t.wrap("  "+mark+" ", "    ", tableText(f.Check)+": "+tableText(f.Message)))
}

// wrap lays text out in lines of at most t.width columns, the first
// starting with first and the rest with indent; a word longer than a line
// stays whole. Empty text gives nothing.
func (t tableRenderer) wrap(first, indent, text string) string {
	words := strings.Fields(text)
	if len(words) == 0 {
		return ""
	}
	var b strings.Builder
	line := first
	fresh := true
	for _, word := range words {
		if !fresh && len(line)+1+len(word) > t.width {
			b.WriteString(line)
			b.WriteByte('\n')
			line, fresh = indent, true
		}
		if !fresh {
			line += " "
		}
		line += word
		fresh = false
	}
	b.WriteString(line)
	b.WriteByte('\n')
	return b.String()
}

// tableSummary counts hosts by status in the order of [contract.Statuses].
func tableSummary(sum map[string]int, n int) string {
	var parts []string
	for _, s := range contract.Statuses {
		parts = append(parts, fmt.Sprintf("%d %s", sum[s], s))
	}
	for s, c := range sum {
		if !isStatus(s) && c > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c, tableText(s)))
		}
	}
	noun := "hosts"
	if n == 1 {
		noun = "host"
	}
	return fmt.Sprintf("%d %s: %s", n, noun, strings.Join(parts, ", "))
}

// waivedHostsText is "N hosts with waived violations", for the summaries
// of the formats for people.
func waivedHostsText(n int) string {
	if n == 1 {
		return "1 host with waived violations"
	}
	return fmt.Sprintf("%d hosts with waived violations", n)
}

func isStatus(s string) bool {
	for _, x := range contract.Statuses {
		if x == s {
			return true
		}
	}
	return false
}

// tableText makes text safe for one line of a terminal: control
// characters (escape sequences, line breaks, tabs, C1 controls) become
// spaces, and bidirectional controls are dropped.
func tableText(s string) string {
	if strings.IndexFunc(s, isUnsafeRune) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case isBidiControl(r):
			return -1
		case unicode.IsControl(r):
			return ' '
		}
		return r
	}, s)
}

// isUnsafeRune reports whether r is a C0 or C1 control or a bidirectional
// control: text from a host must not carry one to a terminal or a viewer.
func isUnsafeRune(r rune) bool { return unicode.IsControl(r) || isBidiControl(r) }

// isBidiControl reports whether r is a Unicode bidirectional control
// (the embeddings and overrides U+202A–U+202E, the isolates U+2066–U+2069,
// the marks U+200E, U+200F and U+061C), which make a terminal or a viewer
// show text in another order than it holds: "web-\u202e10-bew" reads as
// web-wew-01.
func isBidiControl(r rune) bool {
	switch {
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return r == '\u200e' || r == '\u200f' || r == '\u061c'
}

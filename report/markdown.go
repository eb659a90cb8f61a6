package report

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/termtext"
)

func init() {
	register("markdown", func() Renderer { return markdownRenderer{spoolLimit: 4 << 20, width: 80} })
}

// markdownRenderer writes GitHub-flavoured Markdown for a pull request, a
// wiki page or a ticket: a summary table, a host table (status, transport,
// OS and the number of findings of each host) and the number of hosts with
// waived violations, then the findings of each host that has any, then
// the warnings that several hosts share, once each with their hosts. It
// reads raw as well as rendered: every line fits width columns. Text
// wraps; a host name too long for its table row is cut there with an
// termtext.Ellipsis and given whole in the findings; a word longer than a line is
// cut with an HTML comment across the line break, which renders as
// nothing. Every piece of text from a host or a policy is escaped, so a
// pipe or a tag in a message cannot break the tables or inject markup,
// and cleaned by [termtext.Clean], so it cannot carry a terminal escape or a
// bidirectional control.
//
// The decisions are read once and spooled (see [fleet]): in memory up to
// spoolLimit bytes, then in a temporary file, so a large fleet is never
// held whole in memory.
type markdownRenderer struct{ spoolLimit, width int }

// mdWrapper wraps Markdown text: a word longer than a line is cut with an
// HTML comment across the break, and a line never starts with a character
// that would make it a list item, a heading or a rule.
func (m markdownRenderer) wrapper() termtext.Wrapper {
	return termtext.Wrapper{Width: m.width, Split: mdSplit, CutEnd: "<!--", CutStart: "-->", LineStart: mdLineStart}
}

// Render implements [Renderer].
func (m markdownRenderer) Render(w io.Writer, h Header, decisions iter.Seq2[contract.Decision, error]) error {
	f, err := readFleet(decisions, m.spoolLimit)
	if err != nil {
		return err
	}
	defer f.Close()
	ew := &errWriter{w: w}
	wr := m.wrapper()
	// The findings follow the host table: they go to a spool of their
	// own while the rows are written, in the same pass.
	details := &spool{limit: m.spoolLimit}
	defer details.Close()
	dbuf := bufio.NewWriter(details)
	dw := &errWriter{w: dbuf}
	out := ew
	para := func(first, indent, text string) {
		for _, l := range wr.Wrap(first, indent, text) {
			fmt.Fprintf(out, "%s\n", l)
		}
	}
	title := "factorgate compliance report"
	if h.Title != "" {
		if t := title + ": " + mdText(reportTitle(h.Title)); termtext.Width(t)+2 <= m.width {
			fmt.Fprintf(ew, "# %s\n\n", t)
		} else {
			fmt.Fprintf(ew, "# %s\n\n", title)
			para("", "", "Run: "+mdText(reportTitle(h.Title)))
			fmt.Fprint(ew, "\n")
		}
	} else {
		fmt.Fprintf(ew, "# %s\n\n", title)
	}
	gen := fmt.Sprintf("Generated %s. %d hosts judged", h.GeneratedAt.UTC().Format("2006-01-02 15:04:05 UTC"), h.Total)
	if n := len(h.NotScanned); n > 0 {
		gen += fmt.Sprintf(", %d known to HSS but not scanned", n)
	}
	para("", "", gen+".")
	fmt.Fprint(ew, "\n## Summary\n\n| Status | Hosts |\n| --- | ---: |\n")
	for _, s := range contract.Statuses {
		fmt.Fprintf(ew, "| %s | %d |\n", statusLabel(s), h.Summary[s])
	}
	if n := len(h.NotScanned); n > 0 {
		fmt.Fprintf(ew, "| not scanned (in HSS, not in the inventory) | %d |\n", n)
	}
	fmt.Fprint(ew, "\n## Hosts\n\n")
	para("", "", "x: violations, !: warnings, \\~: waived violations (not counted toward the status, not passed).")
	fmt.Fprint(ew, "\n| Host | OS | Transport | Status | x | ! | \\~ |\n| --- | --- | --- | --- | ---: | ---: | ---: |\n")
	for d, err := range f.Each() {
		if err != nil {
			return err
		}
		rest := mdRowRest(d)
		cell := mdFit(d.Host, m.width-termtext.Width(rest)-2)
		fmt.Fprintf(ew, "| %s%s\n", cell, rest)
		if ew.err != nil {
			return ew.err
		}
		own := f.ownWarnings(d)
		if len(d.Violations)+len(own)+len(d.Waived) == 0 && cell == mdCell(d.Host) {
			continue
		}
		out = dw
		m.details(dw, para, d, own)
		out = ew
		if dw.err != nil {
			return fmt.Errorf("spool markdown details: %w", dw.err)
		}
	}
	if f.N == 0 {
		fmt.Fprint(ew, "\nNo host was judged.\n")
	}
	if f.Waived > 0 {
		fmt.Fprint(ew, "\n")
		para("", "", "**"+waivedHostsText(f.Waived)+"**: not counted toward the status, not passed (see Findings).")
	}
	if err := dbuf.Flush(); err != nil {
		return fmt.Errorf("spool markdown details: %w", err)
	}
	if details.Len() > 0 {
		fmt.Fprint(ew, "\n## Findings\n\n")
		para("", "", "Hosts with no violation, warning or waiver of their own are not listed here. A waived violation does not count toward the status, and is not a pass.")
		if ew.err != nil {
			return ew.err
		}
		if err := details.CopyTo(w); err != nil {
			return err
		}
	}
	if len(f.Shared) > 0 {
		fmt.Fprint(ew, "\n## Warnings on several hosts\n\n")
		para("", "", "Each is listed once, with the hosts that have it.")
		fmt.Fprint(ew, "\n")
		for _, s := range f.Shared {
			para("- ", "  ", mdFinding(s.Finding)+"<br>"+s.HostsText()+": "+hostList(s.Hosts, mdText))
		}
	}
	if len(h.NotScanned) > 0 {
		fmt.Fprint(ew, "\n## Not scanned\n\n")
		para("", "", "HSS knows these hosts, but the inventory lacks them: nothing is known of their eligibility.")
		fmt.Fprint(ew, "\n")
		for _, c := range h.NotScanned {
			var parts []string
			for _, p := range []struct{ label, v string }{{"HSS host ID", c.HostID}, {"private IP", c.PrivateIP}, {"OS", c.OSType},
				{"agent", c.AgentStatus}, {"protection", c.ProtectStatus}} {
				if p.v != "" {
					parts = append(parts, p.label+" "+mdText(p.v))
				}
			}
			para("- ", "  ", "**"+mdCell(c.HostName)+"**: "+strings.Join(parts, ", "))
		}
	}
	return ew.err
}

// details writes the findings section of one host: own are its warnings
// that no other host shares.
func (m markdownRenderer) details(w io.Writer, para func(first, indent, text string), d contract.Decision, own []contract.Finding) {
	head := "### " + mdText(d.Host)
	if termtext.Width(head) > m.width {
		head = "### " + mdFit(d.Host, m.width-4)
	}
	fmt.Fprintf(w, "\n%s\n\n", head)
	about := []string{"Status " + statusLabel(d.Status)}
	if head != "### "+mdText(d.Host) {
		about = []string{"Host " + mdText(d.Host), "status " + statusLabel(d.Status)}
	}
	if d.Transport != nil {
		about = append(about, "over "+mdText(*d.Transport))
	}
	if d.OS != nil {
		about = append(about, mdText(*d.OS))
	}
	if d.Address != nil {
		about = append(about, "address "+mdText(*d.Address))
	}
	para("", "", strings.Join(about, ", ")+".")
	list := func(title string, fs []contract.Finding) {
		if len(fs) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s:\n\n", title)
		for _, f := range fs {
			para("- ", "  ", mdFinding(f))
		}
	}
	list("Violations", d.Violations)
	list("Warnings", own)
	list("Waived violations (not counted, not passed)", d.Waived)
}

// mdRowRest is the host table's row of d after the host cell.
func mdRowRest(d contract.Decision) string {
	return fmt.Sprintf(" | %s | %s | %s | %d | %d | %d |", mdCell(ptrText(d.OS)), mdCell(ptrText(d.Transport)), statusLabel(d.Status),
		len(d.Violations), len(d.Warnings), len(d.Waived))
}

// mdFinding is a finding as one Markdown list item's text.
func mdFinding(f contract.Finding) string {
	s := mdCode(f.Check)
	if f.Severity != "" {
		s += " (" + mdText(f.Severity) + ")"
	}
	s += ": " + mdText(f.Message)
	if f.Waiver != nil {
		s += "<br>**Waived**: " + mdText(f.Waiver.Justification) + "; expires " + mdText(f.Waiver.Expires)
	}
	if f.Remediation != "" {
		s += "<br>Remediation: " + mdText(f.Remediation)
	}
	return s
}

// mdFit is host escaped for a table cell of at most w columns, cut with
// an termtext.Ellipsis when longer.
func mdFit(host string, w int) string {
	s := mdCell(host)
	if termtext.Width(s) <= w {
		return s
	}
	rs := []rune(mdClean(host))
	for len(rs) > 0 {
		rs = rs[:len(rs)-1]
		if s = mdText(string(rs)) + termtext.Ellipsis; termtext.Width(s) <= w {
			return s
		}
	}
	return termtext.Ellipsis
}

// mdSplit cuts a Markdown word after at most w columns, never inside a
// backslash escape or a <br>.
func mdSplit(s string, w int) (string, string) {
	head, _ := termtext.SplitWidth(s, w)
	i := len(head)
	for i > 0 {
		bs := 0
		for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
			bs++
		}
		inBr := false
		for k := max(i-3, 0); k < i; k++ {
			if strings.HasPrefix(s[k:], "<br>") {
				inBr = true
			}
		}
		if bs%2 == 0 && !inBr {
			break
		}
		i--
	}
	return s[:i], s[i:]
}

// mdLineStart escapes the first character of a word that would make the
// line it starts a list item, a rule or a heading underline.
func mdLineStart(word string) string {
	switch word[0] {
	case '-', '+', '=':
		return "\\" + word
	}
	i := 0
	for i < len(word) && i < 9 && word[i] >= '0' && word[i] <= '9' {
		i++
	}
	if i > 0 && i < len(word) && (word[i] == '.' || word[i] == ')') {
		return word[:i] + "\\" + word[i:]
	}
	return word
}

// statusLabel is a status in bold when it fails the default gate, so the
// table reads without colour.
func statusLabel(s contract.Status) string {
	if s.Passes() {
		return string(s)
	}
	return "**" + mdText(string(s)) + "**"
}

// mdEscaper backslash-escapes the characters Markdown gives a meaning to,
// and turns line breaks into <br>.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`<`, `\<`, `>`, `\>`, `|`, `\|`, `&`, `\&`, `#`, `\#`, `~`, `\~`, `!`, `\!`,
	"\r\n", "<br>", "\n", "<br>", "\r", "<br>",
)

// mdText escapes s for running Markdown text, with [mdClean].
func mdText(s string) string { return mdEscaper.Replace(mdClean(s)) }

// mdClean is s cleaned by [termtext.Clean], line breaks kept.
func mdClean(s string) string { return termtext.CleanLines(s) }

// mdCell escapes s for a table cell, where an empty cell reads "-".
func mdCell(s string) string {
	if s == "" {
		return "-"
	}
	return mdText(s)
}

// mdCode is s as inline code, or escaped text when s holds a backtick or a
// line break that a code span cannot, or is too long for a code span to
// wrap.
func mdCode(s string) string {
	s = mdClean(s)
	if s == "" || strings.ContainsAny(s, "`|\r\n") || termtext.Width(s) > 40 {
		return mdText(s)
	}
	return "`" + s + "`"
}

// errWriter keeps the first write error, so a sequence of Fprintf calls can
// be checked once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// spool holds text in memory up to limit bytes, then in a temporary file
// that Close removes.
type spool struct {
	limit int
	mem   bytes.Buffer
	f     *os.File
	n     int64
}

func (s *spool) Write(p []byte) (int, error) {
	if s.f == nil && s.mem.Len()+len(p) > s.limit {
		f, err := os.CreateTemp("", "factorgate-report-*")
		if err != nil {
			return 0, err
		}
		s.f = f
		if _, err := s.mem.WriteTo(f); err != nil {
			return 0, err
		}
	}
	s.n += int64(len(p))
	if s.f != nil {
		return s.f.Write(p)
	}
	return s.mem.Write(p)
}

// Len is the number of bytes written.
func (s *spool) Len() int64 { return s.n }

// Reader reads what the spool holds from its start.
func (s *spool) Reader() (io.Reader, error) {
	if s.f == nil {
		return bytes.NewReader(s.mem.Bytes()), nil
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return s.f, nil
}

// CopyTo writes what the spool holds to w.
func (s *spool) CopyTo(w io.Writer) error {
	if s.f == nil {
		_, err := w.Write(s.mem.Bytes())
		return err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(w, s.f)
	return err
}

// Close removes the temporary file, if any.
func (s *spool) Close() error {
	if s.f == nil {
		return nil
	}
	name := s.f.Name()
	err := s.f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	s.f = nil
	return err
}

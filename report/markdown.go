package report

import (
	"bytes"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"
	"unicode"

	"github.com/factorgate/factorgate/contract"
)

func init() { register("markdown", func() Renderer { return markdownRenderer{spoolLimit: 4 << 20} }) }

// markdownRenderer writes GitHub-flavoured Markdown for a pull request, a
// wiki page or a ticket: a summary table, a host table and the number of
// hosts with waived violations, then the findings of each host that has any. Every piece of text from a host or a policy is
// escaped, so a pipe or a tag in a message cannot break the tables or
// inject markup, and stripped of control and bidirectional control
// characters, so a host name cannot read as another.
//
// The details come after the table, so they are spooled while the table is
// written: in memory up to spoolLimit bytes, then in a temporary file, so a
// large fleet is never held whole in memory.
type markdownRenderer struct{ spoolLimit int }

// Render implements [Renderer].
func (m markdownRenderer) Render(w io.Writer, h Header, decisions iter.Seq2[contract.Decision, error]) error {
	ew := &errWriter{w: w}
	title := "factorgate compliance report"
	if h.Title != "" {
		title += ": " + mdText(h.Title)
	}
	fmt.Fprintf(ew, "# %s\n\n", title)
	fmt.Fprintf(ew, "Generated %s. %d hosts judged", h.GeneratedAt.UTC().Format("2006-01-02 15:04:05 UTC"), h.Total)
	if n := len(h.NotScanned); n > 0 {
		fmt.Fprintf(ew, ", %d known to HSS but not scanned", n)
	}
	fmt.Fprint(ew, ".\n\n## Summary\n\n| Status | Hosts |\n| --- | ---: |\n")
	for _, s := range contract.Statuses {
		fmt.Fprintf(ew, "| %s | %d |\n", statusLabel(s), h.Summary[s])
	}
	if n := len(h.NotScanned); n > 0 {
		fmt.Fprintf(ew, "| not scanned (in HSS, not in the inventory) | %d |\n", n)
	}
	fmt.Fprint(ew, "\n## Hosts\n\n| Host | Address | OS | Status | Violations | Warnings | Waived |\n| --- | --- | --- | --- | ---: | ---: | ---: |\n")
	if ew.err != nil {
		return ew.err
	}

	details := &spool{limit: m.spoolLimit}
	defer details.Close()
	dw := &errWriter{w: details}
	rows, waived := 0, 0
	for d, err := range decisions {
		if err != nil {
			return err
		}
		rows++
		if len(d.Waived) > 0 {
			waived++
		}
		fmt.Fprintf(ew, "| %s | %s | %s | %s | %d | %d | %d |\n",
			mdCell(d.Host), mdCell(ptrText(d.Address)), mdCell(ptrText(d.OS)), statusLabel(d.Status),
			len(d.Violations), len(d.Warnings), len(d.Waived))
		if ew.err != nil {
			return ew.err
		}
		markdownDetails(dw, d)
		if dw.err != nil {
			return fmt.Errorf("spool markdown details: %w", dw.err)
		}
	}
	if rows == 0 {
		fmt.Fprint(ew, "\nNo host was judged.\n")
	}
	if waived > 0 {
		// The summary above was written before the hosts streamed, so the
		// count of hosts with waived violations follows their table.
		fmt.Fprintf(ew, "\n**%s**: not counted toward the status, not passed (see Findings).\n", waivedHostsText(waived))
	}
	if details.Len() > 0 {
		fmt.Fprint(ew, "\n## Findings\n\nHosts with no violation, warning or waiver are not listed here. A waived violation does not count toward the status, and is not a pass.\n")
		if ew.err != nil {
			return ew.err
		}
		if err := details.CopyTo(w); err != nil {
			return err
		}
	}
	if len(h.NotScanned) > 0 {
		fmt.Fprint(ew, "\n## Not scanned\n\nHSS knows these hosts, but the inventory lacks them: nothing is known of their eligibility.\n\n")
		fmt.Fprint(ew, "| Host | HSS host ID | Private IP | OS | Agent | Protection |\n| --- | --- | --- | --- | --- | --- |\n")
		for _, c := range h.NotScanned {
			fmt.Fprintf(ew, "| %s | %s | %s | %s | %s | %s |\n", mdCell(c.HostName), mdCell(c.HostID),
				mdCell(c.PrivateIP), mdCell(c.OSType), mdCell(c.AgentStatus), mdCell(c.ProtectStatus))
		}
	}
	return ew.err
}

// markdownDetails writes the findings section of one host, if it has any.
func markdownDetails(w io.Writer, d contract.Decision) {
	if len(d.Violations)+len(d.Warnings)+len(d.Waived) == 0 {
		return
	}
	fmt.Fprintf(w, "\n### %s: %s\n", mdText(d.Host), statusLabel(d.Status))
	list := func(title string, fs []contract.Finding) {
		if len(fs) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s:\n\n", title)
		for _, f := range fs {
			fmt.Fprintf(w, "- %s", mdCode(f.Check))
			if f.Severity != "" {
				fmt.Fprintf(w, " (%s)", mdText(f.Severity))
			}
			fmt.Fprintf(w, ": %s", mdText(f.Message))
			if f.Waiver != nil {
				fmt.Fprintf(w, "<br>**Waived**: %s; expires %s", mdText(f.Waiver.Justification), mdText(f.Waiver.Expires))
			}
			if f.Remediation != "" {
				fmt.Fprintf(w, "<br>Remediation: %s", mdText(f.Remediation))
			}
			fmt.Fprint(w, "\n")
		}
	}
	list("Violations", d.Violations)
	list("Warnings", d.Warnings)
	list("Waived violations (not counted, not passed)", d.Waived)
}

// statusLabel is a status in bold when it fails the default gate, so the
// table reads without colour.
func statusLabel(s string) string {
	if statusPasses(s) {
		return s
	}
	return "**" + mdText(s) + "**"
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

// mdClean drops the bidirectional controls of s, which would make a viewer
// show a host name as another, and turns its other control characters but
// line breaks (escape sequences, tabs, C1 controls) into spaces.
func mdClean(s string) string {
	if strings.IndexFunc(s, isUnsafeRune) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r':
			return r
		case isBidiControl(r):
			return -1
		case unicode.IsControl(r):
			return ' '
		}
		return r
	}, s)
}

// mdCell escapes s for a table cell, where an empty cell reads "-".
func mdCell(s string) string {
	if s == "" {
		return "-"
	}
	return mdText(s)
}

// mdCode is s as inline code, or escaped text when s holds a backtick or a
// line break that a code span cannot.
func mdCode(s string) string {
	s = mdClean(s)
	if s == "" || strings.ContainsAny(s, "`|\r\n") {
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

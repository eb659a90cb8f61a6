package report

import (
	"bufio"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/termtext"
)

func init() {
	register("table", func() Renderer { return tableRenderer{width: 80, spoolLimit: 4 << 20} })
}

// tableRenderer is the default format, for a terminal of width columns:
// the legend, then one row per host (status, host, OS, transport and the
// number of violations, warnings and waived violations), then the
// findings of each host, then the warnings that several hosts share,
// printed once with their hosts, then the summary. Every line fits width
// columns: a host name too long for its column is cut there with an
// termtext.Ellipsis and shown whole, wrapped, above its findings; long text wraps.
// Text from facts and policies goes through [termtext.Clean], so a message
// cannot move the cursor, recolour the terminal or read in another order
// than it holds.
//
// The table needs the widest host name before its first row, and the
// shared warnings before the findings, so the decisions are read once and
// spooled (see [fleet]) before anything is written.
type tableRenderer struct{ width, spoolLimit int }

// The widest a table column other than the host's gets; longer text is cut.
const (
	tableStatusMax    = 18 // len("enabled_ineligible")
	tableTransportMax = 9  // len("TRANSPORT")
	tableOSMax        = 10
	tableGap          = "  "
)

// tableLayout is the width of each column of the host table.
type tableLayout struct{ status, host, transport, os, viol, warn, waived int }

// Render implements [Renderer].
func (t tableRenderer) Render(w io.Writer, h Header, decisions iter.Seq2[contract.Decision, error]) error {
	f, err := readFleet(decisions, t.spoolLimit)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(w, 64<<10)
	// The findings follow the table: they go to a spool of their own
	// while the rows are written, in the same pass.
	details := &spool{limit: t.spoolLimit}
	defer details.Close()
	dw := bufio.NewWriter(details)
	out := bw
	line := func(first, indent, text string) {
		for _, l := range termtext.Wrap(first, indent, text, t.width) {
			out.WriteString(l)
			out.WriteByte('\n')
		}
	}
	if h.Title != "" {
		line("", "  ", fmt.Sprintf("factorgate check: %s (%s)", tableText(reportTitle(h.Title)), h.GeneratedAt.UTC().Format("2006-01-02 15:04 UTC")))
		bw.WriteString("\n")
	}
	bw.WriteString("x violation   ! warning   ~ waived (shown, not counted)\n\n")

	lay := t.layout(f)
	t.tableRow(bw, lay, "STATUS", "HOST", "OS", "TRANSPORT", "x", "!", "~")
	for d, err := range f.Each() {
		if err != nil {
			bw.Flush()
			return err
		}
		host := tableText(d.Host)
		t.tableRow(bw, lay, tableText(string(d.Status)), termtext.Truncate(host, lay.host), orDash(tableText(ptrText(d.OS))),
			orDash(tableText(ptrText(d.Transport))), fmt.Sprint(len(d.Violations)), fmt.Sprint(len(d.Warnings)), fmt.Sprint(len(d.Waived)))

		// The findings of the host, under its whole name; a host whose
		// name the table cut is listed even with none.
		own := f.ownWarnings(d)
		if len(d.Violations)+len(own)+len(d.Waived) == 0 && termtext.Width(host) <= lay.host {
			continue
		}
		out = dw
		dw.WriteString("\n")
		line("", "  ", host+" ("+tableText(string(d.Status))+")")
		for _, v := range d.Violations {
			t.finding(line, "x", v)
		}
		for _, v := range own {
			t.finding(line, "!", v)
		}
		for _, v := range d.Waived {
			line("  ~ ", "    ", tableText(v.Check)+": "+tableText(v.Message))
			if v.Waiver != nil {
				line("    waived until ", "      ", tableText(v.Waiver.Expires)+": "+tableText(v.Waiver.Justification))
			}
		}
		if len(d.Violations)+len(own)+len(d.Waived) == 0 {
			line("  ", "  ", "no findings")
		}
		out = bw
	}
	if f.N == 0 {
		bw.WriteString("(no hosts)\n")
	}
	if err := dw.Flush(); err != nil {
		return fmt.Errorf("spool the findings: %w", err)
	}
	if err := details.CopyTo(bw); err != nil {
		return err
	}

	if len(f.Shared) > 0 {
		bw.WriteString("\nWarnings on several hosts, each printed once:\n")
		for _, s := range f.Shared {
			bw.WriteString("\n")
			t.finding(line, "!", s.Finding)
			line("    ", "      ", s.HostsText()+": "+hostList(s.Hosts, tableText))
		}
	}

	bw.WriteString("\n")
	line("", "  ", tableSummary(h.Summary, f.N))
	if f.Waived > 0 {
		line("", "  ", waivedHostsText(f.Waived)+" (~: shown, not counted, not passed)")
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
		line("", "  ", fmt.Sprintf("not scanned (HSS lists them, the inventory lacks them): %s", strings.Join(names, ", ")))
	}
	return bw.Flush()
}

// layout sizes the columns to their widest text, the host's to what the
// others leave of the width.
func (t tableRenderer) layout(f *fleet) tableLayout {
	digits := func(n int) int { return len(fmt.Sprint(n)) }
	lay := tableLayout{
		status:    min(max(len("STATUS"), f.statusW), tableStatusMax),
		transport: min(max(len("TRANSPORT"), f.transportW), tableTransportMax),
		os:        min(max(len("OS"), f.osW), tableOSMax),
		viol:      digits(f.maxViolations),
		warn:      digits(f.maxWarnings),
		waived:    digits(f.maxWaived),
	}
	rest := lay.status + lay.transport + lay.os + lay.viol + lay.warn + lay.waived + 6*len(tableGap)
	lay.host = min(max(len("HOST"), f.hostW), max(t.width-rest, len("HOST")))
	return lay
}

// tableRow writes one row of the host table, each text cut to its column.
func (t tableRenderer) tableRow(w *bufio.Writer, lay tableLayout, status, host, os, transport, viol, warn, waived string) {
	cell := func(s string, n int) string { return termtext.Pad(termtext.Truncate(s, n), n) }
	right := func(s string, n int) string { return strings.Repeat(" ", max(n-termtext.Width(s), 0)) + s }
	w.WriteString(cell(status, lay.status) + tableGap + cell(host, lay.host) + tableGap + cell(os, lay.os) + tableGap +
		cell(transport, lay.transport) + tableGap + right(viol, lay.viol) + tableGap + right(warn, lay.warn) + tableGap + right(waived, lay.waived) + "\n")
}

// finding writes one finding and its fix, marked mark.
func (t tableRenderer) finding(line func(first, indent, text string), mark string, f contract.Finding) {
	line("  "+mark+" ", "    ", tableText(f.Check)+": "+tableText(f.Message))
	line("    fix: ", "         ", tableText(f.Remediation))
}

// orDash is s, or "-" when s is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// tableSummary counts hosts by status in the order of [contract.Statuses].
func tableSummary(sum map[contract.Status]int, n int) string {
	var parts []string
	for _, s := range contract.Statuses {
		parts = append(parts, fmt.Sprintf("%d %s", sum[s], s))
	}
	for s, c := range sum {
		if !slices.Contains(contract.Statuses, s) && c > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c, tableText(string(s))))
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

// tableText makes text safe for one line of a terminal (see [termtext.Clean]).
func tableText(s string) string { return termtext.Clean(s) }

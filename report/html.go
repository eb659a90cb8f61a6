package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"iter"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/termtext"
)

func init() { register("html", func() Renderer { return htmlRenderer{spoolLimit: 4 << 20} }) }

// The html report's template, style and script, embedded so the binary
// writes a self-contained page.
var (
	//go:embed html.tmpl
	htmlTemplateText string
	//go:embed html.css
	htmlCSS string
	//go:embed html.js
	htmlJS string
)

var htmlTemplate = template.Must(template.New("html").Funcs(template.FuncMap{
	// waivedLabel is the label of the waived-hosts card, after its count.
	"waivedLabel": func(n int) string { return strings.TrimPrefix(waivedHostsText(n), strconv.Itoa(n)+" ") },
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict: odd number of arguments")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
}).Parse(htmlTemplateText))

// htmlRenderer writes one self-contained HTML page for the auditor: it
// loads nothing (inline CSS and JS, no fonts, no CDN) so it reads offline
// and can be attached to a ticket. It shows the summary as counts and as an
// SVG bar chart drawn here, then a host table that can be filtered (text
// and status) and sorted (column headings) when scripts run. Each host is
// a row (host, address, transport, OS, status, counts) and, when it has
// findings, a second row as wide as the table with a details element:
// violations, warnings and waived violations, the latter with
// justification and expiry, never as passed. Host names never break: a
// table wider than the window scrolls sideways. A card after the table
// counts the hosts with waived violations, and the warnings that several
// hosts share are listed once, with their hosts, after it.
// Printing expands every details element and hides the controls.
//
// Every value passes through html/template, so markup in a host name or a
// message is shown as text, and through [termtext.Clean] first, so no terminal
// escape, control or bidirectional control reaches the page. The decisions
// are read once and spooled first (see [fleet]), to know the shared
// warnings before the rows.
type htmlRenderer struct{ spoolLimit int }

type htmlHead struct {
	Title, Generated, GeneratedISO string
	Total                          int
	// Empty is set once no host row was written.
	Empty bool
	// WaivedHosts, set once the rows are written, counts the hosts with
	// waived violations.
	WaivedHosts int
	NotScanned  []contract.CloudHost
	// Shared are the warnings several hosts share.
	Shared   []htmlShared
	Bars     []htmlBar
	Chart    htmlChart
	Statuses []contract.Status
	CSS      template.CSS
	JS       template.JS
}

type htmlChart struct{ Width, Height, LabelX, BarX, BarH int }

type htmlBar struct {
	Class, Label                   string
	Count, Y, TextY, Width, CountX int
}

// htmlShared is a warning several hosts share, and those hosts.
type htmlShared struct {
	htmlFinding
	HostsText string
	Hosts     []string
}

type htmlRow struct {
	D contract.Decision
	// Address, Transport and OS are "-" when unknown.
	Address, Transport, OS, Search string
	StatusRank                     int
	Findings                       bool
	SummaryText                    string
	// Warnings are the host's own; SharedWarnings counts those that
	// other hosts share, listed after the table.
	Violations, Warnings []htmlFinding
	Waived               []htmlFinding
	SharedWarnings       int
}

type htmlFinding struct {
	contract.Finding
	// Source is the page a remediation names, split off its text.
	Source string
}

// Render implements [Renderer].
func (r htmlRenderer) Render(w io.Writer, h Header, decisions iter.Seq2[contract.Decision, error]) error {
	f, err := readFleet(decisions, r.spoolLimit)
	if err != nil {
		return err
	}
	defer f.Close()
	head := htmlHeadFor(h)
	head.Empty, head.WaivedHosts = f.N == 0, f.Waived
	for _, s := range f.Shared {
		c := cleanDecision(contract.Decision{Host: "-", Warnings: []contract.Finding{s.Finding}})
		hosts := make([]string, len(s.Hosts))
		for i, h := range s.Hosts {
			hosts[i] = termtext.Clean(h)
		}
		head.Shared = append(head.Shared, htmlShared{htmlFinding: htmlFindingOf(c.Warnings[0]), HostsText: s.HostsText(), Hosts: hosts})
	}
	if err := htmlTemplate.ExecuteTemplate(w, "head", head); err != nil {
		return err
	}
	for d, err := range f.Each() {
		if err != nil {
			return err
		}
		if err := htmlTemplate.ExecuteTemplate(w, "row", htmlRowFor(d, f.isShared)); err != nil {
			return err
		}
	}
	return htmlTemplate.ExecuteTemplate(w, "foot", head)
}

// htmlHeadFor lays out the page header and the chart.
func htmlHeadFor(h Header) htmlHead {
	title := "factorgate compliance report"
	if h.Title != "" {
		title += ": " + termtext.Clean(reportTitle(h.Title))
	}
	var notScanned []contract.CloudHost
	for _, c := range h.NotScanned {
		for _, p := range []*string{&c.HostID, &c.HostName, &c.PrivateIP, &c.PublicIP, &c.OSType, &c.AgentStatus, &c.ProtectStatus} {
			*p = termtext.Clean(*p)
		}
		notScanned = append(notScanned, c)
	}
	head := htmlHead{
		Title: title, Total: h.Total, NotScanned: notScanned,
		Generated: h.GeneratedAt.UTC().Format("2006-01-02 15:04:05 UTC"), GeneratedISO: h.GeneratedAt.UTC().Format("2006-01-02T15:04:05Z"),
		Statuses: contract.Statuses,
		CSS:      template.CSS(htmlCSS),
		JS:       template.JS(htmlJS),
		Chart:    htmlChart{Width: 640, LabelX: 170, BarX: 180, BarH: 22},
	}
	type entry struct {
		class, label string
		n            int
	}
	var es []entry
	for _, s := range contract.Statuses {
		es = append(es, entry{string(s), string(s), h.Summary[s]})
	}
	if len(h.NotScanned) > 0 {
		es = append(es, entry{"not_scanned", "not scanned", len(h.NotScanned)})
	}
	max := 1
	for _, e := range es {
		max = maxInt(max, e.n)
	}
	const rowH, barSpan = 30, 400
	for i, e := range es {
		y := 6 + i*rowH
		width := e.n * barSpan / max
		if e.n > 0 {
			width = maxInt(width, 2)
		}
		head.Bars = append(head.Bars, htmlBar{
			Class: e.class, Label: e.label, Count: e.n,
			Y: y, TextY: y + 16, Width: width, CountX: head.Chart.BarX + width + 8,
		})
	}
	head.Chart.Height = 12 + len(es)*rowH
	return head
}

// htmlRowFor lays out one host row. The warnings shared reports as shared
// are listed once after the table: the row counts them, finds them in the
// filter and links to them, but does not repeat them.
func htmlRowFor(d contract.Decision, shared func(contract.Finding) bool) htmlRow {
	var own []contract.Finding
	n := 0
	for _, w := range d.Warnings {
		if shared != nil && shared(w) {
			n++
			continue
		}
		own = append(own, w)
	}
	c := cleanDecision(d)
	r := htmlRow{D: c, Address: orDash(ptrText(c.Address)), Transport: orDash(ptrText(c.Transport)), OS: orDash(ptrText(c.OS)),
		StatusRank: statusRank(c.Status), SharedWarnings: n}
	search := []string{c.Host, ptrText(c.Address), ptrText(c.Transport), ptrText(c.OS), string(c.Status)}
	for _, w := range c.Warnings {
		search = append(search, w.Check, w.Message)
	}
	conv := func(fs []contract.Finding, find bool) []htmlFinding {
		out := make([]htmlFinding, 0, len(fs))
		for _, f := range fs {
			if find {
				search = append(search, f.Check, f.Message)
			}
			out = append(out, htmlFindingOf(f))
		}
		return out
	}
	r.Violations, r.Warnings, r.Waived = conv(c.Violations, true), conv(cleanDecision(contract.Decision{Warnings: own}).Warnings, false), conv(c.Waived, true)
	r.Findings = len(c.Violations)+len(c.Warnings)+len(c.Waived) > 0
	var parts []string
	for _, p := range []struct {
		n         int
		one, many string
	}{{len(d.Violations), "violation", "violations"}, {len(d.Warnings), "warning", "warnings"}, {len(d.Waived), "waived", "waived"}} {
		switch {
		case p.n == 1:
			parts = append(parts, "1 "+p.one)
		case p.n > 1:
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.many))
		}
	}
	r.SummaryText = strings.Join(parts, ", ")
	r.Search = strings.ToLower(strings.Join(search, " "))
	return r
}

// htmlFindingOf is f with the "(source: PAGE)" of its remediation split off.
func htmlFindingOf(f contract.Finding) htmlFinding {
	hf := htmlFinding{Finding: f}
	if m := remediationSource.FindStringSubmatchIndex(f.Remediation); m != nil {
		hf.Source = f.Remediation[m[2]:m[3]]
		hf.Remediation = strings.TrimSpace(f.Remediation[:m[0]])
	}
	return hf
}

// remediationSource finds the "(source: PAGE)" a policy ends a remediation
// with.
var remediationSource = regexp.MustCompile(`\(source:\s*([^()]+)\)\s*$`)

// statusRank orders statuses as reports list them, for sorting.
func statusRank(s contract.Status) int {
	if i := slices.Index(contract.Statuses, s); i >= 0 {
		return i
	}
	return len(contract.Statuses)
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// cleanDecision returns d with its text cleaned by [termtext.Clean] (line
// breaks kept in messages and remediations, which the page shows), so that
// a host cannot make the report display text other than what it holds.
// html/template escapes the rest.
func cleanDecision(d contract.Decision) contract.Decision {
	line := func(s string) string { return termtext.Clean(s) }
	text := func(s string) string { return termtext.CleanLines(s) }
	linePtr := func(p *string) *string {
		if p == nil {
			return nil
		}
		v := line(*p)
		return &v
	}
	cleanAll := func(fs []contract.Finding) []contract.Finding {
		out := make([]contract.Finding, len(fs))
		for i, f := range fs {
			f.Check, f.Message, f.Remediation, f.Severity = line(f.Check), text(f.Message), text(f.Remediation), line(f.Severity)
			if f.Waiver != nil {
				w := *f.Waiver
				w.Justification, w.Expires = text(w.Justification), line(w.Expires)
				f.Waiver = &w
			}
			out[i] = f
		}
		return out
	}
	d.Host, d.Status, d.Address, d.OS, d.Transport = line(d.Host), contract.Status(line(string(d.Status))), linePtr(d.Address), linePtr(d.OS), linePtr(d.Transport)
	d.Violations, d.Warnings, d.Waived = cleanAll(d.Violations), cleanAll(d.Warnings), cleanAll(d.Waived)
	return d
}

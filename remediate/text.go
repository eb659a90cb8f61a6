package remediate

import (
	"fmt"
	"io"
	"strings"

	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/termtext"
)

// TextWidth is the width in columns that [Plan.Render] and [Result.Render]
// keep to, whatever the length of host names, ids and messages.
const TextWidth = 80

// nameColumn is the widest the host name column grows; a longer name takes
// a line of its own.
const nameColumn = 28

// Render prints the plan for a person: the changes, the skipped hosts with
// their reasons, the warnings and the counts, in at most [TextWidth]
// columns. Text that came from hosts or the API is stripped of terminal
// controls.
func (p *Plan) Render(w io.Writer) error {
	var b strings.Builder
	verb, mark := "turn 2FA ON", "+"
	if p.Action == Disable {
		verb, mark = "turn 2FA OFF", "-"
	}
	how := ""
	if p.Action == Enable {
		how = " (auth type " + p.AuthType
		if p.AuthType == cloud.AuthSMS {
			how += ", topic " + p.TopicURN
		}
		how += ")"
	}
	if len(p.Changes) == 0 {
		writeWrapped(&b, fmt.Sprintf("No changes: no host to %s.", strings.ToLower(verb)), "", "")
	} else {
		writeWrapped(&b, fmt.Sprintf("factorgate will %s%s on %d %s:", verb, how, len(p.Changes), plural(len(p.Changes), "host", "hosts")), "", "")
		b.WriteString("\n")
		rows := make([]row, len(p.Changes))
		for i, c := range p.Changes {
			rows[i] = row{name: c.Host, paras: []string{"hss host " + c.HostID}}
			if c.Note != "" {
				rows[i].paras = append(rows[i].paras, "("+c.Note+")")
			}
		}
		writeRows(&b, mark, rows)
	}
	if len(p.Skipped) > 0 {
		fmt.Fprintf(&b, "\nLeft alone (%d):\n\n", len(p.Skipped))
		rows := make([]row, len(p.Skipped))
		for i, s := range p.Skipped {
			rows[i] = row{name: s.Host, paras: []string{s.Reason}}
		}
		writeRows(&b, "=", rows)
	}
	if len(p.Warnings) > 0 {
		b.WriteString("\nWarnings:\n\n")
		for _, wn := range p.Warnings {
			writeWrapped(&b, wn, "  ! ", "    ")
		}
	}
	fmt.Fprintf(&b, "\nPlan: %d to %s, %d left alone.\n", len(p.Changes), p.Action, len(p.Skipped))
	_, err := io.WriteString(w, b.String())
	return err
}

// Render prints the result for a person, one host after the other with its
// outcome, HSS host id, request id and what went wrong, then the counts,
// in at most [TextWidth] columns.
func (r *Result) Render(w io.Writer) error {
	var b strings.Builder
	counts := map[Outcome]int{}
	rows := make([]row, len(r.Hosts))
	for i, h := range r.Hosts {
		rid := h.RequestID
		if rid == "" {
			rid = "none"
		}
		rows[i] = row{name: h.Host, paras: []string{h.Outcome.String() + "; hss host " + h.HostID, "request " + rid}}
		if h.Error != "" {
			rows[i].paras = append(rows[i].paras, h.Error)
		}
		if h.Note != "" {
			rows[i].paras = append(rows[i].paras, h.Note)
		}
		counts[h.Outcome]++
	}
	writeRows(&b, "", rows)
	var parts []string
	for _, o := range outcomes {
		if counts[o] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[o], o))
		}
	}
	if len(parts) == 0 {
		parts = []string{"no hosts"}
	}
	action := string(r.Action)
	if action != "" {
		action = strings.ToUpper(action[:1]) + action[1:]
	}
	writeWrapped(&b, fmt.Sprintf("\n%s: %s.", action, strings.Join(parts, ", ")), "", "")
	_, err := io.WriteString(w, b.String())
	return err
}

// row is one host of a list: its name and paragraphs of detail.
type row struct {
	name  string
	paras []string
}

// writeRows writes rows as "  M NAME  DETAIL", the detail in a column of
// its own wrapped to [TextWidth]; a name too long for its column takes a
// line of its own, and its detail starts on the next.
func writeRows(b *strings.Builder, mark string, rows []row) {
	lead := "  "
	if mark != "" {
		lead = "  " + mark + " "
	}
	nw := 0
	for _, r := range rows {
		nw = max(nw, termtext.Width(termtext.Clean(r.name)))
	}
	nw = min(nw, nameColumn)
	indent := strings.Repeat(" ", len(lead)+nw+2)
	for _, r := range rows {
		name := termtext.Clean(r.name)
		first := ""
		if w := termtext.Width(name); w <= nw {
			first = lead + name + strings.Repeat(" ", nw-w+2)
		} else {
			writeWrapped(b, name, lead, strings.Repeat(" ", len(lead)))
			first = indent
		}
		for i, p := range r.paras {
			if i > 0 {
				first = indent
			}
			writeWrapped(b, p, first, indent)
		}
	}
}

// writeWrapped writes text (stripped of controls) wrapped to [TextWidth]:
// the first line after first, the others after rest. Words longer than a
// line are cut.
func writeWrapped(b *strings.Builder, text, first, rest string) {
	if strings.HasPrefix(text, "\n") {
		b.WriteString("\n")
		text = text[1:]
	}
	for i, line := range termtext.Wrap("", "", termtext.Clean(text), max(TextWidth-termtext.Width(rest), 20)) {
		if i == 0 {
			b.WriteString(first)
		} else {
			b.WriteString(rest)
		}
		b.WriteString(line)
		b.WriteString("\n")
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

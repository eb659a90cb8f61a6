package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/factorgate/factorgate/history"
	"github.com/factorgate/factorgate/termtext"
)

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "show drift between two runs",
		UsageText: "factorgate diff [RUN_A [RUN_B]] [--format table|json] [--fail-on-drift]",
		Description: "Shows the hosts whose status changed from RUN_A to RUN_B, the violations that\n" +
			"appeared, changed (the same check failing with another message) and were fixed,\n" +
			"hosts added and removed, and the drift events:\n" +
			"a host that entered enabled_ineligible (entered_enabled_ineligible), fell from\n" +
			"eligible (fell_from_eligible) or was eligible, enabled or enabled_ineligible and\n" +
			"is gone from RUN_B (disappeared). A RUN is a number, latest (the run that finished\n" +
			"ok and started last, of any source) or previous (the one that started before it);\n" +
			"RUN_B defaults to latest, RUN_A to previous. A host unreachable in RUN_B has no\n" +
			"violation reported fixed: nothing is known of it.",
		Flags: []cli.Flag{
			historyFlag(),
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table or json"},
			&cli.BoolFlag{Name: "fail-on-drift", Usage: "exit 1 when there is a drift event"},
		},
		Action: diffAction,
	}
}

func diffAction(c *cli.Context) error {
	args, err := interspersedArgs(c)
	if err != nil {
		return err
	}
	refs := []string{"previous", "latest"}
	switch len(args) {
	case 0:
	case 1:
		refs[0] = args[0]
	case 2:
		refs[0], refs[1] = args[0], args[1]
	default:
		return usageErrorf("diff: want at most two runs, got %d arguments", len(args))
	}
	format := c.String("format")
	if format != "table" && format != "json" {
		return usageErrorf("diff: --format %q: want table or json", format)
	}
	s, err := openHistoryExisting(c)
	if err != nil {
		return err
	}
	defer s.Close()
	var runs [2]*history.Run
	for i, ref := range refs {
		id, err := resolveRun(c.Context, s, ref)
		if err != nil {
			return err
		}
		if runs[i], err = s.GetRun(c.Context, id); err != nil {
			return err
		}
		if err := completeRun(s, runs[i]); err != nil {
			return err
		}
	}
	d := history.Diff(runs[0], runs[1])
	w := c.App.Writer
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(d)
	} else {
		err = writeDrift(w, runs[0], runs[1], d)
	}
	if err != nil {
		return err
	}
	if c.Bool("fail-on-drift") && len(d.Events) > 0 {
		return &gateError{msg: fmt.Sprintf("%d drift event(s) from run %d to run %d", len(d.Events), runs[0].ID, runs[1].ID)}
	}
	return nil
}

// driftEventTitles are drift events as people read them.
var driftEventTitles = map[string]string{
	history.EventEnteredEnabledIneligible: "entered enabled_ineligible",
	history.EventFellFromEligible:         "fell from eligible",
	history.EventDisappeared:              "disappeared",
}

// writeDrift writes a drift as text: one section per kind of change, only
// the sections that have something, one entry per host and finding. Every
// line fits 80 columns: a long host name goes on a line of its own, and
// text wraps.
func writeDrift(w io.Writer, a, b *history.Run, d history.Drift) error {
	head := fmt.Sprintf("Drift from run %d (%s) to run %d (%s)", a.ID, runStartTime(a), b.ID, runStartTime(b))
	for _, l := range termtext.Wrap("", "  ", head, driftWidth) {
		fmt.Fprintln(w, l)
	}
	if d.Empty() {
		_, err := fmt.Fprintln(w, "\nNo change.")
		return err
	}
	section := func(title string, n int) bool {
		if n > 0 {
			fmt.Fprintf(w, "\n%s (%d):\n", title, n)
		}
		return n > 0
	}
	entry := func(host, detail string) {
		lead := "  " + terminalText(host) + ": "
		if termtext.Width(lead) > driftHostColumns {
			for _, l := range termtext.Wrap("  ", "  ", terminalText(host)+":", driftWidth) {
				fmt.Fprintln(w, l)
			}
			lead = "    "
		}
		for _, l := range termtext.Wrap(lead, "    ", terminalText(detail), driftWidth) {
			fmt.Fprintln(w, l)
		}
	}
	if section("Drift events", len(d.Events)) {
		for _, e := range d.Events {
			var why []string
			for _, v := range e.Violations {
				why = append(why, v.Check)
			}
			detail := driftEventTitles[e.Kind]
			switch {
			case e.From != "" && e.To != "":
				detail += ", " + string(e.From) + " -> " + string(e.To)
			case e.From != "":
				detail += " (was " + string(e.From) + ")"
			}
			if len(why) > 0 {
				detail += " (" + strings.Join(why, ", ") + ")"
			}
			entry(e.Host, detail)
		}
	}
	if section("Status changes", len(d.Changed)) {
		for _, ch := range d.Changed {
			entry(ch.Host, string(ch.From)+" -> "+string(ch.To))
		}
	}
	findings := func(title string, fs []history.HostFinding) {
		if section(title, len(fs)) {
			for _, f := range fs {
				entry(f.Host, f.Check+": "+dashIfEmpty(f.Message))
			}
		}
	}
	findings("Violations that appeared", d.Appeared)
	if section("Violations that changed", len(d.ChangedViolations)) {
		for _, c := range d.ChangedViolations {
			entry(c.Host, fmt.Sprintf("%s: was: %s; now: %s", c.Check, dashIfEmpty(c.From.Message), dashIfEmpty(c.To.Message)))
		}
	}
	findings("Violations fixed", d.Fixed)
	findings("Violations now waived", d.Waived)
	hosts := func(title string, hs []history.HostStatus) {
		if section(title, len(hs)) {
			for _, h := range hs {
				entry(h.Host, string(h.Status))
			}
		}
	}
	hosts("Hosts added", d.Added)
	hosts("Hosts removed", d.Removed)
	return nil
}

// The text of diff fits driftWidth columns; a host name longer than
// driftHostColumns goes on a line of its own.
const (
	driftWidth       = 80
	driftHostColumns = 40
)

func runStartTime(r *history.Run) string { return r.StartedAt.Format(time.RFC3339) }

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/urfave/cli/v2"

	"github.com/factorgate/factorgate/history"
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
// the sections that have something.
func writeDrift(w io.Writer, a, b *history.Run, d history.Drift) error {
	fmt.Fprintf(w, "Drift from run %d (%s) to run %d (%s)\n", a.ID, runStartTime(a), b.ID, runStartTime(b))
	if d.Empty() {
		_, err := fmt.Fprintln(w, "\nNo change.")
		return err
	}
	section := func(title string, n int, header string, rows func(tw *tabwriter.Writer)) {
		if n == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s (%d):\n", title, n)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  "+header)
		rows(tw)
		tw.Flush()
	}
	section("Drift events", len(d.Events), "HOST\tEVENT\tFROM\tTO\tWHY", func(tw *tabwriter.Writer) {
		for _, e := range d.Events {
			var why []string
			for _, v := range e.Violations {
				why = append(why, v.Check)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", termText(e.Host), driftEventTitles[e.Kind], dashIfEmpty(termText(string(e.From))), dashIfEmpty(termText(string(e.To))), dashIfEmpty(termText(strings.Join(why, ", "))))
		}
	})
	section("Status changes", len(d.Changed), "HOST\tFROM\tTO", func(tw *tabwriter.Writer) {
		for _, ch := range d.Changed {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", termText(ch.Host), termText(string(ch.From)), termText(string(ch.To)))
		}
	})
	findings := func(title string, fs []history.HostFinding) {
		section(title, len(fs), "HOST\tCHECK\tMESSAGE", func(tw *tabwriter.Writer) {
			for _, f := range fs {
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", termText(f.Host), termText(f.Check), dashIfEmpty(termText(f.Message)))
			}
		})
	}
	findings("Violations that appeared", d.Appeared)
	section("Violations that changed", len(d.ChangedViolations), "HOST\tCHECK\tWAS\tNOW", func(tw *tabwriter.Writer) {
		for _, c := range d.ChangedViolations {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", termText(c.Host), termText(c.Check), dashIfEmpty(termText(c.From.Message)), dashIfEmpty(termText(c.To.Message)))
		}
	})
	findings("Violations fixed", d.Fixed)
	findings("Violations now waived", d.Waived)
	hosts := func(title string, hs []history.HostStatus) {
		section(title, len(hs), "HOST\tSTATUS", func(tw *tabwriter.Writer) {
			for _, h := range hs {
				fmt.Fprintf(tw, "  %s\t%s\n", termText(h.Host), termText(string(h.Status)))
			}
		})
	}
	hosts("Hosts added", d.Added)
	hosts("Hosts removed", d.Removed)
	return nil
}

func runStartTime(r *history.Run) string { return r.StartedAt.Format(time.RFC3339) }

// termText makes text from a host safe for one cell of a terminal table:
// control characters (escape sequences, line breaks, tabs, C1 controls)
// become spaces, runs of spaces one, and bidirectional controls, which
// would show the text in another order than it holds, are dropped.
func termText(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f', r == '\u061c':
			return -1
		case unicode.IsControl(r):
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

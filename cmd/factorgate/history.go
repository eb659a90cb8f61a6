package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/history"
	"github.com/factorgate/factorgate/report"
	"github.com/factorgate/factorgate/scanner/inventory"
	"github.com/factorgate/factorgate/server"
)

// envDB names the history database when --db is not given.
const envDB = "FACTORGATE_DB"

// historyFlag is the --db flag: where runs are kept. Verbs that record or
// read runs (check --record, serve, history, diff) carry it.
func historyFlag() cli.Flag {
	return &cli.StringFlag{
		Name:        "db",
		Usage:       "history of runs: a file path, sqlite:PATH, or a postgres:// URL (keep its password in PGPASSWORD or ~/.pgpass); default $" + envDB,
		DefaultText: "$XDG_STATE_HOME/factorgate/history.db",
	}
}

// historyDSN returns the history the user named: --db on the command line
// (on this verb or a parent), else $FACTORGATE_DB, else the file in the XDG
// state directory, whose directory it creates when create is set.
// dsnHasPassword reports whether a database URL given on the command line
// carries a password (user:password@, or a password parameter).
func dsnHasPassword(dsn string) bool {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return false
	}
	if _, ok := u.User.Password(); ok && u.User != nil {
		return true
	}
	q := u.Query()
	return q.Has("password") || q.Has("sslpassword")
}

func historyDSN(c *cli.Context, create bool) (string, error) {
	for _, cc := range c.Lineage() {
		if slices.Contains(cc.LocalFlagNames(), "db") {
			dsn := cc.String("db")
			if dsnHasPassword(dsn) {
				return "", usageErrorf("--db: the URL holds a password, which any user of this machine can read in the process list: keep it in PGPASSWORD or ~/.pgpass, or give the whole URL in $%s", envDB)
			}
			return dsn, nil
		}
	}
	if v := os.Getenv(envDB); v != "" {
		return v, nil
	}
	state := os.Getenv("XDG_STATE_HOME")
	if state == "" || !filepath.IsAbs(state) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("--db: no history named and no home directory: %v", err)
		}
		state = filepath.Join(home, ".local", "state")
	}
	dir := filepath.Join(state, "factorgate")
	if create {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("--db: %v", err)
		}
	}
	return filepath.Join(dir, "history.db"), nil
}

// openHistory opens the history the flags name for writing, creating it as
// needed. The caller closes it.
func openHistory(c *cli.Context) (*history.Store, error) {
	dsn, err := historyDSN(c, true)
	if err != nil {
		return nil, err
	}
	return history.Open(c.Context, dsn)
}

// openHistoryExisting opens the history for reading: a history file that does
// not exist is an error rather than a new empty one.
func openHistoryExisting(c *cli.Context) (*history.Store, error) {
	dsn, err := historyDSN(c, false)
	if err != nil {
		return nil, err
	}
	return history.OpenExisting(c.Context, dsn)
}

// resolveRun turns a run as the user typed it into an ID, with an error
// that says where to look.
func resolveRun(ctx context.Context, s *history.Store, ref string) (history.RunID, error) {
	id, err := s.Resolve(ctx, ref)
	if errors.Is(err, history.ErrNotFound) {
		what := "run " + strings.TrimPrefix(ref, "#")
		switch strings.ToLower(ref) {
		case "latest":
			what = "finished run"
		case "previous":
			what = "run before the latest finished one"
		}
		return 0, fmt.Errorf("no %s in %s (factorgate history list shows the runs)", what, s.Name())
	}
	return id, err
}

// interspersedArgs returns the arguments of c, applying the flags that follow them
// (urfave/cli stops at the first argument: `history show 3 --format json`
// would otherwise take "--format" as a run).
func interspersedArgs(c *cli.Context) ([]string, error) {
	var out []string
	args := c.Args().Slice()
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i+1:]...), nil
		}
		if len(a) < 2 || a[0] != '-' {
			out = append(out, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := findCommandFlag(c.Command.Flags, name)
		if f == nil {
			return nil, usageErrorf("%s: flag provided but not defined: %s", c.Command.Name, a)
		}
		if !hasValue {
			if _, isBool := f.(*cli.BoolFlag); isBool {
				value = "true"
			} else if i+1 < len(args) {
				i++
				value = args[i]
			} else {
				return nil, usageErrorf("%s: flag needs an argument: %s", c.Command.Name, a)
			}
		}
		if err := c.Set(f.Names()[0], value); err != nil {
			return nil, usageErrorf("%s: %s: %v", c.Command.Name, a, err)
		}
	}
	return out, nil
}

func findCommandFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}

func historyCommand() *cli.Command {
	listFlags := func() []cli.Flag {
		return []cli.Flag{
			historyFlag(),
			&cli.IntFlag{Name: "limit", Aliases: []string{"n"}, Value: 20, Usage: "show at most `N` runs, newest first (0: all)"},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table or json"},
		}
	}
	return &cli.Command{
		Name:      "history",
		Usage:     "list and show past runs",
		UsageText: "factorgate history [--db DSN] [list|show|import] ...",
		Description: "Runs are recorded by check --record and by serve. Each run keeps the facts and\n" +
			"decisions of every host, so any report format can be rendered from it later.",
		Flags:  listFlags(),
		Action: historyList,
		Subcommands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "list runs: id, start, status, hosts of each status (ELIG eligible, ENAB enabled, INEL ineligible, EN-IN enabled_ineligible, UNRE unreachable), duration, inventory",
				UsageText: "factorgate history list [--limit N] [--format table|json]",
				Flags:     listFlags(),
				Action:    historyList,
			},
			{
				Name:      "show",
				Usage:     "render a stored run in any report format",
				UsageText: "factorgate history show RUN [--format F] [-o FILE]   (RUN: a number, latest or previous; by start time)",
				Flags: []cli.Flag{
					historyFlag(),
					&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "report format: " + strings.Join(report.Formats(), ", ")},
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of stdout"},
					&cli.BoolFlag{Name: "facts", Usage: "write the run's stored facts as JSON lines (for check --facts) instead of a report"},
				},
				Action: historyShow,
			},
			{
				Name:      "prune",
				Usage:     "delete old runs (the newest finished run, and serve's newest, are always kept)",
				UsageText: "factorgate history prune --older-than 90d",
				Flags: []cli.Flag{
					historyFlag(),
					&cli.StringFlag{Name: "older-than", Required: true, Usage: "delete runs that started more than `AGE` ago: 90d, 2w, 36h"},
				},
				Action: historyPrune,
			},
			{
				Name:      "import",
				Usage:     "record a saved JSON report (check --format json) as a run, or as one shard of a run",
				UsageText: "factorgate history import REPORT.json [--inventory NAME] [--shard K/N --audit-id ID]",
				Flags: []cli.Flag{
					historyFlag(),
					&cli.StringFlag{Name: "inventory", Usage: "the inventory the report was made from, as shown by list"},
					&cli.StringFlag{Name: "shard", Usage: "record the report as shard `K/N` of the run of --audit-id; the run is complete once all N are in"},
					&cli.StringFlag{Name: "audit-id", Usage: "the `ID` all shards of one audit share (a Job's name)"},
				},
				Action: historyImport,
			},
		},
	}
}

func historyList(c *cli.Context) error {
	args, err := interspersedArgs(c)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return usageErrorf("history: unknown subcommand %q (want list, show or import)", args[0])
	}
	format := c.String("format")
	if format != "table" && format != "json" {
		return usageErrorf("history list: --format %q: want table or json", format)
	}
	if c.Int("limit") < 0 {
		return usageErrorf("history list: --limit must be 0 or more")
	}
	s, err := openHistoryExisting(c)
	if err != nil {
		return err
	}
	defer s.Close()
	runs, err := s.ListRuns(c.Context, c.Int("limit"))
	if err != nil {
		return err
	}
	w := c.App.Writer
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(runs)
	}
	if len(runs) == 0 {
		_, err := fmt.Fprintf(w, "No runs in %s yet.\n", s.Name())
		return err
	}
	return writeRunTable(w, runs)
}

// lineWidth is the width text outputs of history keep to.
const lineWidth = 80

// runCountColumns are the count columns of history list: a short heading
// (the command's help says what each means) and the status it counts.
var runCountColumns = []struct {
	head   string
	status contract.Status
}{
	{"ELIG", contract.StatusEligible}, {"ENAB", contract.StatusEnabled}, {"INEL", contract.StatusIneligible},
	{"EN-IN", contract.StatusEnabledIneligible}, {"UNRE", contract.StatusUnreachable},
}

// writeRunTable writes runs as an aligned table within lineWidth columns:
// the inventory, last, is shortened to fit (and left out when it cannot),
// keeping its end, and a run's error follows on a line of its own.
func writeRunTable(w io.Writer, runs []history.Run) error {
	head := []string{"RUN", "STARTED (UTC)", "STATUS"}
	for _, c := range runCountColumns {
		head = append(head, c.head)
	}
	head = append(head, "TOOK", "INVENTORY")
	rows := [][]string{head}
	errs := []string{""}
	for _, r := range runs {
		row := []string{r.ID.String(), r.StartedAt.UTC().Format("2006-01-02 15:04"), runStatusText(r)}
		for _, c := range runCountColumns {
			row = append(row, strconv.Itoa(r.Counts[c.status]))
		}
		dur := "-"
		if r.FinishedAt != nil {
			dur = roundRunDuration(r.Duration).String()
		}
		row = append(row, dur, dashIfEmpty(terminalText(r.Inventory)))
		rows = append(rows, row)
		errs = append(errs, terminalText(r.Error))
	}
	last := len(head) - 1
	widths := make([]int, len(head))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	used := 0
	for _, wd := range widths[:last] {
		used += wd + 2
	}
	invWidth := min(widths[last], lineWidth-used)
	cells := len(head)
	if invWidth < len("INVENTORY") {
		cells = last // no room: --format json lists the inventories
	}
	numeric := func(i int) bool { return i >= 3 && i < 3+len(runCountColumns) }
	var b strings.Builder
	for n, row := range rows {
		b.Reset()
		for i, c := range row[:cells] {
			if i == last {
				b.WriteString(truncateRunesLeft(c, invWidth))
				break
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if numeric(i) && n > 0 {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
			b.WriteString("  ")
		}
		if _, err := fmt.Fprintln(w, strings.TrimRight(b.String(), " ")); err != nil {
			return err
		}
		if errs[n] != "" {
			if _, err := fmt.Fprintln(w, "  error: "+truncateRunes(errs[n], lineWidth-len("  error: "))); err != nil {
				return err
			}
		}
	}
	return nil
}

// runStatusText is a run's status as history list shows it.
func runStatusText(r history.Run) string { return r.StatusText() }

// completeRun fails for a sharded run some of whose shards are not in yet:
// it is shown and compared once they all are.
func completeRun(s *history.Store, run *history.Run) error {
	if run.Partial() {
		return fmt.Errorf("run %d (audit %s) has %s recorded in %s: it is shown once every shard is in (factorgate history list shows the runs)",
			run.ID, terminalText(run.AuditID), run.StatusText(), s.Name())
	}
	return nil
}

func roundRunDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func truncateRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// truncateRunesLeft keeps the end of s, the file name of a path.
func truncateRunesLeft(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return "…" + string(r[len(r)-n+1:])
	}
	return s
}

func historyShow(c *cli.Context) error {
	args, err := interspersedArgs(c)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return usageErrorf("history show: want one RUN (a number, latest or previous), got %d arguments", len(args))
	}
	format := c.String("format")
	var rd report.Renderer
	if !c.Bool("facts") {
		if rd, err = report.New(format); err != nil {
			return usageErrorf("history show: --format: %v", err)
		}
	}
	s, err := openHistoryExisting(c)
	if err != nil {
		return err
	}
	defer s.Close()
	id, err := resolveRun(c.Context, s, args[0])
	if err != nil {
		return err
	}
	run, err := s.GetRun(c.Context, id)
	if err != nil {
		return err
	}
	if err := completeRun(s, run); err != nil {
		return err
	}
	return writeHistoryOutput(c, func(w io.Writer) error {
		if c.Bool("facts") {
			enc := json.NewEncoder(w)
			for _, f := range run.Facts {
				if err := enc.Encode(f); err != nil {
					return err
				}
			}
			return nil
		}
		return renderRun(w, rd, run)
	})
}

// renderRun renders a stored run's report, titled with the run.
func renderRun(w io.Writer, rd report.Renderer, run *history.Run) error {
	return rd.Render(w, report.HeaderOf(run.Report, runTitle(run)), report.Decisions(run.Report.Decisions))
}

// runTitle names a run in report titles.
func runTitle(run *history.Run) string {
	t := fmt.Sprintf("run %d", run.ID)
	if run.Inventory != "" {
		t += " of " + run.Inventory
	}
	if run.Status != history.StatusOK {
		t += " (" + string(run.Status) + ")"
	}
	return t
}

// writeHistoryOutput runs write on -o FILE, or on stdout.
func writeHistoryOutput(c *cli.Context, write func(io.Writer) error) error {
	return writeOutput(c.String("output"), c.App.Writer, write)
}

func historyImport(c *cli.Context) error {
	args, err := interspersedArgs(c)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return usageErrorf("history import: want one REPORT.json, got %d arguments", len(args))
	}
	path := args[0]
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("history import: %v", err)
	}
	var r contract.Report
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("history import: %s: not a JSON report: %v", path, err)
	}
	if r.Schema != contract.ReportSchema {
		return fmt.Errorf("history import: %s: schema %q, want %q (a report of check --format json)", path, r.Schema, contract.ReportSchema)
	}
	for i, d := range r.Decisions {
		if d.Host == "" {
			return fmt.Errorf("history import: %s: decisions[%d]: missing \"host\"", path, i)
		}
		if _, err := contract.ParseStatus(string(d.Status)); err != nil {
			return fmt.Errorf("history import: %s: decisions[%d] (%s): %v", path, i, d.Host, err)
		}
	}
	sh, sharded, err := recordShard(c, "history import")
	if err != nil {
		return err
	}
	at := r.GeneratedAt
	if at.IsZero() {
		at = time.Now()
	}
	s, err := openHistory(c)
	if err != nil {
		return err
	}
	defer s.Close()
	meta := history.Meta{StartedAt: at, Inventory: c.String("inventory"), Source: "import"}
	res := history.Result{Decisions: r.Decisions, NotScanned: r.NotScanned, FinishedAt: at}
	if !sharded {
		id, err := s.Record(c.Context, meta, res)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.App.Writer, "Recorded run %d (%d hosts) in %s.\n", id, len(r.Decisions), s.Name())
		return err
	}
	id, err := s.RecordShard(c.Context, meta, sh, res)
	if err != nil {
		return err
	}
	run, err := s.GetRun(c.Context, id)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.App.Writer, "Recorded shard %s (%s) of run %d in %s: %s.\n", sh, countHosts(len(r.Decisions)), id, s.Name(), run.StatusText())
	return err
}

// recordShard reads --shard and --audit-id as a shard of a recorded run;
// they come together, and sharded is false when neither is given.
func recordShard(c *cli.Context, verb string) (sh history.Shard, sharded bool, err error) {
	spec, id := c.String("shard"), c.String("audit-id")
	switch {
	case spec == "" && id == "":
		return sh, false, nil
	case spec == "":
		return sh, false, usageErrorf("%s: --audit-id needs --shard K/N", verb)
	case strings.TrimSpace(id) == "":
		return sh, false, usageErrorf("%s: --shard needs --audit-id, the ID all shards of the audit share", verb)
	case history.ValidAuditID(id) != nil:
		return sh, false, usageErrorf("%s: --audit-id: %v", verb, history.ErrAuditID)
	}
	s, err := inventory.ParseShard(spec)
	if err != nil {
		return sh, false, usageErrorf("%s: --%v", verb, err)
	}
	return history.Shard{AuditID: id, K: s.K, N: s.N}, true, nil
}

// parseAge reads an age as a Go duration or a number of days ("90d") or
// weeks ("2w").
func parseAge(s string) (time.Duration, error) {
	unit := time.Duration(0)
	switch {
	case strings.HasSuffix(s, "d"):
		unit = 24 * time.Hour
	case strings.HasSuffix(s, "w"):
		unit = 7 * 24 * time.Hour
	}
	var d time.Duration
	if unit != 0 {
		n, err := strconv.ParseUint(s[:len(s)-1], 10, 16)
		if err != nil {
			return 0, fmt.Errorf("%q: want e.g. 90d, 2w or 36h", s)
		}
		d = time.Duration(n) * unit
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q: want e.g. 90d, 2w or 36h", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q: want an age above zero", s)
	}
	return d, nil
}

func historyPrune(c *cli.Context) error {
	args, err := interspersedArgs(c)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return usageErrorf("history prune: unexpected argument %q", args[0])
	}
	age, err := parseAge(c.String("older-than"))
	if err != nil {
		return usageErrorf("history prune: --older-than %v", err)
	}
	s, err := openHistoryExisting(c)
	if err != nil {
		return err
	}
	defer s.Close()
	cutoff := time.Now().Add(-age).UTC().Truncate(time.Second)
	n, err := s.Prune(c.Context, cutoff, history.Scope{Source: server.Source})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.App.Writer, "Deleted %d runs that started before %s from %s.\n", n, cutoff.Format(time.RFC3339), s.Name())
	return err
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/factorgate/factorgate/audit"
	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/history"
	"github.com/factorgate/factorgate/policies"
	"github.com/factorgate/factorgate/report"
	"github.com/factorgate/factorgate/scanner/inventory"
	"github.com/factorgate/factorgate/waiver"
)

// defaultFailOn are the statuses that fail the gate unless --fail-on says
// otherwise.
const defaultFailOn = "ineligible,enabled_ineligible,unreachable"

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "judge facts against the policies: which servers can take 2FA, which cannot and why",
		Description: "Reads saved facts (JSON lines, as scan writes them), judges every host with the\n" +
			"policy bundle and any --policy directories, and writes one report sorted by host.\n" +
			"Exit 0 when no host's status is in --fail-on, 1 when some host's is, 2 when the\n" +
			"check could not be done (bad facts, bad policy, bad flags).",
		ArgsUsage: " ",
		Flags: mergeFlags([]cli.Flag{
			&cli.StringFlag{Name: "facts", Usage: "judge the saved facts in `FILE` (JSON lines; - for stdin)"},
		}, checkFlags(), auditFlags(), shardFlags(), []cli.Flag{auditIDFlag()}, []cli.Flag{
			&cli.BoolFlag{Name: "record", Usage: "keep the run (facts and decisions) in the history of --db"},
			historyFlag(),
		}),
		Action: runCheck,
	}
}

func runCheck(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErrorf("check: unexpected argument %q", c.Args().First())
	}
	path := c.String("facts")
	inventory := c.String("inventory")
	switch {
	case path != "" && inventory != "":
		return usageErrorf("check: --facts and -i: choose one")
	case path == "" && inventory == "":
		return usageErrorf("check: give the facts to judge with --facts FILE (- for stdin), or an inventory to scan with -i FILE")
	}
	if !c.Bool("record") {
		if err := notApplicable(c, "without --record (it names the history to record in)", "db"); err != nil {
			return err
		}
	}
	sh, err := checkShard(c)
	if err != nil {
		return err
	}
	if inventory != "" {
		return checkInventory(c, sh)
	}
	if err := notApplicable(c, "with --facts: nothing is scanned",
		flagNames(mergeFlags(scanFlags(), cloudFlags(), []cli.Flag{topicURNFlag()}), "inventory", "limit")...); err != nil {
		return err
	}
	// Check the reporting flags before any work is done.
	if _, err := reportFlags(c); err != nil {
		return err
	}
	limit, err := newHostLimit(c.StringSlice("limit"))
	if err != nil {
		return err
	}
	sel, err := selectionFromFlags(c)
	if err != nil {
		return err
	}
	ev, err := evaluatorFromFlags(c)
	if err != nil {
		return err
	}
	in, name, closeIn, err := openFacts(path, c.App.Reader)
	if err != nil {
		return err
	}
	defer closeIn()
	br := bufio.NewReaderSize(in, 64<<10)
	if err := notFacts(br, path); err != nil {
		return err
	}
	r := contract.NewReader(br, name)
	unique := uniqueHosts(r, name)
	var rec *factsRecord
	if c.Bool("record") {
		rec = &factsRecord{started: time.Now().UTC(), shard: sh}
	}
	next := func() (*contract.Facts, []byte, error) {
		for {
			f, raw, err := unique()
			if err != nil || f == nil {
				return f, raw, err
			}
			keep, err := limit.keep(f.Host.Name, f.Host.Labels)
			if err != nil {
				return nil, nil, err
			}
			if keep && sel.shard.Has(f.Host.Name) {
				rec.addFacts(f)
				return f, raw, nil
			}
		}
	}
	return judgeAndRender(c.Context, c, ev, next, path, name, limit, sel.shard, rec)
}

// checkShard reads --shard and --audit-id. With --record, a shard records
// into the one run of its audit ID, so the two come together (the zero
// Shard when neither is given). Without --record, --shard only selects
// hosts and --audit-id, which names a run of the history, does not apply.
func checkShard(c *cli.Context) (history.Shard, error) {
	if !c.Bool("record") {
		return history.Shard{}, notApplicable(c, "without --record (it names the run of the history that the shards of one audit record into)", "audit-id")
	}
	sh, _, err := recordShard(c, "check")
	return sh, err
}

// factsRecord keeps the facts and decisions of check --facts --record, for
// the history.
type factsRecord struct {
	started   time.Time
	shard     history.Shard
	mu        sync.Mutex
	facts     []contract.Facts
	decisions []contract.Decision
}

func (r *factsRecord) addFacts(f *contract.Facts) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.facts = append(r.facts, *f)
}

func (r *factsRecord) addDecision(d contract.Decision) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.decisions = append(r.decisions, d)
}

// reportSchemaAtStart matches the start of a factorgate report (check
// --format json), whose first field is its schema.
var reportSchemaAtStart = regexp.MustCompile(`^\s*\{\s*"schema"\s*:\s*"factorgate/report/v1"`)

// notFacts returns an error when the input is plainly not facts but
// another of factorgate's documents (a report, or decisions), saying what
// to do with it. It only peeks at br.
func notFacts(br *bufio.Reader, path string) error {
	head, _ := br.Peek(br.Size())
	if reportSchemaAtStart.Match(head) {
		return usageErrorf("check: %s is a factorgate report (%s), not facts: keep it in the history with `factorgate history import %s`, or act on it with `factorgate enable --decisions %s`; check --facts judges what scan writes",
			path, contract.ReportSchema, path, path)
	}
	line, _, _ := bytes.Cut(head, []byte("\n"))
	var d struct {
		Schema string          `json:"schema"`
		Host   json.RawMessage `json:"host"`
		Status string          `json:"status"`
	}
	if json.Unmarshal(line, &d) == nil && d.Schema == "" && d.Status != "" && bytes.HasPrefix(d.Host, []byte(`"`)) {
		return usageErrorf("check: %s holds decisions (check --format jsonl), not facts: act on them with `factorgate enable --decisions %s`; check --facts judges what scan writes", path, path)
	}
	return nil
}

// uniqueHosts wraps r.Next: a host name met again is an error naming the
// line of both, as two verdicts on one host would make the report and the
// gate ambiguous. Only the names are kept, one map entry per host.
func uniqueHosts(r *contract.Reader, name string) func() (*contract.Facts, []byte, error) {
	seen := map[string]int{}
	return func() (*contract.Facts, []byte, error) {
		f, raw, err := r.Next()
		if err != nil || f == nil {
			return f, raw, err
		}
		if first, ok := seen[f.Host.Name]; ok {
			return nil, nil, fmt.Errorf("%s:%d: host %s appears again (first on line %d)", name, r.Line(), f.Host.Name, first)
		}
		seen[f.Host.Name] = r.Line()
		return f, raw, nil
	}
}

// checkInventory is check -i: scan the inventory, judge every host, and
// report, with the hosts HSS knows that the inventory lacks.
func checkInventory(c *cli.Context, sh history.Shard) error {
	if _, err := reportFlags(c); err != nil {
		return err
	}
	res, err := runAudit(c.Context, c)
	if err != nil {
		return err
	}
	if c.Bool("record") {
		if err := recordRun(c, res, sh); err != nil {
			return err
		}
	}
	rep := res.Report()
	h := report.HeaderOf(rep, res.Inventory.Path)
	h.GeneratedAt = checkNow()
	return renderDecisions(c, h, report.Decisions(rep.Decisions))
}

// recordRun keeps an audit in the history of --db: as a run of its own, or
// as shard sh of the one run of sh.AuditID (see [history.Store.RecordShard]).
func recordRun(c *cli.Context, res *audit.Result, sh history.Shard) error {
	store, err := openHistory(c)
	if err != nil {
		return err
	}
	defer store.Close()
	meta, result := res.History("check")
	if sh.N == 0 {
		id, err := store.Record(c.Context, meta, result)
		if err != nil {
			return fmt.Errorf("record the run: %w", err)
		}
		fmt.Fprintf(c.App.ErrWriter, "factorgate: recorded run %d in %s\n", id, store.Name())
		return nil
	}
	id, err := store.RecordShard(c.Context, meta, sh, result)
	if err != nil {
		return fmt.Errorf("record the shard: %w", err)
	}
	run, err := store.GetRun(c.Context, id)
	if err != nil {
		return fmt.Errorf("record the shard: %w", err)
	}
	fmt.Fprintf(c.App.ErrWriter, "factorgate: recorded shard %s (%s) of run %d in %s: %s\n",
		sh, countHosts(len(res.Decisions)), id, store.Name(), run.StatusText())
	return nil
}

// openFacts opens the facts file, or stdin for "-".
func openFacts(path string, stdin io.Reader) (io.Reader, string, func(), error) {
	if path == "-" {
		if stdin == nil {
			stdin = os.Stdin
		}
		return stdin, "stdin", func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, "", nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, path, func() { f.Close() }, nil
}

// evaluatorFromFlags builds the policy evaluator of the [checkFlags]:
// --policy, --data, --auth-mode and --waivers. Waiver warnings (expired
// entries) go to stderr.
func evaluatorFromFlags(c *cli.Context) (*policies.Evaluator, error) {
	opts := policies.Options{
		PolicyDirs: c.StringSlice("policy"),
		DataFiles:  c.StringSlice("data"),
	}
	if !c.Bool("judge-cache") {
		opts.CacheBytes = -1
	}
	switch m := c.String("auth-mode"); m {
	case "":
	case "sms", "code":
		opts.Params = map[string]any{"auth_mode": m}
	default:
		return nil, usageErrorf("--auth-mode: want sms or code, got %q", m)
	}
	if path := c.String("waivers"); path != "" {
		f, err := waiver.LoadFile(path, checkNow())
		if err != nil {
			return nil, err
		}
		for _, w := range f.Warnings {
			fmt.Fprintln(c.App.ErrWriter, "factorgate: warning: "+w)
		}
		if err := checkWaivedChecks(f, opts.PolicyDirs); err != nil {
			return nil, err
		}
		opts.Waivers = f.Entries
	}
	return policies.New(c.Context, opts)
}

// reportOptions are the parsed reporting flags of [checkFlags].
type reportOptions struct {
	format string
	output string
	failOn map[contract.Status]bool
}

// reportFlags parses and checks --format, --output and --fail-on.
func reportFlags(c *cli.Context) (reportOptions, error) {
	o := reportOptions{format: c.String("format"), output: c.String("output"), failOn: map[contract.Status]bool{}}
	if _, err := report.New(o.format); err != nil {
		return o, usageErrorf("--format: %v", err)
	}
	spec := strings.TrimSpace(c.String("fail-on"))
	switch spec {
	case "none":
		return o, nil
	case "":
		return o, usageErrorf("--fail-on: empty; use none to never fail")
	}
	for _, s := range strings.Split(spec, ",") {
		st, err := contract.ParseStatus(strings.TrimSpace(s))
		if err != nil {
			return o, usageErrorf("--fail-on: %v, or none", err)
		}
		o.failOn[st] = true
	}
	return o, nil
}

// judgeAndRender judges every host next yields (see [policies.Evaluator.Judge]),
// sorts the decisions by host without holding them all in memory, and
// renders the report per the [checkFlags]. title names the source in the
// report, source in errors. Facts holding no host are an error (exit 2):
// the gate never passes on nothing. It returns a gate error (exit 1) when
// a host's status is in --fail-on.
func judgeAndRender(ctx context.Context, c *cli.Context, ev *policies.Evaluator, next func() (*contract.Facts, []byte, error), title, source string, limit *hostLimit, shard inventory.Shard, rec *factsRecord) error {
	sorter := contract.NewDecisionSorter("", 0)
	defer sorter.Close()
	cov := waiverCoverage(c)
	add := func(d contract.Decision) error {
		cov.Host(d.Host, d.Labels)
		rec.addDecision(d)
		return sorter.Add(d)
	}
	if err := audit.Judge(ctx, ev, audit.Reader(next), add); err != nil {
		return err
	}
	if err := limit.unmatched(source); err != nil {
		return err
	}
	warnUnmatchedWaivers(cov)
	emptyShard := sorter.Len() == 0 && !shard.IsZero() && rec != nil && rec.shard.N > 0
	if sorter.Len() == 0 && !emptyShard {
		if !shard.IsZero() {
			return fmt.Errorf("%s: --shard %s holds none of its hosts: choose a smaller N", source, shard)
		}
		return fmt.Errorf("%s: holds no hosts", source)
	}
	if rec != nil {
		// The shards of one audit may judge facts saved under other
		// names: the facts file names no run they must share.
		name := title
		if rec.shard.N > 0 {
			name = ""
		}
		res := &audit.Result{Started: rec.started, Finished: time.Now().UTC(), Facts: rec.facts, Decisions: rec.decisions,
			Inventory: &inventory.Inventory{Path: name}}
		if err := recordRun(c, res, rec.shard); err != nil {
			return err
		}
	}
	h := report.Header{
		GeneratedAt: checkNow(),
		Summary:     sorter.Summary(),
		Total:       sorter.Len(),
		Title:       title,
	}
	return renderDecisions(c, h, sorter.Sorted())
}

// renderDecisions writes the report of decisions (sorted by host; h.Summary
// counted) in --format to --output or stdout, then applies the --fail-on
// gate to h.Summary.
func renderDecisions(c *cli.Context, h report.Header, decisions iter.Seq2[contract.Decision, error]) error {
	o, err := reportFlags(c)
	if err != nil {
		return err
	}
	rd, err := report.New(o.format)
	if err != nil {
		return usageErrorf("--format: %v", err)
	}
	w, commit, abort, err := openOutput(o.output, c.App.Writer)
	if err != nil {
		return err
	}
	if err := rd.Render(w, h, decisions); err != nil {
		abort()
		return err
	}
	if err := commit(); err != nil {
		return err
	}
	return gate(h.Summary, o.failOn)
}

// gate returns a gate error naming the failing statuses when any host has
// one of failOn.
func gate(summary map[contract.Status]int, failOn map[contract.Status]bool) error {
	total, failed := 0, 0
	var parts []string
	for _, s := range contract.Statuses {
		total += summary[s]
		if failOn[s] && summary[s] > 0 {
			failed += summary[s]
			parts = append(parts, fmt.Sprintf("%d %s", summary[s], s))
		}
	}
	if failed == 0 {
		return nil
	}
	return &gateError{msg: fmt.Sprintf("%d of %d hosts failed the gate: %s", failed, total, strings.Join(parts, ", "))}
}

// checkNow is the time a report is made and waivers expire against:
// SOURCE_DATE_EPOCH (seconds since 1970) when set, for reproducible
// reports, else the clock.
func checkNow() time.Time {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(n, 0).UTC()
		}
	}
	return time.Now().UTC()
}

// countHosts is "1 host" or "N hosts".
func countHosts(n int) string {
	if n == 1 {
		return "1 host"
	}
	return fmt.Sprintf("%d hosts", n)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/remediate"
	"github.com/factorgate/factorgate/scanner/inventory"
)

func enableCommand() *cli.Command {
	return remediateCommand(remediate.Enable,
		"plan and apply HSS 2FA on the servers that qualify",
		`Plans 2FA for exactly the hosts whose decision is eligible and whose HSS
host id is known, and prints the plan. With cloud credentials, hosts the
HSS 2FA host list shows already on with the same setting are left alone.
Nothing changes without --apply.
With --apply the changes go out in batches, each recorded in a journal
(--journal, else in $XDG_STATE_HOME/factorgate) before and after its API
call, and are verified against the HSS 2FA host list. An interrupted apply
is finished with --resume JOURNAL. --format json writes the plan and the
result as one document (schema factorgate/remediation/v1); exit 1 when a
host did not take the change.

Credentials come from HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK and
HUAWEICLOUD_SDK_PROJECT_ID (and HUAWEICLOUD_SDK_SECURITY_TOKEN).`)
}

// cloudFromFlags builds the cloud client from the environment's credentials
// and the cloud flags. It returns nil, nil when no credentials are set.
func cloudFromFlags(c *cli.Context) (*cloud.Client, error) {
	creds, err := cloud.CredentialsFromEnv(os.Getenv)
	if errors.Is(err, cloud.ErrNoCredentials) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	retries := c.Int("api-retries")
	if retries == 0 {
		retries = -1
	}
	return cloud.New(creds, cloud.Options{
		Region:              c.String("region"),
		HSSEndpoint:         c.String("hss-endpoint"),
		SMNEndpoint:         c.String("smn-endpoint"),
		CAFile:              c.String("ca-file"),
		EnterpriseProjectID: c.String("enterprise-project-id"),
		Retries:             retries,
		RetryWait:           c.Duration("api-retry-wait"),
	})
}

// cloudViewFromFlags loads the cloud's view of the hosts about to be
// scanned (HSS host list, 2FA host list, and the SMN topic of --auth-mode
// sms --topic-urn where those flags exist). It returns nil, nil when no
// credentials are set: the scan then runs without cloud facts.
func cloudViewFromFlags(ctx context.Context, c *cli.Context, hosts []inventory.Host) (*cloud.View, error) {
	client, err := cloudFromFlags(c)
	if err != nil || client == nil {
		return nil, err
	}
	return cloud.NewView(ctx, client, hosts, cloud.TopicOptions{AuthMode: c.String("auth-mode"), URN: c.String("topic-urn")})
}

// decisionsForEnable returns the decisions enable and disable act on: a
// fresh scan and judgement of -i, or the saved decisions of --decisions
// (refused when older than --max-age), less the hosts --limit leaves out.
// With -i it also returns the 2FA mode the hosts were judged for.
func decisionsForEnable(ctx context.Context, c *cli.Context) ([]contract.Decision, string, error) {
	name := c.Command.Name
	if c.String("inventory") != "" {
		if c.String("decisions") != "" {
			return nil, "", usageErrorf("%s: -i and --decisions: choose one", name)
		}
		if err := notApplicable(c, "with -i (the decisions are made now)", "max-age"); err != nil {
			return nil, "", err
		}
		res, mode, err := runAuditMode(ctx, c)
		if err != nil {
			return nil, "", err
		}
		return res.Decisions, mode, nil
	}
	path := c.String("decisions")
	if path == "" {
		return nil, "", usageErrorf("%s: pass --decisions FILE (a check --format json report or JSON lines of decisions), or -i INVENTORY to scan first", name)
	}
	if err := notApplicable(c, "with --decisions: nothing is scanned or judged",
		flagNames(mergeFlags(scanFlags(), policyFlags(), []cli.Flag{topicURNFlag()}), "inventory", "limit", "auth-mode", "topic-urn")...); err != nil {
		return nil, "", err
	}
	limit, err := newHostLimit(c.StringSlice("limit"))
	if err != nil {
		return nil, "", err
	}
	var saved *remediate.Saved
	if path == "-" {
		saved, err = remediate.ReadSaved(c.App.Reader, "stdin")
	} else {
		saved, err = remediate.ReadSavedFile(path)
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, "", fmt.Errorf("--decisions %s: %w", path, pe.Err)
		}
		return nil, "", err
	}
	if err := saved.Fresh(c.Duration("max-age"), time.Now()); err != nil {
		return nil, "", usageErrorf("%s: --decisions %s was %v, older than --max-age %s: check again for fresh decisions, or pass a larger --max-age",
			name, path, err, c.Duration("max-age"))
	}
	var out []contract.Decision
	for _, d := range saved.Decisions {
		keep, err := limit.keep(d.Host, d.Labels)
		if err != nil {
			return nil, "", err
		}
		if keep {
			out = append(out, d)
		}
	}
	source := path
	if path == "-" {
		source = "stdin"
	}
	if err := limit.unmatched(source); err != nil {
		return nil, "", err
	}
	return out, "", nil
}

func remediateCommand(action remediate.Action, usage, description string) *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "decisions", Usage: "act on the saved decisions `FILE` (check --format json or jsonl; - for stdin)"},
		&cli.DurationFlag{Name: "max-age", Value: 24 * time.Hour, Usage: "refuse --decisions made longer ago than this (0: any age)"},
		&cli.BoolFlag{Name: "apply", Usage: "make the changes (without it, only the plan is shown)"},
		&cli.StringFlag{Name: "resume", Usage: "finish the interrupted apply recorded in `JOURNAL`"},
		&cli.StringFlag{Name: "format", Value: "text", Usage: "`FORMAT` of the plan and result: text, or json (one document, schema " + remediate.ReportSchema + ")"},
		&cli.IntFlag{Name: "batch-size", Value: remediate.DefaultBatchSize, Usage: "hosts per API call"},
		&cli.IntFlag{Name: "max-failures", Value: remediate.DefaultMaxFailures, Usage: "stop once more hosts than this have failed (-1: never)"},
		&cli.DurationFlag{Name: "verify-timeout", Value: remediate.DefaultVerifyTimeout, Usage: "how long to wait for the 2FA host list to show the changes"},
		&cli.DurationFlag{Name: "poll-interval", Value: remediate.DefaultPollInterval, Usage: "wait between looks at the 2FA host list"},
		&cli.StringFlag{Name: "journal", Usage: "journal `FILE` of the apply", DefaultText: "factorgate-" + string(action) + "-TIME.journal in $XDG_STATE_HOME/factorgate"},
	}
	if action == remediate.Enable {
		flags = append(flags,
			authModeFlag(),
			topicURNFlag(),
			&cli.BoolFlag{Name: "force", Usage: "also enable hosts the scanner logs in to by password (it will be locked out)"},
			&cli.BoolFlag{Name: "include-waived", Usage: "also enable hosts that are eligible only through waivers"},
		)
	}
	// -i scans and judges first, with the scan and policy flags of check.
	flags = mergeFlags(flags, scanFlags(), cloudFlags(), policyFlags())
	return &cli.Command{
		Name:        string(action),
		Usage:       usage,
		Description: description,
		Flags:       flags,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("%s: unexpected argument %q", action, c.Args().First())
			}
			return runRemediate(c.Context, c, action)
		},
	}
}

// applyOnlyFlags tune an apply; they do not apply to a plan.
var applyOnlyFlags = []string{"journal", "batch-size", "max-failures", "verify-timeout", "poll-interval"}

func runRemediate(ctx context.Context, c *cli.Context, action remediate.Action) error {
	stderr := c.App.ErrWriter
	format := c.String("format")
	if format != "text" && format != "json" {
		return usageErrorf("%s: --format %s: want text or json", action, format)
	}
	opts := remediate.Options{
		Action:        action,
		BatchSize:     c.Int("batch-size"),
		MaxFailures:   c.Int("max-failures"),
		VerifyTimeout: c.Duration("verify-timeout"),
		PollInterval:  c.Duration("poll-interval"),
		Progress:      applyProgress(progressTerminal(stderr, quiet(c)), action, logOutOf(c)),
	}
	if opts.BatchSize < 1 {
		return usageErrorf("%s: --batch-size %d: want 1 or more", action, opts.BatchSize)
	}
	if action == remediate.Enable {
		opts.AuthType = c.String("auth-mode")
		if opts.AuthType == "" {
			opts.AuthType = cloud.AuthCode
		}
		opts.TopicURN = c.String("topic-urn")
		opts.Force = c.Bool("force")
		opts.IncludeWaived = c.Bool("include-waived")
	}
	out := remediateOutput{c: c, format: format, action: action}

	if path := c.String("resume"); path != "" {
		// The journal holds the plan: nothing may change it.
		if err := notApplicable(c, "with --resume (the journal holds the plan)",
			append([]string{"decisions", "max-age", "journal", "auth-mode", "topic-urn", "force", "include-waived"},
				flagNames(mergeFlags(scanFlags(), policyFlags()))...)...); err != nil {
			return err
		}
		entries, err := remediate.ReadJournal(path)
		if err != nil {
			return err
		}
		client, err := requireCloud(c, action)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%s: resume the journal %s\n", action, path)
		res, err := remediate.Resume(ctx, client, path, opts)
		return out.finish(entries[0].Plan, res, err, path)
	}
	if !c.Bool("apply") {
		if err := notApplicable(c, "without --apply (they tune an apply)", applyOnlyFlags...); err != nil {
			return err
		}
	}
	ds, judged, err := decisionsForEnable(ctx, c)
	if err != nil {
		return err
	}
	if action == remediate.Enable && c.String("auth-mode") == "" && judged != "" {
		// enable -i turns on the mode the hosts were judged for (--data).
		opts.AuthType = judged
	}
	if opts.TopicURN != "" && opts.AuthType != cloud.AuthSMS {
		return usageErrorf("%s: --topic-urn applies to --auth-mode sms only", action)
	}
	client, err := cloudFromFlags(c)
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	if c.Bool("apply") && client == nil {
		return fmt.Errorf("%s --apply: %w", action, cloud.ErrNoCredentials)
	}
	var api remediate.CloudAPI
	if client != nil {
		api = client
	}
	plan, err := remediate.Prepare(ctx, api, ds, opts, c.Bool("apply"))
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	if !c.Bool("apply") || len(plan.Changes) == 0 {
		return out.planOnly(plan, c.Bool("apply"))
	}
	path := c.String("journal")
	if path == "" {
		if path, err = defaultJournal(action); err != nil {
			return err
		}
	}
	j, err := remediate.CreateJournal(path)
	if err != nil {
		return err
	}
	defer j.Close()
	fmt.Fprintf(stderr, "%s: journal %s\n", action, path)
	if format == "text" {
		if err := plan.Render(c.App.Writer); err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer)
	}
	res, err := remediate.Apply(ctx, client, plan, j, opts)
	return out.finish(plan, res, err, path)
}

// remediateOutput writes the plan and result of enable or disable in
// --format.
type remediateOutput struct {
	c      *cli.Context
	format string
	action remediate.Action
}

// planOnly writes a plan that is not applied.
func (o remediateOutput) planOnly(p *remediate.Plan, apply bool) error {
	w := o.c.App.Writer
	if o.format == "json" {
		return remediate.NewReport(p, nil, "").WriteJSON(w)
	}
	if err := p.Render(w); err != nil {
		return err
	}
	if !apply && len(p.Changes) > 0 {
		_, err := fmt.Fprintln(w, "Nothing was changed: run again with --apply to make these changes.")
		return err
	}
	return nil
}

// finish writes the result of an apply and maps it to an exit: 1 when a
// host did not take the change.
func (o remediateOutput) finish(p *remediate.Plan, res *remediate.Result, err error, journal string) error {
	if errors.Is(err, remediate.ErrInterrupted) {
		return fmt.Errorf("%s: %w: finish it with --resume %s", o.action, err, journal)
	}
	if err != nil {
		return fmt.Errorf("%s: %w (journal %s)", o.action, err, journal)
	}
	w := o.c.App.Writer
	if o.format == "json" {
		err = remediate.NewReport(p, res, journal).WriteJSON(w)
	} else {
		err = res.Render(w)
	}
	if err != nil {
		return err
	}
	if n := res.Failed(); n > 0 {
		return &gateError{msg: fmt.Sprintf("%s: %d of %d hosts did not take the change (journal %s)", o.action, n, len(res.Hosts), journal)}
	}
	return nil
}

// requireCloud builds the cloud client, or fails naming the credentials.
func requireCloud(c *cli.Context, action remediate.Action) (*cloud.Client, error) {
	client, err := cloudFromFlags(c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", action, err)
	}
	if client == nil {
		return nil, fmt.Errorf("%s --apply: %w", action, cloud.ErrNoCredentials)
	}
	return client, nil
}

// stateDir is where factorgate keeps its state (the history, journals):
// $XDG_STATE_HOME/factorgate, else ~/.local/state/factorgate. It is made
// (mode 0700) when missing.
func stateDir() (string, error) {
	state := os.Getenv("XDG_STATE_HOME")
	if state == "" || !filepath.IsAbs(state) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no state directory: set XDG_STATE_HOME or HOME: %v", err)
		}
		state = filepath.Join(home, ".local", "state")
	}
	dir := filepath.Join(state, "factorgate")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("state directory: %w", err)
	}
	return dir, nil
}

// defaultJournal is the journal of an apply when --journal is not given:
// factorgate-ACTION-TIME.journal in the [stateDir], beside the history.
func defaultJournal(action remediate.Action) (string, error) {
	dir, err := stateDir()
	if err != nil {
		return "", fmt.Errorf("%s: journal: %w (or pass --journal FILE)", action, err)
	}
	return filepath.Join(dir, fmt.Sprintf("factorgate-%s-%s.journal", action, time.Now().UTC().Format("20060102T150405.000Z"))), nil
}

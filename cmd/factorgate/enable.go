package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/remediate"
	"github.com/factorgate/factorgate/scanner"
	"github.com/urfave/cli/v2"
)

func enableCommand() *cli.Command {
	return remediateCommand(remediate.Enable,
		"plan and apply HSS 2FA on the servers that qualify",
		`Plans 2FA for exactly the hosts whose decision is eligible and whose HSS
host id is known, and prints the plan. With cloud credentials, hosts the
HSS 2FA host list shows already on with the same setting are left alone.
Nothing changes without --apply.
With --apply the changes go out in batches, each recorded in a journal
before and after its API call, and are verified against the HSS 2FA host
list. An interrupted apply is finished with --resume JOURNAL.

Credentials come from HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK and
HUAWEICLOUD_SDK_PROJECT_ID (and HUAWEICLOUD_SDK_SECURITY_TOKEN).`)
}

// cloudFlags are the flags that say where the HSS and SMN APIs are. They
// are shared by every verb that talks to the cloud.
func cloudFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "region", EnvVars: []string{cloud.EnvRegion}, Usage: "cloud region id, e.g. ap-southeast-1 or eu-de"},
		&cli.StringFlag{Name: "hss-endpoint", EnvVars: []string{cloud.EnvHSSEndpoint}, Usage: "HSS API endpoint `URL` (overrides the region's)"},
		&cli.StringFlag{Name: "smn-endpoint", EnvVars: []string{cloud.EnvSMNEndpoint}, Usage: "SMN API endpoint `URL` (overrides the region's)"},
		&cli.StringFlag{Name: "ca-file", EnvVars: []string{"FACTORGATE_CA_FILE"}, Usage: "PEM `FILE` of extra CAs to trust for the cloud APIs"},
		&cli.StringFlag{Name: "enterprise-project-id", EnvVars: []string{"FACTORGATE_ENTERPRISE_PROJECT_ID"}, Usage: "HSS enterprise project `ID` (all_granted_eps for all)"},
		&cli.IntFlag{Name: "api-retries", Value: 4, EnvVars: []string{"FACTORGATE_API_RETRIES"}, Usage: "retries of an API call answered 429 or 5xx"},
		&cli.DurationFlag{Name: "api-retry-wait", Value: time.Second, EnvVars: []string{"FACTORGATE_API_RETRY_WAIT"}, Usage: "first backoff between API retries (doubles each time)"},
	}
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
func cloudViewFromFlags(ctx context.Context, c *cli.Context, hosts []scanner.Host) (*cloud.View, error) {
	client, err := cloudFromFlags(c)
	if err != nil || client == nil {
		return nil, err
	}
	return cloud.NewView(ctx, client, hosts, cloud.TopicOptions{AuthMode: c.String("auth-mode"), URN: c.String("topic-urn")})
}

// decisionsForEnable returns the decisions enable and disable act on. It
// reads --decisions; the -i form (a fresh scan) is wired through runAudit.
var decisionsForEnable = func(ctx context.Context, c *cli.Context) ([]contract.Decision, error) {
	if c.String("inventory") != "" {
		if c.String("decisions") != "" {
			return nil, usageErrorf("%s: -i and --decisions: choose one", c.Command.Name)
		}
		res, err := runAudit(ctx, c)
		if err != nil {
			return nil, err
		}
		return res.Decisions, nil
	}
	path := c.String("decisions")
	if path == "" {
		return nil, errors.New(c.Command.Name + ": pass --decisions FILE (a check --format json report or JSON lines of decisions)")
	}
	var r io.Reader = c.App.Reader
	name := "-"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r, name = f, path
	}
	return remediate.ReadDecisions(r, name)
}

func remediateCommand(action remediate.Action, usage, description string) *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "decisions", Usage: "saved decisions `FILE` (check --format json or jsonl; - for stdin)"},
		&cli.StringFlag{Name: "inventory", Aliases: []string{"i"}, Usage: "scan this inventory `FILE` first"},
		&cli.BoolFlag{Name: "apply", Usage: "make the changes (without it, only the plan is shown)"},
		&cli.IntFlag{Name: "batch-size", Value: remediate.DefaultBatchSize, Usage: "hosts per API call"},
		&cli.IntFlag{Name: "max-failures", Value: remediate.DefaultMaxFailures, Usage: "stop once more hosts than this have failed (-1: never)"},
		&cli.DurationFlag{Name: "verify-timeout", Value: remediate.DefaultVerifyTimeout, Usage: "how long to wait for the 2FA host list to show the changes"},
		&cli.DurationFlag{Name: "poll-interval", Value: remediate.DefaultPollInterval, Usage: "wait between looks at the 2FA host list"},
		&cli.StringFlag{Name: "journal", Usage: "journal `FILE` of the apply (default factorgate-" + string(action) + "-TIME.journal)"},
		&cli.StringFlag{Name: "resume", Usage: "finish the interrupted apply recorded in `JOURNAL`"},
	}
	if action == remediate.Enable {
		flags = append(flags,
			&cli.StringFlag{Name: "auth-mode", Value: cloud.AuthCode, Usage: "2FA mode: sms (SMS/email through an SMN topic) or code (verification code)"},
			&cli.StringFlag{Name: "topic-urn", Usage: "SMN topic `URN` for sms mode"},
			&cli.BoolFlag{Name: "force", Usage: "also enable hosts the scanner logs in to by password (it will be locked out)"},
			&cli.BoolFlag{Name: "include-waived", Usage: "also enable hosts that are eligible only through waivers"},
		)
	}
	// -i scans and judges first, with the scan and policy flags of check.
	flags = mergeFlags(flags, cloudFlags(), withoutFlags(auditFlags(), "format", "output", "fail-on"))
	return &cli.Command{
		Name:        string(action),
		Usage:       usage,
		Description: description,
		Flags:       flags,
		Action: func(c *cli.Context) error {
			return runRemediate(c.Context, c, action)
		},
	}
}

func runRemediate(ctx context.Context, c *cli.Context, action remediate.Action) error {
	stdout, stderr := c.App.Writer, c.App.ErrWriter
	opts := remediate.Options{
		Action:        action,
		BatchSize:     c.Int("batch-size"),
		MaxFailures:   c.Int("max-failures"),
		VerifyTimeout: c.Duration("verify-timeout"),
		PollInterval:  c.Duration("poll-interval"),
		Progress:      applyProgress(progressTerminal(stderr, quiet(c)), action),
	}
	if opts.BatchSize < 1 {
		return fmt.Errorf("%s: --batch-size %d: want 1 or more", action, opts.BatchSize)
	}
	if action == remediate.Enable {
		opts.AuthType = c.String("auth-mode")
		opts.TopicURN = c.String("topic-urn")
		opts.Force = c.Bool("force")
		opts.IncludeWaived = c.Bool("include-waived")
	}

	if path := c.String("resume"); path != "" {
		client, err := requireCloud(c, action)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%s: resume the journal %s\n", action, path)
		res, err := remediate.Resume(ctx, client, path, opts)
		return finish(res, err, path, action, stdout)
	}

	ds, err := decisionsForEnable(ctx, c)
	if err != nil {
		return err
	}
	// With credentials, the plan goes by the 2FA host list as it stands:
	// a decision may be stale, or from a scan that could not see 2FA.
	client, err := cloudFromFlags(c)
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	if client != nil {
		list, err := client.ListTwoFactor(ctx)
		if err != nil {
			return fmt.Errorf("%s: read the HSS 2FA host list: %w", action, err)
		}
		opts.Live = remediate.LiveState(list)
	}
	plan, err := remediate.NewPlan(ds, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	if err := plan.Render(stdout); err != nil {
		return err
	}
	if !c.Bool("apply") {
		if len(plan.Changes) > 0 {
			fmt.Fprintln(stdout, "Nothing was changed: run again with --apply to make these changes.")
		}
		return nil
	}
	if len(plan.Changes) == 0 {
		return nil
	}
	if client == nil {
		return fmt.Errorf("%s --apply: %w", action, cloud.ErrNoCredentials)
	}
	if action == remediate.Enable && opts.AuthType == cloud.AuthSMS {
		info, err := client.Topic(ctx, opts.TopicURN)
		switch {
		case err != nil:
			return fmt.Errorf("enable: check topic: %w", err)
		case !info.Exists:
			return fmt.Errorf("enable: --topic-urn %s: no such SMN topic", opts.TopicURN)
		case !info.Confirmed:
			return fmt.Errorf("enable: --topic-urn %s: the topic has no confirmed sms or email subscription", opts.TopicURN)
		}
		plan.TopicDisplayName = info.DisplayName
	}
	path := c.String("journal")
	if path == "" {
		path = fmt.Sprintf("factorgate-%s-%s.journal", action, time.Now().UTC().Format("20060102T150405Z"))
	}
	j, err := remediate.CreateJournal(path)
	if err != nil {
		return err
	}
	defer j.Close()
	fmt.Fprintf(stderr, "%s: journal %s\n", action, path)
	res, err := remediate.Apply(ctx, client, plan, j, opts)
	return finish(res, err, path, action, stdout)
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

// finish prints the result and maps it to an exit: 1 when a host failed.
func finish(res *remediate.Result, err error, journal string, action remediate.Action, stdout io.Writer) error {
	if errors.Is(err, remediate.ErrInterrupted) {
		return fmt.Errorf("%s: %w: finish it with --resume %s", action, err, journal)
	}
	if err != nil {
		return fmt.Errorf("%s: %w (journal %s)", action, err, journal)
	}
	if err := res.Render(stdout); err != nil {
		return err
	}
	if n := res.Failed(); n > 0 {
		return &gateError{msg: fmt.Sprintf("%s: %d of %d hosts did not take the change (journal %s)", action, n, len(res.Hosts), journal)}
	}
	return nil
}

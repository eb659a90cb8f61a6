// Package demo is `factorgate demo`: a whole audit and 2FA rollout on a
// simulated estate (internal/lab) on loopback, through the same packages
// the other verbs use.
//
// [Run] starts the estate, scans and judges it, hands the report to the
// caller's renderer, plans 2FA on the eligible servers, applies and
// verifies it on the emulated HSS API, and audits again. Everything it
// writes goes to a temporary directory, removed when it returns.
package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/factorgate/factorgate/audit"
	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/lab"
	"github.com/factorgate/factorgate/policies"
	"github.com/factorgate/factorgate/remediate"
	"github.com/factorgate/factorgate/scanner"
	"github.com/factorgate/factorgate/scanner/inventory"
	"github.com/factorgate/factorgate/termtext"
)

// Config says how big the demo is and where its output goes.
type Config struct {
	// Linux is the number of simulated servers over SSH (every profile,
	// Windows with OpenSSH included); Windows the number over WinRM.
	Linux, Windows int
	// ApplyDelay is how long the emulated HSS takes to show a 2FA change.
	ApplyDelay time.Duration
	// PlanOnly shows the plan without applying it.
	PlanOnly bool
	// Keep leaves the estate up until ctx ends, and prints how to use it.
	Keep bool
	// Report writes the audit's report as the user asked (format, file).
	Report func(*audit.Result) error
	// Out receives what the demo tells (the plan, the result, the next
	// steps); Err the notes of stderr.
	Out, Err io.Writer
	// ScanProgress and ApplyProgress draw progress; nil draws none.
	ScanProgress  scanner.ProgressSink
	ApplyProgress remediate.Progress
	// Command is how the user runs factorgate ("factorgate", "go run
	// ./cmd/factorgate"), for the next steps of Keep.
	Command string
}

// Run runs the demo; see the package comment.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Linux < 0 || cfg.Windows < 0 || cfg.Linux+cfg.Windows == 0 {
		return fmt.Errorf("want at least one host")
	}
	total := cfg.Linux + cfg.Windows
	then := "then turn 2FA on"
	if cfg.PlanOnly {
		then = "then plan 2FA"
	}
	fmt.Fprintf(cfg.Out, "Demo: scan and judge %d simulated servers on 127.0.0.1, %s.\n", total, then)
	fmt.Fprintf(cfg.Out, "The servers and the HSS API are emulated here: nothing leaves this machine.\n\n")

	dir, err := os.MkdirTemp("", "factorgate-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	l, err := lab.Start(ctx, lab.Config{Linux: cfg.Linux, Windows: cfg.Windows, Dir: dir,
		Unmanaged: 2, SeedTwoFactor: true, ApplyDelay: cfg.ApplyDelay})
	if err != nil {
		return err
	}
	defer l.Close()
	fmt.Fprintf(cfg.Err, "demo: %d servers over SSH and %d Windows servers over WinRM on 127.0.0.1,\n"+
		"  and an HSS API emulator at %s\n", cfg.Linux, cfg.Windows, l.HSS.URL())

	inv, err := inventory.Load(l.InventoryPath)
	if err != nil {
		return err
	}
	ev, err := policies.New(ctx, policies.Options{})
	if err != nil {
		return err
	}
	client, err := l.Cloud()
	if err != nil {
		return err
	}
	opts := scanner.Options{Concurrency: 16, Env: l.Getenv, Progress: cfg.ScanProgress}
	acfg := audit.Config{Inventory: inv, Hosts: inv.Hosts, Evaluator: ev, Cloud: client,
		Topic: cloud.TopicOptions{AuthMode: cloud.AuthCode}, Scan: opts}
	res, err := audit.Run(ctx, acfg)
	if err != nil {
		return err
	}
	if err := cfg.Report(res); err != nil {
		return err
	}

	ropts := remediate.Options{Action: remediate.Enable, AuthType: cloud.AuthCode, BatchSize: 5,
		VerifyTimeout: 10*cfg.ApplyDelay + 30*time.Second, PollInterval: cfg.ApplyDelay / 4, Progress: cfg.ApplyProgress}
	plan, err := remediate.Prepare(ctx, client, res.Decisions, ropts, !cfg.PlanOnly)
	if err != nil {
		return err
	}
	fmt.Fprintln(cfg.Out)
	if err := plan.Render(cfg.Out); err != nil {
		return err
	}
	applied := false
	if !cfg.PlanOnly && len(plan.Changes) > 0 {
		path := filepath.Join(dir, "demo-enable.journal")
		j, err := remediate.CreateJournal(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(cfg.Err, "demo: journal %s\n", path)
		ar, err := remediate.Apply(ctx, client, plan, j, ropts)
		j.Close()
		if err != nil {
			return err
		}
		fmt.Fprintln(cfg.Out)
		if err := ar.Render(cfg.Out); err != nil {
			return err
		}
		fmt.Fprintf(cfg.Out, "\nApplied and verified: 2FA on for %d of %d planned servers.\n", len(ar.Hosts)-ar.Failed(), len(plan.Changes))
		again, err := audit.Run(ctx, acfg)
		if err != nil {
			return err
		}
		fmt.Fprint(cfg.Out, wrap("Audit after enable: "+summaryLine(again.Report().Summary)+".", "  "))
		applied = true
	}
	if cfg.Keep {
		return keep(ctx, cfg, l, applied)
	}
	if !cfg.PlanOnly {
		fmt.Fprintln(cfg.Out, "\nRun the demo with --plan-only to see the plan without applying it, and with\n--keep to keep the fleet up and try the other verbs on it.")
	}
	return nil
}

// summaryLine is "3 eligible, 5 enabled, ..." in the order of
// contract.Statuses.
func summaryLine(sum map[contract.Status]int) string {
	var parts []string
	for _, st := range contract.Statuses {
		parts = append(parts, fmt.Sprintf("%d %s", sum[st], st))
	}
	return strings.Join(parts, ", ")
}

// keep prints the next steps, each a command that works as printed in
// another shell, and waits for ctx to end.
func keep(ctx context.Context, cfg Config, l *lab.Lab, applied bool) error {
	if _, err := l.WriteEnvFile(); err != nil {
		return err
	}
	fg := cfg.Command
	var b strings.Builder
	b.WriteString("\nThe simulated fleet stays up until you press Ctrl-C. In another shell, in this\ndirectory:\n\n")
	fmt.Fprintf(&b, "  D=%s\n", shellQuote(l.Dir))
	b.WriteString("  set -a; . \"$D/lab.env\"; set +a\n")
	fmt.Fprintf(&b, "  %s check -i \"$D/inventory.yaml\"\n", fg)
	fmt.Fprintf(&b, "  %s check -i \"$D/inventory.yaml\" --format html -o \"$D/report.html\"\n", fg)
	fmt.Fprintf(&b, "  %s enable -i \"$D/inventory.yaml\"\n", fg)
	if !applied {
		fmt.Fprintf(&b, "  %s enable -i \"$D/inventory.yaml\" --apply --poll-interval 1s --journal \"$D/enable.journal\"\n", fg)
	}
	fmt.Fprintf(&b, "  %s disable -i \"$D/inventory.yaml\" --apply --poll-interval 1s --journal \"$D/disable.journal\"\n", fg)
	b.WriteString("\n")
	if applied {
		b.WriteString(wrap("2FA is already on where it qualifies, so enable plans no change: run the demo with --plan-only --keep to see the plan before it is applied, and apply it yourself.", ""))
	} else {
		b.WriteString(wrap("enable without --apply shows the plan and changes nothing; with --apply it turns 2FA on.", ""))
	}
	b.WriteString(wrap("What you write under $D is removed at Ctrl-C.", ""))
	if _, err := io.WriteString(cfg.Out, b.String()); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// wrap lays text out in lines of at most 80 columns, the lines after the
// first indented by indent, each ended by a newline.
func wrap(text, indent string) string {
	return strings.Join(termtext.Wrap("", indent, text, 80), "\n") + "\n"
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

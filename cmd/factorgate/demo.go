package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/factorgate/factorgate/audit"
	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/lab"
	"github.com/factorgate/factorgate/policies"
	"github.com/factorgate/factorgate/remediate"
	"github.com/factorgate/factorgate/report"
	"github.com/factorgate/factorgate/scanner"
	"github.com/urfave/cli/v2"
)

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "scan and judge a simulated fleet on loopback, then plan, apply and verify 2FA on it",
		Description: `Starts simulated Linux servers (SSH) and Windows servers (WinRM) on
127.0.0.1, each with its own keys, and an emulator of the HSS API that knows
them; scans them through the real SSH and WinRM clients, judges them with the
bundled policies and prints the report. Then it plans 2FA for the eligible
servers, applies the plan to the emulator, verifies it and audits again.
Nothing leaves this machine. With --keep the fleet stays up and its
inventory and credentials file are printed, to try the other verbs on it.`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "hosts", Value: 30, Usage: "simulated servers over SSH, cycling through every profile (Linux, and Windows with OpenSSH)"},
			&cli.IntFlag{Name: "windows", Value: 10, Usage: "simulated Windows servers reached over WinRM"},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "report `FORMAT`"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the report to `FILE` (the plan and apply still go to stdout)"},
			&cli.BoolFlag{Name: "plan-only", Usage: "show the enable plan but do not apply it"},
			&cli.DurationFlag{Name: "apply-delay", Value: 2 * time.Second, Usage: "how long the emulated HSS takes to show a 2FA change (about 5 minutes on the real service)"},
			&cli.BoolFlag{Name: "keep", Usage: "leave the fleet up until interrupted and print how to use it"},
		},
		Action: runDemo,
	}
}

func runDemo(c *cli.Context) error {
	ctx := c.Context
	out, errw := c.App.Writer, c.App.ErrWriter
	if c.Int("hosts") < 0 || c.Int("windows") < 0 || c.Int("hosts")+c.Int("windows") == 0 {
		return usageErrorf("demo: --hosts and --windows: want at least one host")
	}
	rd, err := report.New(c.String("format"))
	if err != nil {
		return usageErrorf("demo: --format: %v", err)
	}
	dir, err := os.MkdirTemp("", "factorgate-demo-")
	if err != nil {
		return err
	}
	l, err := lab.Start(ctx, lab.Config{Linux: c.Int("hosts"), Windows: c.Int("windows"), Dir: dir,
		Unmanaged: 2, SeedTwoFactor: true, ApplyDelay: c.Duration("apply-delay")})
	if err != nil {
		os.RemoveAll(dir)
		return err
	}
	defer func() {
		l.Close()
		os.RemoveAll(dir)
	}()
	fmt.Fprintf(errw, "demo: %d servers over SSH and %d Windows servers over WinRM on 127.0.0.1, and an HSS API emulator at %s\n",
		c.Int("hosts"), c.Int("windows"), l.HSS.URL())

	inv, err := scanner.LoadInventory(l.InventoryPath)
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
	opts := scanner.Options{Concurrency: 16, Env: l.Getenv}
	tty := progressTerminal(errw, quiet(c))
	if sink := scanProgress(tty); sink != nil {
		opts.Progress = sink
	}
	cfg := audit.Config{Inventory: inv, Hosts: inv.Hosts, Evaluator: ev, Cloud: client,
		Topic: cloud.TopicOptions{AuthMode: cloud.AuthCode}, Scan: opts}
	res, err := audit.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if err := writeOutput(c.String("output"), out, func(w io.Writer) error {
		return renderResult(w, rd, res, "factorgate demo")
	}); err != nil {
		return err
	}

	ropts := remediate.Options{Action: remediate.Enable, AuthType: cloud.AuthCode, BatchSize: 5,
		VerifyTimeout: 10*c.Duration("apply-delay") + 30*time.Second, PollInterval: c.Duration("apply-delay") / 4, Progress: applyProgress(tty, remediate.Enable)}
	plan, err := remediate.NewPlan(res.Decisions, ropts)
	if err != nil {
		return err
	}
	fmt.Fprintln(out)
	if err := plan.Render(out); err != nil {
		return err
	}
	if !c.Bool("plan-only") && len(plan.Changes) > 0 {
		j, err := remediate.CreateJournal(filepath.Join(dir, "enable.journal.jsonl"))
		if err != nil {
			return err
		}
		ar, err := remediate.Apply(ctx, client, plan, j, ropts)
		j.Close()
		if err != nil {
			return err
		}
		ok := 0
		for _, h := range ar.Hosts {
			if h.Outcome == remediate.ResultOK {
				ok++
			}
		}
		fmt.Fprintf(out, "\nApplied and verified: 2FA on for %d of %d planned servers.\n", ok, len(plan.Changes))
		again, err := audit.Run(ctx, cfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Audit after enable: %s\n", summaryLine(again.Report().Summary))
	}
	if c.Bool("keep") {
		return keepDemo(ctx, out, l)
	}
	return nil
}

// renderResult renders an audit's report.
func renderResult(w io.Writer, rd report.Renderer, res *audit.Result, title string) error {
	rep := res.Report()
	return rd.Render(w, report.HeaderOf(rep, title), report.Decisions(rep.Decisions))
}

// summaryLine is "3 eligible, 5 enabled, ..." in the order of contract.Statuses.
func summaryLine(sum map[string]int) string {
	s := ""
	for _, st := range contract.Statuses {
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("%d %s", sum[st], st)
	}
	return s
}

func keepDemo(ctx context.Context, out io.Writer, l *lab.Lab) error {
	env, err := l.WriteEnvFile()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, `
The simulated fleet stays up until you press Ctrl-C. In another shell:

  set -a; . %s; set +a
  factorgate scan  -i %s
  factorgate check -i %s --format html -o report.html
  factorgate enable -i %s
`, env, l.InventoryPath, l.InventoryPath, l.InventoryPath)
	<-ctx.Done()
	return nil
}

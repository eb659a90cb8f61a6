package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/factorgate/factorgate/audit"
	"github.com/factorgate/factorgate/internal/demo"
	"github.com/factorgate/factorgate/remediate"
	"github.com/factorgate/factorgate/report"
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
Nothing leaves this machine, and nothing is written to the working
directory. With --keep the fleet stays up and the commands to try the other
verbs on it are printed.`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "hosts", Value: 30, Usage: "simulated servers over SSH, cycling through every profile (Linux, and Windows with OpenSSH)"},
			&cli.IntFlag{Name: "windows", Value: 10, Usage: "simulated Windows servers reached over WinRM"},
			formatFlag(),
			outputFlag("write the report to `FILE` (the plan and apply still go to stdout)"),
			&cli.BoolFlag{Name: "plan-only", Usage: "show the enable plan but do not apply it"},
			&cli.DurationFlag{Name: "apply-delay", Value: 2 * time.Second, Usage: "how long the emulated HSS takes to show a 2FA change (about 5 minutes on the real service)"},
			&cli.BoolFlag{Name: "keep", Usage: "leave the fleet up until interrupted and print how to use it"},
		},
		Action: runDemo,
	}
}

func runDemo(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErrorf("demo: unexpected argument %q", c.Args().First())
	}
	if c.Int("hosts") < 0 || c.Int("windows") < 0 || c.Int("hosts")+c.Int("windows") == 0 {
		return usageErrorf("demo: --hosts and --windows: want at least one host")
	}
	rd, err := report.New(c.String("format"))
	if err != nil {
		return usageErrorf("demo: --format: %v", err)
	}
	tty := progressTerminal(c.App.ErrWriter, quiet(c))
	err = demo.Run(c.Context, demo.Config{
		Linux: c.Int("hosts"), Windows: c.Int("windows"),
		ApplyDelay: c.Duration("apply-delay"), PlanOnly: c.Bool("plan-only"), Keep: c.Bool("keep"),
		Out: c.App.Writer, Err: c.App.ErrWriter,
		ScanProgress: scanProgress(tty, logOutOf(c)), ApplyProgress: applyProgress(tty, remediate.Enable, logOutOf(c)),
		Command: selfCommand(),
		Report: func(res *audit.Result) error {
			return writeOutput(c.String("output"), c.App.Writer, func(w io.Writer) error {
				rep := res.Report()
				return rd.Render(w, report.HeaderOf(rep, "factorgate demo"), report.Decisions(rep.Decisions))
			})
		},
	})
	if err != nil {
		return err
	}
	return nil
}

// selfCommand is how to run this factorgate again from a shell in the same
// directory: "factorgate" when that is what PATH finds, "go run
// ./cmd/factorgate" (or the path to it) when it was started by go run, else
// its absolute path.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "factorgate"
	}
	exe, _ = filepath.EvalSymlinks(exe)
	if p, err := exec.LookPath("factorgate"); err == nil {
		if p, err = filepath.EvalSymlinks(p); err == nil && p == exe {
			return "factorgate"
		}
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") && filepath.Base(filepath.Dir(exe)) == "exe" {
		if rel, ok := moduleCmdDir(); ok {
			return "go run " + rel
		}
		return "go run github.com/factorgate/factorgate/cmd/factorgate"
	}
	return exe
}

// moduleCmdDir finds the factorgate module around the working directory
// and returns its cmd/factorgate relative to it ("./cmd/factorgate").
func moduleCmdDir() (string, bool) {
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			if !slices.Contains(strings.Split(string(data), "\n"), "module github.com/factorgate/factorgate") {
				return "", false
			}
			rel, err := filepath.Rel(wd, filepath.Join(dir, "cmd", "factorgate"))
			if err != nil {
				return "", false
			}
			if rel != "." && !strings.HasPrefix(rel, "..") {
				rel = "./" + rel
			}
			return rel, true
		}
		if filepath.Dir(dir) == dir {
			return "", false
		}
	}
}

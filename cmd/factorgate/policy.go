package main

import (
	"bufio"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/factorgate/factorgate/policies"
)

func policyCommand() *cli.Command {
	return &cli.Command{
		Name:  "policy",
		Usage: "test the policies",
		Subcommands: []*cli.Command{{
			Name:  "test",
			Usage: "run the Rego unit tests (*_test.rego) of the bundle and of policy directories",
			Description: "Compiles the bundled policies with the policies of each DIR and runs every test rule\n" +
				"(test_*) through OPA's tester, as `opa test -v` does. Exit 0 when all pass, 1 when any\n" +
				"fails, 2 when a policy does not compile (FILE:LINE:COL).",
			ArgsUsage: "[DIR...]",
			Action:    runPolicyTest,
		}},
	}
}

func runPolicyTest(c *cli.Context) error {
	results, err := policies.RunTests(c.Context, c.Args().Slice())
	if err != nil {
		return err
	}
	w := bufio.NewWriter(c.App.Writer)
	defer w.Flush()
	passed, failed, skipped := 0, 0, 0
	file := ""
	for _, r := range results {
		if r.File != file {
			if file != "" {
				fmt.Fprintln(w)
			}
			file = r.File
			fmt.Fprintf(w, "%s:\n", file)
		}
		outcome := "PASS"
		switch {
		case r.Skip:
			outcome = "SKIPPED"
			skipped++
		case r.Err != nil:
			outcome = "ERROR"
			failed++
		case !r.Pass:
			outcome = "FAIL"
			failed++
		default:
			passed++
		}
		fmt.Fprintf(w, "%s: %s (%s)\n", r.Name, outcome, r.Duration.Round(time.Microsecond))
		if r.Err != nil {
			fmt.Fprintf(w, "  %s:%d: %s\n", r.File, r.Line, strings.ReplaceAll(r.Err.Error(), "\n", " "))
		}
		if !r.Pass && len(r.Output) > 0 {
			for _, line := range strings.Split(strings.TrimRight(string(r.Output), "\n"), "\n") {
				fmt.Fprintf(w, "  | %s\n", line)
			}
		}
	}
	fmt.Fprintln(w, strings.Repeat("-", 80))
	summary := fmt.Sprintf("%d passed, %d failed", passed, failed)
	if skipped > 0 {
		summary += fmt.Sprintf(", %d skipped", skipped)
	}
	fmt.Fprintln(w, summary)
	if err := w.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return &gateError{msg: fmt.Sprintf("policy test: %d of %d tests failed", failed, passed+failed)}
	}
	return nil
}

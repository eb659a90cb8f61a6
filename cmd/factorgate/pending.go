package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

// pending marks a verb whose implementation lands in its own file; each
// helper's file replaces its entry here.
func pending(name, usage string) *cli.Command {
	return &cli.Command{Name: name, Usage: usage, Hidden: true, Action: func(*cli.Context) error {
		return errors.New(name + ": not available in this build")
	}}
}

func demoCommand() *cli.Command    { return pending("demo", "scan and judge a simulated fleet on loopback") }
func scanCommand() *cli.Command    { return pending("scan", "collect facts from every server of an inventory") }
func checkCommand() *cli.Command   { return pending("check", "judge facts against the policies") }
func enableCommand() *cli.Command  { return pending("enable", "plan and apply 2FA on eligible servers") }
func disableCommand() *cli.Command { return pending("disable", "plan and apply the rollback of enable") }
func policyCommand() *cli.Command  { return pending("policy", "test the policies") }
func serveCommand() *cli.Command   { return pending("serve", "run audits on a schedule") }
func historyCommand() *cli.Command { return pending("history", "list and show past runs") }
func diffCommand() *cli.Command    { return pending("diff", "show drift between two runs") }

package main

import (
	"github.com/factorgate/factorgate/remediate"
	"github.com/urfave/cli/v2"
)

func disableCommand() *cli.Command {
	return remediateCommand(remediate.Disable,
		"plan and apply the rollback of enable: turn HSS 2FA off",
		`Plans turning 2FA off on the hosts that have it on (status enabled or
enabled_ineligible), and prints the plan. Nothing changes without --apply;
the apply is batched, journaled, verified and resumable as enable's is.`)
}

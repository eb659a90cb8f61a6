package main

import (
	"github.com/urfave/cli/v2"

	"github.com/factorgate/factorgate/remediate"
)

func disableCommand() *cli.Command {
	return remediateCommand(remediate.Disable,
		"plan and apply the rollback of enable: turn HSS 2FA off",
		`Plans turning 2FA off on the hosts that have it on, and prints the plan.
With cloud credentials, which hosts have it on is read from the HSS 2FA
host list, whatever the decisions say; without them, only the hosts whose
status is enabled or enabled_ineligible are planned, and the others are
listed as unknown. Nothing changes without --apply; the apply is batched,
journaled, verified and resumable as enable's is, and --format json gives
the same document.`)
}

package main

import "github.com/urfave/cli/v2"

func disableCommand() *cli.Command {
	return pending("disable", "plan and apply the rollback of enable")
}

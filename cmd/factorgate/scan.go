package main

import "github.com/urfave/cli/v2"

func scanCommand() *cli.Command {
	return pending("scan", "collect facts from every server of an inventory")
}

package main

import "github.com/urfave/cli/v2"

func demoCommand() *cli.Command {
	return pending("demo", "scan and judge a simulated fleet on loopback")
}

package main

import "github.com/urfave/cli/v2"

func diffCommand() *cli.Command { return pending("diff", "show drift between two runs") }

package main

import "github.com/urfave/cli/v2"

func serveCommand() *cli.Command { return pending("serve", "run audits on a schedule") }

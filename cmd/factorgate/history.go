package main

import "github.com/urfave/cli/v2"

func historyCommand() *cli.Command { return pending("history", "list and show past runs") }

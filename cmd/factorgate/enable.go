package main

import "github.com/urfave/cli/v2"

func enableCommand() *cli.Command { return pending("enable", "plan and apply 2FA on eligible servers") }

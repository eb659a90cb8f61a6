package main

import "github.com/urfave/cli/v2"

func policyCommand() *cli.Command { return pending("policy", "test the policies") }

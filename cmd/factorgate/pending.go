package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

// pending marks a verb not yet in this build.
func pending(name, usage string) *cli.Command {
	return &cli.Command{Name: name, Usage: usage, Hidden: true, Action: func(*cli.Context) error {
		return errors.New(name + ": not available in this build")
	}}
}

package main

import (
	"log/slog"

	"github.com/urfave/cli/v2"

	"github.com/factorgate/factorgate/policies"
	"github.com/factorgate/factorgate/waiver"
)

// checkWaivedChecks refuses a waiver whose check no loaded policy (the
// bundle or --policy) defines: it would waive nothing, silently. When a
// user policy computes its check IDs the list cannot be complete, and the
// refusal becomes a warning.
func checkWaivedChecks(f *waiver.File, dirs []string) error {
	known, complete, err := policies.KnownChecks(dirs)
	if err != nil {
		return err
	}
	err = f.CheckKnown(known)
	if err != nil && !complete {
		slog.Warn(err.Error() + "; a --policy computes its check IDs, so it may define it")
		return nil
	}
	return err
}

// waiverCoverage reads --waivers to learn which waivers cover some host
// of the run; nil without --waivers. The file was checked when the
// evaluator was built, so an error here leaves the warnings out.
func waiverCoverage(c *cli.Context) *waiver.Coverage {
	path := c.String("waivers")
	if path == "" {
		return nil
	}
	f, err := waiver.LoadFile(path, checkNow())
	if err != nil {
		return nil
	}
	return f.Coverage()
}

// warnUnmatchedWaivers logs a warning naming FILE:LINE for each waiver
// that covered no host of the run (a misspelt host or label).
func warnUnmatchedWaivers(cov *waiver.Coverage) {
	for _, w := range cov.Unmatched() {
		slog.Warn(w)
	}
}

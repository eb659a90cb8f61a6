package main

import (
	"context"
	"errors"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/scanner"
	"github.com/urfave/cli/v2"
)

// auditResult is one audit: the hosts scanned, their facts and decisions.
type auditResult struct {
	Inventory  *scanner.Inventory
	Facts      []contract.Facts
	Decisions  []contract.Decision // sorted by host
	NotScanned []contract.CloudHost
	Started    time.Time
	Finished   time.Time
}

// auditFlags are the flags of a scan-and-judge run (inventory, scan tuning,
// cloud, policies), shared by check -i, enable -i, serve and demo.
func auditFlags() []cli.Flag { return nil }

// runAudit scans the inventory named by the flags and judges every host.
func runAudit(ctx context.Context, c *cli.Context) (*auditResult, error) {
	return nil, errors.New("audit: not implemented")
}

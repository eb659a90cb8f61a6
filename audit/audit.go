// Package audit runs one audit of a fleet: scan every host (with the cloud's
// view where credentials allow), judge each as its facts arrive, and gather
// the decisions in host order. It is what `check -i`, `enable -i`, `serve`
// and `demo` run; [Run] is its entry point.
package audit

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/policies"
	"github.com/factorgate/factorgate/scanner"
	"github.com/factorgate/factorgate/scanner/inventory"
)

// Config is one audit's inputs.
type Config struct {
	Inventory *inventory.Inventory
	// Hosts are the inventory hosts to scan (after --limit).
	Hosts     []inventory.Host
	Scan      scanner.Options
	Evaluator *policies.Evaluator
	// Cloud, when set, adds the HSS view: protection, 2FA state, the topic.
	Cloud *cloud.Client
	Topic cloud.TopicOptions
	// KeepFacts keeps every host's Facts in the Result (for history).
	KeepFacts bool
	// OnFacts, when set, sees each host's Facts as it is scanned.
	OnFacts func(*contract.Facts)
}

// Result is what one audit found.
type Result struct {
	Inventory  *inventory.Inventory
	Facts      []contract.Facts    // sorted by host; only with KeepFacts
	Decisions  []contract.Decision // sorted by host
	NotScanned []contract.CloudHost
	Started    time.Time
	Finished   time.Time
}

// Report gathers the result's decisions into a report.
func (r *Result) Report() *contract.Report {
	rep := contract.NewReport(r.Finished, r.Decisions)
	rep.NotScanned = r.NotScanned
	return rep
}

// Run scans and judges cfg.Hosts. A host that cannot be scanned or judged is
// a decision (unreachable), never an error; Run fails only when the audit
// cannot be done at all: the cloud view cannot be loaded, the scan cannot
// start, or ctx ends.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	res := &Result{Inventory: cfg.Inventory, Started: time.Now().UTC()}
	opts := cfg.Scan
	if cfg.Cloud != nil {
		// Every inventory host is matched, not only those scanned now: a
		// host left out by --limit or --shard is in the inventory, so it
		// is not "not scanned".
		all := cfg.Hosts
		if cfg.Inventory != nil {
			all = cfg.Inventory.Hosts
		}
		view, err := cloud.NewView(ctx, cfg.Cloud, all, cfg.Topic)
		if err != nil {
			return nil, fmt.Errorf("cloud facts: %w", err)
		}
		opts.Cloud = view
		res.NotScanned = view.NotScanned()
	}
	var judgeErr error
	err := scanner.Scan(ctx, cfg.Hosts, opts, func(f *contract.Facts) {
		if cfg.OnFacts != nil {
			cfg.OnFacts(f)
		}
		if cfg.KeepFacts {
			res.Facts = append(res.Facts, *f)
		}
		d, err := cfg.Evaluator.DecideFacts(ctx, f)
		if err != nil {
			if judgeErr == nil {
				judgeErr = fmt.Errorf("judge %s: %w", f.Host.Name, err)
			}
			return
		}
		res.Decisions = append(res.Decisions, d)
	})
	if err != nil {
		return nil, err
	}
	if judgeErr != nil {
		return nil, judgeErr
	}
	slices.SortFunc(res.Facts, func(a, b contract.Facts) int { return cmp.Compare(a.Host.Name, b.Host.Name) })
	slices.SortFunc(res.Decisions, func(a, b contract.Decision) int { return cmp.Compare(a.Host, b.Host) })
	res.Finished = time.Now().UTC()
	return res, nil
}

// The cloud view is what the scanner asks for each host's cloud facts.
var _ scanner.CloudView = (*cloud.View)(nil)

// Package audit runs one audit of a fleet: scan every host (with the cloud's
// view where credentials allow), judge each as its facts arrive, and gather
// the decisions in host order. It is what `check -i`, `enable -i`, `serve`
// and `demo` run; [Run] is its entry point.
//
// [Judge] is the one pipeline under every audit: a source of Facts (a scan,
// [ScanSource], or saved facts, [Reader]) judged in parallel into a sink of
// Decisions; `check -i` and `check --facts` both run it.
package audit

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/history"
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

// History is the audit as the history keeps it, recorded by source
// ("check", "serve"): what identifies the run, and what it found.
func (r *Result) History(source string) (history.Meta, history.Result) {
	m := history.Meta{StartedAt: r.Started, Source: source}
	h := history.Result{Facts: r.Facts, Decisions: r.Decisions, NotScanned: r.NotScanned, FinishedAt: r.Finished}
	if r.Inventory != nil {
		m.Inventory, m.InventoryDigest = r.Inventory.Path, r.Inventory.Digest
		h.Inventory, h.InventoryDigest = r.Inventory.Path, r.Inventory.Digest
	}
	return m, h
}

// Report gathers the result's decisions into a report.
func (r *Result) Report() *contract.Report {
	rep := contract.NewReport(r.Finished, r.Decisions)
	rep.NotScanned = r.NotScanned
	return rep
}

// Run scans and judges cfg.Hosts. A host that cannot be scanned is a
// decision (unreachable), never an error; Run fails only when the audit
// cannot be done at all: the cloud view cannot be loaded, the scan cannot
// start, a policy cannot judge a host (a user rule that conflicts with
// itself: the policy is at fault, not the host), or ctx ends.
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
	err := Judge(ctx, cfg.Evaluator, ScanSource(cfg.Hosts, opts, func(f *contract.Facts) {
		if cfg.OnFacts != nil {
			cfg.OnFacts(f)
		}
		if cfg.KeepFacts {
			res.Facts = append(res.Facts, *f)
		}
	}), func(d contract.Decision) error {
		res.Decisions = append(res.Decisions, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(res.Facts, func(a, b contract.Facts) int { return cmp.Compare(a.Host.Name, b.Host.Name) })
	slices.SortFunc(res.Decisions, func(a, b contract.Decision) int { return cmp.Compare(a.Host, b.Host) })
	res.Finished = time.Now().UTC()
	return res, nil
}

// The cloud view is what the scanner asks for each host's cloud facts.
var _ scanner.CloudView = (*cloud.View)(nil)

// Source yields the Facts of an audit one host at a time, as
// [policies.Evaluator.Judge] takes them: the Facts and/or the raw JSON line
// they came from, and io.EOF at the end.
type Source func() (*contract.Facts, []byte, error)

// ScanSource scans hosts and yields each host's Facts as its scan ends;
// seen, when set, sees each Facts first (in the scanner's goroutine, one
// call at a time). The scan stops when the source's consumer stops.
func ScanSource(hosts []inventory.Host, opts scanner.Options, seen func(*contract.Facts)) func(ctx context.Context) Source {
	return func(ctx context.Context) Source {
		facts := make(chan *contract.Facts, 64)
		var scanErr error
		go func() {
			defer close(facts)
			scanErr = scanner.Scan(ctx, hosts, opts, func(f *contract.Facts) {
				if seen != nil {
					seen(f)
				}
				select {
				case facts <- f:
				case <-ctx.Done():
				}
			})
		}()
		return func() (*contract.Facts, []byte, error) {
			f, ok := <-facts
			if !ok {
				if scanErr != nil {
					return nil, nil, scanErr
				}
				return nil, nil, io.EOF
			}
			return f, nil, nil
		}
	}
}

// Judge is the one pipeline of every audit: it takes the Facts a source
// yields (a scan, or a saved facts file) and judges them in parallel with
// ev, handing each Decision to sink as it is reached, one call at a time,
// in no particular order. It ends when the source is exhausted or at the
// first error of the source, a judgement or the sink.
func Judge(ctx context.Context, ev *policies.Evaluator, source func(ctx context.Context) Source, sink func(contract.Decision) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := source(ctx)
	err := ev.Judge(ctx, next, sink)
	cancel()
	// Drain what the source still holds so that its producer ends.
	for {
		if _, _, e := next(); e != nil {
			break
		}
	}
	return err
}

// Reader is a Source over a stream of saved Facts (check --facts). Once
// ctx is done it reads no further and yields ctx's error, so that [Judge]
// ending early does not read the rest of the stream, which may be a pipe
// from a scan still running.
func Reader(next func() (*contract.Facts, []byte, error)) func(ctx context.Context) Source {
	return func(ctx context.Context) Source {
		return func() (*contract.Facts, []byte, error) {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			return next()
		}
	}
}

package policies

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"sync"

	"github.com/factorgate/factorgate/contract"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/valyala/fastjson"
	"golang.org/x/sync/errgroup"
)

// Options say which policies and data an [Evaluator] judges with.
type Options struct {
	// PolicyDirs are directories (or single files) of user .rego policies,
	// loaded beside the bundle; their *_test.rego files are left out.
	PolicyDirs []string
	// DataFiles are YAML or JSON data documents (see [LoadData]), merged
	// in order at the root of data.
	DataFiles []string
	// Params override data.factorgate.params key by key, after the data
	// files (e.g. {"auth_mode": "sms"} from --auth-mode).
	Params map[string]any
	// Waivers become data.factorgate.waivers (data files cannot set
	// it). Each is {"host": glob or "", "selector": {label: value} or
	// nil, "check": id, "justification": text, "expires": "YYYY-MM-DD"},
	// already filtered for expiry (see the waiver package).
	Waivers []map[string]any
	// Workers bounds how many hosts [Evaluator.Judge] judges at once;
	// 0 means GOMAXPROCS.
	Workers int
	// CacheBytes bounds the memory of the verdict cache: hosts whose Facts
	// differ only in their identity (name, address, labels...) are judged
	// once and get a copy of the verdict, with their own identity (see
	// cache.go for when that is exact). 0 means [DefaultCacheBytes]; a
	// negative value turns the cache off.
	CacheBytes int
}

// Evaluator judges Facts with one compiled, prepared query. It is safe
// for concurrent use.
type Evaluator struct {
	pq      rego.PreparedEvalQuery
	params  map[string]any
	workers int

	// The verdict cache, nil when off; cover evaluates the waivers
	// covering a host when plan.covering.
	plan  *cachePlan
	cache *verdictCache
	cover rego.PreparedEvalQuery
	// covers remember the waivers covering hosts by their labels.
	coverMu sync.Mutex
	covers  map[string]string
	// uncached says why the cache is off, when the policies forbid it.
	uncached string
}

// New loads the bundle, the user policies and the data of opts, compiles
// them once and prepares the decision query. A policy that does not
// compile is a *[CompileError] naming FILE:LINE:COL; a bad data file is an
// error naming the file.
func New(ctx context.Context, opts Options) (*Evaluator, error) {
	mods, err := allModules(opts.PolicyDirs, false)
	if err != nil {
		return nil, err
	}
	data, err := buildData(opts)
	if err != nil {
		return nil, err
	}
	c := newCompiler()
	if c.Compile(mods); c.Failed() {
		return nil, compileError(c.Errors)
	}
	store := inmem.NewFromObjectWithOpts(data, inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))

	pq, err := rego.New(
		rego.Query(Query),
		rego.Compiler(c),
		rego.Capabilities(c.Capabilities()),
		rego.Store(store),
		rego.GenerateJSON(keepAST),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare the decision query: %w", compileError(err))
	}

	// The effective parameters, for callers that act on them (enable
	// uses auth_mode); a conflict in user data shows here, not per host.
	rs, err := rego.New(
		rego.Query("data.factorgate.lib.params"),
		rego.Compiler(c),
		rego.Capabilities(c.Capabilities()),
		rego.Store(store),
	).Eval(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the parameters: %w", err)
	}
	params := map[string]any{}
	if len(rs) == 1 && len(rs[0].Expressions) == 1 {
		if m, ok := rs[0].Expressions[0].Value.(map[string]any); ok {
			params = m
		}
	}
	w := opts.Workers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	ev := &Evaluator{pq: pq, params: params, workers: w}
	if opts.CacheBytes >= 0 {
		size := opts.CacheBytes
		if size == 0 {
			size = DefaultCacheBytes
		}
		ev.plan, ev.uncached = planCache(c, opts.Waivers)
		if ev.plan != nil {
			ev.cache = newVerdictCache(size)
		}
		if ev.plan != nil && ev.plan.covering {
			ev.covers = map[string]string{}
			ev.cover, err = rego.New(
				rego.Query("data.factorgate.decision.covering_waivers"),
				rego.Compiler(c),
				rego.Capabilities(c.Capabilities()),
				rego.Store(store),
			).PrepareForEval(ctx)
			if err != nil {
				return nil, fmt.Errorf("prepare the waiver query: %w", compileError(err))
			}
		}
	}
	return ev, nil
}

// keepAST hands the query result back as an AST value: decodeDecision
// reads it directly.
func keepAST(t *ast.Term, _ *rego.EvalContext) (any, error) { return t.Value, nil }

// buildData merges the data files, params and waivers of opts into one
// data document.
func buildData(opts Options) (map[string]any, error) {
	data := map[string]any{}
	for _, f := range opts.DataFiles {
		d, err := LoadData(f)
		if err != nil {
			return nil, err
		}
		mergeData(data, d)
	}
	if len(opts.Params) == 0 && len(opts.Waivers) == 0 {
		return data, nil
	}
	fg, _ := data["factorgate"].(map[string]any)
	if fg == nil {
		fg = map[string]any{}
		data["factorgate"] = fg
	}
	if len(opts.Params) > 0 {
		p, err := normalize(map[string]any(opts.Params), "params")
		if err != nil {
			return nil, err
		}
		if err := ValidateParams(p.(map[string]any)); err != nil {
			return nil, fmt.Errorf("params.%w", err)
		}
		dst, _ := fg["params"].(map[string]any)
		if dst == nil {
			dst = map[string]any{}
			fg["params"] = dst
		}
		maps.Copy(dst, p.(map[string]any))
	}
	if len(opts.Waivers) > 0 {
		ws, _ := fg["waivers"].([]any)
		for i, w := range opts.Waivers {
			n, err := normalize(map[string]any(w), fmt.Sprintf("waivers[%d]", i))
			if err != nil {
				return nil, err
			}
			ws = append(ws, n)
		}
		fg["waivers"] = ws
	}
	return data, nil
}

// Params returns the effective parameters: the bundle's defaults
// overridden by data and [Options.Params].
func (e *Evaluator) Params() map[string]any { return maps.Clone(e.params) }

// Decide judges one host from its raw Facts JSON (as [contract.Reader]
// returns it). raw is not kept.
func (e *Evaluator) Decide(ctx context.Context, raw []byte) (contract.Decision, error) {
	if e.cache == nil {
		in, err := parseInput(raw)
		if err != nil {
			return contract.Decision{}, err
		}
		return e.decide(ctx, in)
	}
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.ParseBytes(raw)
	if err != nil {
		return contract.Decision{}, fmt.Errorf("not valid JSON: %w", err)
	}
	if v.Type() != fastjson.TypeObject {
		return contract.Decision{}, errors.New("not a JSON object")
	}
	kb := keyBufs.Get().(*[]byte)
	defer keyBufs.Put(kb)
	key, id, ok := e.plan.keyOf((*kb)[:0], v)
	if ok && e.plan.covering {
		if key, err = e.appendCovering(ctx, key, id.host); err != nil {
			return contract.Decision{}, err
		}
	}
	*kb = key
	if ok {
		if d, hit := e.cache.get(key); hit {
			d.Host, d.Address, d.HSSHostID, d.Labels = id.name, id.address, id.hssHostID, id.labels
			return d, nil
		}
	}
	d, err := e.decide(ctx, toAST(v))
	if err == nil && ok {
		e.cache.put(key, d)
	}
	return d, err
}

var keyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// appendCovering appends to key the waivers covering the host, evaluated
// on its name and labels alone.
// When no waiver names hosts, they are remembered by the host's labels.
func (e *Evaluator) appendCovering(ctx context.Context, key []byte, host *fastjson.Value) ([]byte, error) {
	key = append(key, 0, 'W')
	var labels []byte
	if e.plan.byLabels {
		labels = append(labels, 'L')
		if l := host.Get("labels"); l != nil {
			labels = l.MarshalTo(labels)
		}
		e.coverMu.Lock()
		c, ok := e.covers[string(labels)]
		e.coverMu.Unlock()
		if ok {
			return append(key, c...), nil
		}
	}
	in := ast.NewObject([2]*ast.Term{ast.StringTerm("host"), ast.NewTerm(toAST(host))})
	rs, err := e.cover.Eval(ctx, rego.EvalParsedInput(in))
	if err != nil {
		return key, err
	}
	var c string
	if len(rs) == 1 && len(rs[0].Expressions) == 1 {
		c = fmt.Sprintf("%v", rs[0].Expressions[0].Value)
	}
	if e.plan.byLabels {
		e.coverMu.Lock()
		if len(e.covers) >= maxCovers {
			clear(e.covers)
		}
		e.covers[string(labels)] = c
		e.coverMu.Unlock()
	}
	return append(key, c...), nil
}

// maxCovers bounds how many label sets the waivers covering hosts are
// remembered for.
const maxCovers = 4096

// cacheStats are the hits and misses of the verdict cache.
func (e *Evaluator) cacheStats() (hits, misses int64) {
	if e.cache == nil {
		return 0, 0
	}
	e.cache.mu.Lock()
	defer e.cache.mu.Unlock()
	return e.cache.hits, e.cache.misses
}

// DecideFacts judges one host from its Facts.
func (e *Evaluator) DecideFacts(ctx context.Context, f *contract.Facts) (contract.Decision, error) {
	raw, err := factsJSON(f)
	if err != nil {
		return contract.Decision{}, err
	}
	return e.Decide(ctx, raw)
}

// ErrNoDecision is returned by [Evaluator.Decide] when the policies give
// no decision for a host, e.g. because its Facts lack host.name.
var ErrNoDecision = errors.New("the policies gave no decision")

func (e *Evaluator) decide(ctx context.Context, in ast.Value) (contract.Decision, error) {
	rs, err := e.pq.Eval(ctx, rego.EvalParsedInput(in))
	if err != nil {
		return contract.Decision{}, err
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return contract.Decision{}, ErrNoDecision
	}
	v, ok := rs[0].Expressions[0].Value.(ast.Value)
	if !ok {
		return contract.Decision{}, fmt.Errorf("decision is %T, not an AST value", rs[0].Expressions[0].Value)
	}
	return decodeDecision(v)
}

// Judge decides every host next yields, up to the evaluator's worker count
// at once, and hands each Decision to emit as it is reached: in no
// particular order, one call at a time. next returns the Facts and/or the
// raw JSON line they came from (raw may be nil; it is copied before next
// is called again) and io.EOF at the end. Judge stops at the first error
// of next, of a decision or of emit, and returns it.
func (e *Evaluator) Judge(ctx context.Context, next func() (*contract.Facts, []byte, error), emit func(contract.Decision) error) error {
	parent := ctx
	g, ctx := errgroup.WithContext(ctx)
	// Long-lived workers rather than a goroutine per host: evaluation
	// recurses deeply, and a fresh goroutine would grow its stack anew for
	// every host.
	type job struct {
		f   *contract.Facts
		raw []byte
	}
	jobs := make(chan job, e.workers)
	var mu sync.Mutex
	for range e.workers {
		g.Go(func() error {
			for {
				var j job
				select {
				case <-ctx.Done():
					return nil
				case jj, ok := <-jobs:
					if !ok {
						return nil
					}
					j = jj
				}
				d, err := e.Decide(ctx, j.raw)
				if err != nil {
					return fmt.Errorf("judge %s: %w", hostOf(j.f, j.raw), err)
				}
				mu.Lock()
				err = emit(d)
				mu.Unlock()
				if err != nil {
					return err
				}
			}
		})
	}
	// The producer runs on its own: when a judgement fails or ctx ends,
	// Judge returns at once rather than wait for next, which may be
	// blocked on a reader (a pipe on stdin) that has nothing to say yet.
	produced := make(chan error, 1)
	go func() {
		defer close(jobs)
		produced <- func() error {
			for {
				f, raw, err := next()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return err
				}
				var in []byte
				if raw != nil {
					in = append([]byte(nil), raw...)
				} else if in, err = factsJSON(f); err != nil {
					return err
				}
				select {
				case jobs <- job{f, in}:
				case <-ctx.Done():
					return nil
				}
			}
		}()
	}()
	if err := g.Wait(); err != nil {
		return err
	}
	if parent.Err() != nil {
		return context.Cause(parent)
	}
	return <-produced
}

func hostOf(f *contract.Facts, raw []byte) string {
	if f != nil && f.Host.Name != "" {
		return f.Host.Name
	}
	if len(raw) > 60 {
		raw = raw[:60]
	}
	return fmt.Sprintf("%q", raw)
}

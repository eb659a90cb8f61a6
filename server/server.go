// Package server runs audits on a schedule and serves their results: the
// engine of `factorgate serve`.
//
// Build a [Server] with [New] from a [Config] whose Audit function does one
// scan-and-judge run, then call [Server.Run] with a listener. Each tick of the
// cron schedule (and one run at start, if asked) records a run in the
// [history.Store], updates the Prometheus metrics, and when a host entered
// enabled_ineligible or fell from eligible since the previous run, posts the
// drift to a webhook (see [Webhook]). Runs never overlap: a tick that comes
// while a run is in progress is skipped.
//
// # Replicas
//
// Several servers may share one PostgreSQL history: all serve its pages,
// and each tick of the schedule runs on exactly one of them, the one that
// takes a PostgreSQL advisory lock (pg_try_advisory_lock, on a key derived
// from [Config.Inventory] and [Config.Schedule]) and claims the tick first
// ([history.Store.ClaimTick]). The others count the tick as
// other_replica. "@every D" ticks on multiples of D, so that replicas
// started at other times tick together.
//
// # HTTP
//
//	GET /                    the latest finished run of serve as an HTML report
//	GET /runs                the runs, newest first, as JSON (?limit=N)
//	GET /runs/{run}          one run's report (?format=json|html|csv|...; run: N, latest, previous)
//	GET /runs/{run}/drift    the drift from the run before it (?from=RUN)
//	GET /metrics             Prometheus metrics
//	GET /healthz             200 while the history answers
//
// # Stopping
//
// When the context given to [Server.Run] is canceled (SIGTERM), no new run
// starts; the run in progress gets [Config.ShutdownGrace] to finish, then its
// context is canceled and it is recorded as interrupted; then the HTTP server
// shuts down gracefully.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/history"
	"github.com/robfig/cron/v3"
)

// Source is the source recorded with every run of a [Server].
const Source = "serve"

// AuditFunc does one audit: it scans and judges the fleet and returns what
// the run produced. An error means the run failed; if ctx was canceled, the
// run is recorded as interrupted. Inventory and InventoryDigest of the
// result, when set, are recorded with the run.
type AuditFunc func(ctx context.Context) (*history.Result, error)

// Config is what a [Server] needs.
type Config struct {
	// Audit does one run. Required.
	Audit AuditFunc
	// Store keeps the runs. Required.
	Store *history.Store
	// Schedule is a cron spec: five fields (minute hour dom month dow), six
	// with seconds first, or a descriptor such as "@every 6h" or "@daily".
	// "CRON_TZ=Europe/Paris 0 3 * * *" picks a time zone; the default is
	// the local one. Required.
	Schedule string
	// RunAtStart runs an audit as soon as the server starts, without
	// waiting for the first tick.
	RunAtStart bool
	// Inventory names what is audited, recorded with each run until the
	// audit reports its own.
	Inventory string
	// ShutdownGrace is how long a run in progress may go on once the
	// server is told to stop; zero cancels it at once.
	ShutdownGrace time.Duration
	// Retention, when positive, deletes after each run the runs that
	// started longer ago than this (see [history.Store.Prune]).
	Retention time.Duration
	// RecordTimeout bounds each write to the history; zero is 30s.
	RecordTimeout time.Duration
	// Webhook receives drift events; a zero URL sends none.
	Webhook Webhook
	// Logger logs runs and deliveries; nil discards.
	Logger *slog.Logger
	// AllowedHosts are the host names (a port may follow) that requests
	// may name in their Host header, beside localhost and the address the
	// server listens on; a request for any other host is refused with 421.
	// Names compare without regard to case.
	AllowedHosts []string
}

// Server runs scheduled audits and serves their results.
type Server struct {
	cfg      Config
	sched    cron.Schedule
	log      *slog.Logger
	metrics  *metrics
	hook     *webhookSender
	mux      *http.ServeMux
	guard    *hostGuard
	mu       sync.Mutex
	stopping bool
	// recorded is the inventory the last run recorded, if any.
	recorded string
	drift    driftCache
	inflight sync.WaitGroup
	runCtx   context.Context
}

// specParser reads schedules: seconds optional, descriptors allowed.
var specParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule checks a cron spec as [Config.Schedule] takes it.
func ParseSchedule(spec string) (cron.Schedule, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("empty schedule (want e.g. '@every 6h' or '0 3 * * *')")
	}
	s, err := specParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %v", spec, err)
	}
	if every, ok := s.(cron.ConstantDelaySchedule); ok {
		return alignedEvery(every.Delay), nil
	}
	return s, nil
}

// alignedEvery is "@every D" on ticks that are multiples of D since the
// zero time (for a D that divides a day, from midnight UTC), rather than
// from the server's start: replicas started at other times tick together.
type alignedEvery time.Duration

// Next returns the first tick after t.
func (d alignedEvery) Next(t time.Time) time.Time {
	return t.Truncate(time.Duration(d)).Add(time.Duration(d))
}

// New checks cfg and builds a server. It does not start anything.
func New(cfg Config) (*Server, error) {
	if cfg.Audit == nil {
		return nil, errors.New("server: no audit function")
	}
	if cfg.Store == nil {
		return nil, errors.New("server: no history store")
	}
	sched, err := ParseSchedule(cfg.Schedule)
	if err != nil {
		return nil, err
	}
	if cfg.RecordTimeout <= 0 {
		cfg.RecordTimeout = 30 * time.Second
	}
	if cfg.ShutdownGrace < 0 {
		return nil, errors.New("server: negative shutdown grace")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	hook, err := newWebhookSender(cfg.Webhook, log)
	if err != nil {
		return nil, err
	}
	guard, err := newHostGuard(cfg.AllowedHosts, nil)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s := &Server{cfg: cfg, sched: sched, log: log, metrics: newMetrics(), hook: hook, guard: guard, runCtx: context.Background()}
	s.routes()
	return s, nil
}

// Handler returns the HTTP handler of the server, for tests and for
// mounting it elsewhere. It answers requests for localhost and
// [Config.AllowedHosts]; [Server.Run] serves it, answering the address it
// listens on as well.
func (s *Server) Handler() http.Handler { return s.guard.wrap(s, s.mux) }

// Run starts the schedule and serves HTTP on ln until ctx is canceled, then
// stops as the package comment says. It returns nil after a clean stop, or
// the error that stopped it (the listener failed).
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.RecordTimeout)
	// A run left running is stale only if no replica is running it.
	release, free, err := s.cfg.Store.TryLock(rec, s.lockName())
	if err != nil {
		cancel()
		return err
	}
	if free {
		n, err := s.cfg.Store.InterruptStaleIn(rec, history.Scope{Source: Source, Inventory: s.cfg.Inventory})
		release()
		if err != nil {
			cancel()
			return err
		}
		if n > 0 {
			s.log.Warn("runs left running by an earlier serve marked interrupted", "runs", n)
		}
	}
	s.metrics.restore(rec, s.cfg.Store, s.scope())
	cancel()

	runCtx, cancelRuns := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRuns()
	s.mu.Lock()
	s.runCtx = runCtx
	s.mu.Unlock()

	guard, err := newHostGuard(s.cfg.AllowedHosts, ln.Addr())
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           guard.wrap(s, s.mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String(), "schedule", s.cfg.Schedule)

	cl := cronLogger{l: s.log, skipped: func() { s.metrics.runs.WithLabelValues("skipped").Inc() }}
	c := cron.New(cron.WithParser(specParser), cron.WithLogger(cl))
	chain := cron.NewChain(cron.Recover(cl), cron.SkipIfStillRunning(cl))
	// The job learns the tick it was started for from its entry: the
	// scheduler sets Prev to it before it starts the job.
	// The run at start goes through the same job, so that a tick that
	// comes during it is skipped.
	var entry cron.EntryID
	var startPending atomic.Bool
	startPending.Store(s.cfg.RunAtStart)
	job := chain.Then(cron.FuncJob(func() {
		if startPending.CompareAndSwap(true, false) {
			s.tick(time.Time{})
			return
		}
		s.tick(c.Entry(entry).Prev)
	}))
	entry = c.Schedule(s.sched, job)
	c.Start()
	if s.cfg.RunAtStart {
		go job.Run()
	}

	select {
	case <-ctx.Done():
		s.log.Info("stopping", "grace", s.cfg.ShutdownGrace)
	case err = <-served:
		s.log.Error("HTTP server failed", "err", err)
	}
	// Stop the schedule and let no run start, then give the run in progress
	// its grace and cancel it, and only then wait for the scheduler: its
	// Done waits for the job it started, which must not outlast the grace.
	cronStopped := c.Stop()
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	if s.cfg.ShutdownGrace > 0 {
		select {
		case <-done:
		case <-time.After(s.cfg.ShutdownGrace):
		}
	}
	cancelRuns()
	<-done
	<-cronStopped.Done()

	shutdown, cancelShutdown := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelShutdown()
	if serr := srv.Shutdown(shutdown); serr != nil && err == nil {
		err = serr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// scope is the runs this server records: its source and its inventory (the
// one its last run recorded, else the configured one, if any). The page of
// the latest run and the restored metrics come from these only, not from a
// report imported or checked into the history.
func (s *Server) scope() history.Scope {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.recorded
	if inv == "" {
		inv = s.cfg.Inventory
	}
	return history.Scope{Source: Source, Inventory: inv}
}

// errStopped is why a run cut short by a stop is interrupted.
var errStopped = fmt.Errorf("factorgate serve was told to stop: %w", context.Canceled)

// lockName names what replicas of one serve share: the advisory lock that
// lets one audit run at a time, and the schedule whose ticks they claim.
// It is derived from the inventory and the schedule, so that replicas
// started alike agree on it.
func (s *Server) lockName() string {
	return "serve\x00" + s.cfg.Inventory + "\x00" + s.cfg.Schedule
}

// tick does one run: begin, audit, record, metrics, drift webhook. at is
// the tick of the schedule the run is for, zero for the run at start.
// Replicas on one PostgreSQL history share the work: a tick runs only on
// the replica that takes the advisory lock and claims it first.
func (s *Server) tick(at time.Time) {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return
	}
	s.inflight.Add(1)
	ctx := s.runCtx
	s.mu.Unlock()
	defer s.inflight.Done()

	rec := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(ctx), s.cfg.RecordTimeout)
	}
	rctx, cancel := rec()
	release, ok, err := s.cfg.Store.TryLock(rctx, s.lockName())
	if err == nil && ok && !at.IsZero() {
		if ok, err = s.cfg.Store.ClaimTick(rctx, s.lockName(), at); err != nil || !ok {
			release()
		}
	}
	if err != nil {
		cancel()
		s.log.Error("cannot claim the run; skipping it", "err", err)
		s.metrics.runs.WithLabelValues("record_error").Inc()
		return
	}
	if !ok {
		// Another replica runs it, or is running the one before: its
		// run is in the history; take the metrics from there.
		s.log.Info("another replica runs this audit; skipping it", "tick", at)
		s.metrics.runs.WithLabelValues("other_replica").Inc()
		s.metrics.restore(rctx, s.cfg.Store, s.scope())
		cancel()
		return
	}
	cancel()
	defer release()

	s.metrics.inProgress.Set(1)
	defer s.metrics.inProgress.Set(0)
	rctx, cancel = rec()
	id, err := s.cfg.Store.BeginRun(rctx, history.Meta{Inventory: s.cfg.Inventory, Source: Source, ScheduledAt: at})
	cancel()
	if err != nil {
		s.log.Error("cannot record a new run; skipping it", "err", err)
		s.metrics.runs.WithLabelValues("record_error").Inc()
		return
	}
	s.log.Info("run started", "run", id)
	start := time.Now()
	res, err := s.safeAudit(ctx)
	if res == nil {
		res = &history.Result{}
	}
	if err != nil && ctx.Err() != nil {
		err = errStopped
	}
	res.Err = err

	rctx, cancel = rec()
	defer cancel()
	if ferr := s.cfg.Store.FinishRun(rctx, id, *res); ferr != nil {
		s.log.Error("cannot record the run's end", "run", id, "err", ferr)
		s.metrics.runs.WithLabelValues("record_error").Inc()
		return
	}
	run, gerr := s.cfg.Store.GetRun(rctx, id)
	if gerr != nil {
		s.log.Error("cannot read the run back", "run", id, "err", gerr)
		return
	}
	if run.Status == history.StatusOK {
		s.mu.Lock()
		s.recorded = run.Inventory
		s.mu.Unlock()
	}
	s.metrics.observe(run, time.Since(start))
	if s.cfg.Retention > 0 {
		if n, err := s.cfg.Store.Prune(rctx, time.Now().Add(-s.cfg.Retention), s.scope()); err != nil {
			s.log.Error("cannot delete old runs", "err", err)
		} else if n > 0 {
			s.log.Info("old runs deleted", "runs", n, "retention", s.cfg.Retention)
		}
	}
	level := slog.LevelInfo
	if run.Status != history.StatusOK {
		level = slog.LevelError
	}
	s.log.Log(rctx, level, "run finished", "run", id, "status", run.Status, "hosts", run.Hosts, "duration", run.Duration, "err", run.Error)
	if run.Status != history.StatusOK {
		return
	}
	prevID, perr := s.cfg.Store.PreviousIn(rctx, id, history.ScopeOf(run))
	if errors.Is(perr, history.ErrNotFound) {
		return
	}
	if perr != nil {
		s.log.Error("cannot find the previous run", "run", id, "err", perr)
		return
	}
	prev, perr := s.cfg.Store.GetRun(rctx, prevID)
	if perr != nil {
		s.log.Error("cannot read the previous run", "run", prevID, "err", perr)
		return
	}
	drift := history.Diff(prev, run)
	for _, e := range drift.Events {
		s.metrics.driftEvents.WithLabelValues(e.Kind).Inc()
		s.log.Warn("drift", "run", id, "host", e.Host, "event", e.Kind, "from", e.From, "to", e.To)
	}
	if len(drift.Events) > 0 && s.hook != nil {
		ok := s.hook.send(ctx, newPayload(prev, run, drift))
		outcome := "ok"
		if !ok {
			outcome = "failed"
		}
		s.metrics.webhooks.WithLabelValues(outcome).Inc()
	}
}

// safeAudit runs the audit function, turning a panic into a failed run.
func (s *Server) safeAudit(ctx context.Context) (res *history.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("audit panicked: %v", p)
		}
	}()
	return s.cfg.Audit(ctx)
}

// Payload is the JSON body the drift webhook receives.
type Payload struct {
	// Schema is "factorgate/drift-webhook/v1".
	Schema string `json:"schema"`
	// Run is the new run, Previous the one it is compared with.
	Run      RunRef `json:"run"`
	Previous RunRef `json:"previous"`
	// Summary is the new run's count of hosts by status.
	Summary map[contract.Status]int `json:"summary"`
	// Events are the drift events: hosts that entered enabled_ineligible
	// (entered_enabled_ineligible), fell from eligible (fell_from_eligible)
	// or, eligible, enabled or enabled_ineligible before, are gone from the
	// run (disappeared).
	Events []history.Event `json:"events"`
	// Drift is the whole drift between the two runs.
	Drift history.Drift `json:"drift"`
}

// PayloadSchema is the schema tag of a [Payload].
const PayloadSchema = "factorgate/drift-webhook/v1"

// RunRef names a run in a [Payload].
type RunRef struct {
	ID         history.RunID `json:"id"`
	StartedAt  time.Time     `json:"started_at"`
	FinishedAt *time.Time    `json:"finished_at"`
	Inventory  string        `json:"inventory"`
}

func newPayload(prev, run *history.Run, d history.Drift) Payload {
	ref := func(r *history.Run) RunRef {
		return RunRef{ID: r.ID, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Inventory: r.Inventory}
	}
	sum := map[contract.Status]int{}
	for _, st := range contract.Statuses {
		sum[st] = run.Counts[st]
	}
	return Payload{Schema: PayloadSchema, Run: ref(run), Previous: ref(prev), Summary: sum, Events: d.Events, Drift: d}
}

// cronLogger sends the scheduler's messages to slog.
type cronLogger struct {
	l       *slog.Logger
	skipped func()
}

func (c cronLogger) Info(msg string, kv ...any) {
	if msg == "skip" {
		if c.skipped != nil {
			c.skipped()
		}
		c.l.Warn("a scheduled run was skipped: the previous run is still in progress")
		return
	}
	c.l.Debug("cron: "+msg, kv...)
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}

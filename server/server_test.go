package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/history"
	"github.com/factorgate/factorgate/internal/pgtest"
	"github.com/factorgate/factorgate/policies"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// waitLimit bounds every wait of these tests; none waits this long when
// things work.
const waitLimit = 20 * time.Second

// newStore opens a new SQLite history in a temporary directory.
func newStore(t *testing.T) *history.Store {
	t.Helper()
	s, err := history.Open(context.Background(), filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// factsAudit is a real, small audit: it judges the Facts in a file through
// the bundled policies, as `check --facts` does.
func factsAudit(t *testing.T, path string) AuditFunc {
	t.Helper()
	ev, err := policies.New(context.Background(), policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return func(ctx context.Context) (*history.Result, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		res := &history.Result{Inventory: "fleet.jsonl"}
		r := contract.NewReader(f, path)
		for {
			facts, _, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return res, err
			}
			d, err := ev.DecideFacts(ctx, facts)
			if err != nil {
				return res, err
			}
			res.Facts = append(res.Facts, *facts)
			res.Decisions = append(res.Decisions, d)
		}
		sort.Slice(res.Decisions, func(i, j int) bool { return res.Decisions[i].Host < res.Decisions[j].Host })
		return res, nil
	}
}

// copyFile replaces dst with src atomically, as a rescan would.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

// started is a server running in the background on a loopback port.
type started struct {
	srv    *Server
	base   string
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func start(t *testing.T, cfg Config) *started {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	st := &started{srv: srv, base: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { st.done <- srv.Run(ctx, ln) }()
	t.Cleanup(func() { st.stop(t) })
	return st
}

// stop cancels the server, as SIGTERM does, and waits for Run to return.
func (st *started) stop(t *testing.T) {
	t.Helper()
	st.once.Do(func() {
		st.cancel()
		select {
		case err := <-st.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(waitLimit):
			t.Fatal("Run did not return after cancel")
		}
	})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// finishedRuns counts the runs of a status.
func finishedRuns(t *testing.T, s *history.Store, status history.Status) int {
	t.Helper()
	runs, err := s.ListRuns(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range runs {
		if r.Status == status {
			n++
		}
	}
	return n
}

func get(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// hookRecorder is a webhook receiver that fails its first delivery with a
// 503, to make the sender retry, and records the rest.
type hookRecorder struct {
	mu       sync.Mutex
	attempts int
	payloads []Payload
	sigOK    []bool
}

func (h *hookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.attempts++
	if h.attempts == 1 {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil || r.Header.Get("Content-Type") != "application/json" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.sigOK = append(h.sigOK, verifyDelivery([]byte("s3cret"), r.Header.Get(TimestampHeader), r.Header.Get(SignatureHeader), body, time.Now()))
	h.payloads = append(h.payloads, p)
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookRecorder) received() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.payloads)
}

// TestServeScheduledRuns runs the server on a one-second schedule: three runs
// are recorded, a host goes from eligible to enabled_ineligible before the
// third, the drift reaches the webhook, and the metrics and pages say so.
func TestServeScheduledRuns(t *testing.T) {
	dir := t.TempDir()
	facts := filepath.Join(dir, "facts.jsonl")
	copyFile(t, "testdata/before.jsonl", facts)
	store := newStore(t)
	hook := &hookRecorder{}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()

	st := start(t, Config{
		Audit: factsAudit(t, facts), Store: store, Schedule: "@every 1s", RunAtStart: true, Inventory: "fleet.yaml",
		Webhook: Webhook{URL: hookSrv.URL + "/hook?token=tok3n", Secret: "s3cret", Backoff: 10 * time.Millisecond, Timeout: 5 * time.Second},
	})

	waitFor(t, "two runs", func() bool { return finishedRuns(t, store, history.StatusOK) >= 2 })
	if hook.received() != 0 {
		t.Fatalf("webhook called with no drift: %+v", hook.payloads)
	}
	copyFile(t, "testdata/after.jsonl", facts) // web-03: 2FA turned on, SELinux back in the config
	waitFor(t, "the drift webhook", func() bool { return hook.received() >= 1 })
	if n := finishedRuns(t, store, history.StatusOK); n < 3 {
		t.Fatalf("%d ok runs recorded, want at least 3", n)
	}

	// The webhook: one retried delivery, signed, with the one event.
	hook.mu.Lock()
	p, attempts, sigOK := hook.payloads[0], hook.attempts, hook.sigOK[0]
	hook.mu.Unlock()
	if attempts < 2 || !sigOK {
		t.Errorf("webhook: %d attempts, signature ok %v; want a retry after the 503 and a good signature", attempts, sigOK)
	}
	if p.Schema != PayloadSchema || len(p.Events) != 1 || p.Run.ID != p.Previous.ID+1 || p.Summary["enabled_ineligible"] != 1 {
		t.Fatalf("webhook payload = %+v", p)
	}
	e := p.Events[0]
	if e.Kind != history.EventEnteredEnabledIneligible || e.Host != "web-03" || e.From != "eligible" || e.To != "enabled_ineligible" ||
		len(e.Violations) != 1 || e.Violations[0].Check != "selinux" {
		t.Errorf("drift event = %+v, want web-03 eligible -> enabled_ineligible for selinux", e)
	}

	// /metrics, parsed as Prometheus parses it, once the delivery is counted.
	waitFor(t, "the delivery in /metrics", func() bool {
		_, _, body := get(t, st.base+"/metrics")
		return strings.Contains(string(body), `factorgate_webhook_deliveries_total{outcome="ok"} 1`)
	})
	code, _, body := get(t, st.base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	// With drift counted and a webhook delivered, promtool still finds
	// nothing to say.
	if bin, err := exec.LookPath("promtool"); err == nil {
		promtoolCheck(t, bin, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	wantHosts := map[string]float64{"eligible": 1, "enabled": 0, "ineligible": 0, "enabled_ineligible": 1, "unreachable": 0}
	for status, want := range wantHosts {
		if got := metricValue(t, mfs, "factorgate_hosts", "status", status); got != want {
			t.Errorf("factorgate_hosts{status=%q} = %v, want %v", status, got, want)
		}
	}
	if got := metricValue(t, mfs, "factorgate_runs_total", "outcome", "ok"); got < 3 {
		t.Errorf("factorgate_runs_total{outcome=ok} = %v, want >= 3", got)
	}
	if got := metricValue(t, mfs, "factorgate_runs_total", "outcome", "failed"); got != 0 {
		t.Errorf("factorgate_runs_total{outcome=failed} = %v, want 0", got)
	}
	if got := metricValue(t, mfs, "factorgate_drift_events_total", "kind", history.EventEnteredEnabledIneligible); got != 1 {
		t.Errorf("drift events = %v, want 1", got)
	}
	if got := metricValue(t, mfs, "factorgate_webhook_deliveries_total", "outcome", "ok"); got != 1 {
		t.Errorf("webhook deliveries ok = %v, want 1", got)
	}
	if got := metricValue(t, mfs, "factorgate_scan_errors", "", ""); got != 0 {
		t.Errorf("factorgate_scan_errors = %v, want 0", got)
	}
	if got := metricValue(t, mfs, "factorgate_last_success_timestamp_seconds", "", ""); got < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("factorgate_last_success_timestamp_seconds = %v, want about now", got)
	}
	if got := metricValue(t, mfs, "factorgate_run_duration_seconds", "", ""); got < 0 || got > 10 {
		t.Errorf("factorgate_run_duration_seconds = %v", got)
	}

	// /healthz, /, /runs, /runs/{run}, /runs/{run}/drift.
	if code, _, body := get(t, st.base+"/healthz"); code != http.StatusOK || string(body) != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	code, hdr, body := get(t, st.base+"/")
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || !bytes.Contains(body, []byte("web-03")) {
		t.Errorf("/ = %d %s, %d bytes", code, hdr.Get("Content-Type"), len(body))
	}
	code, _, body = get(t, st.base+"/runs")
	var runs []struct {
		ID     int    `json:"id"`
		Status string `json:"status"`
		Counts map[string]int
	}
	if err := json.Unmarshal(body, &runs); code != http.StatusOK || err != nil || len(runs) < 3 {
		t.Fatalf("/runs = %d %v: %s", code, err, body)
	}
	code, hdr, body = get(t, fmt.Sprintf("%s/runs/%d?format=json", st.base, p.Run.ID))
	var rep contract.Report
	if err := json.Unmarshal(body, &rep); code != http.StatusOK || err != nil || len(rep.Decisions) != 2 || rep.Decisions[1].Status != "enabled_ineligible" {
		t.Errorf("/runs/%d = %d %v %s", p.Run.ID, code, err, body)
	}
	if hdr.Get("X-Factorgate-Run") != p.Run.ID.String() {
		t.Errorf("X-Factorgate-Run = %q", hdr.Get("X-Factorgate-Run"))
	}
	code, _, body = get(t, fmt.Sprintf("%s/runs/%d/drift", st.base, p.Run.ID))
	var d history.Drift
	if err := json.Unmarshal(body, &d); code != http.StatusOK || err != nil || len(d.Events) != 1 || d.From != p.Previous.ID {
		t.Errorf("/runs/%d/drift = %d %v %s", p.Run.ID, code, err, body)
	}
	for _, c := range []struct {
		path string
		code int
	}{
		{"/runs/999", http.StatusNotFound},
		{"/runs/yesterday", http.StatusBadRequest},
		{"/runs/yesterday/drift", http.StatusBadRequest},
		{"/runs/999/drift", http.StatusNotFound},
		{"/runs/latest/drift?from=yesterday", http.StatusBadRequest},
		{"/runs/latest/drift?from=999", http.StatusNotFound},
		{"/runs/latest?format=nope", http.StatusBadRequest},
		{"/runs?limit=x", http.StatusBadRequest},
		{"/nope", http.StatusNotFound},
	} {
		if code, _, body := get(t, st.base+c.path); code != c.code {
			t.Errorf("%s = %d %q, want %d", c.path, code, body, c.code)
		}
	}
}

// metricValue finds a gauge or counter, by one label when label is set.
func metricValue(t *testing.T, mfs map[string]*dto.MetricFamily, name, label, value string) float64 {
	t.Helper()
	mf, ok := mfs[name]
	if !ok {
		t.Fatalf("metric %s missing", name)
	}
	for _, m := range mf.GetMetric() {
		match := label == ""
		for _, lp := range m.GetLabel() {
			if lp.GetName() == label && lp.GetValue() == value {
				match = true
			}
		}
		if !match {
			continue
		}
		if m.Gauge != nil {
			return m.GetGauge().GetValue()
		}
		return m.GetCounter().GetValue()
	}
	t.Fatalf("metric %s{%s=%q} missing", name, label, value)
	return 0
}

// blockingAudit blocks each run until it is released or its context ends.
type blockingAudit struct {
	calls   atomic.Int32
	started chan struct{}
	release chan struct{}
}

func newBlockingAudit() *blockingAudit {
	return &blockingAudit{started: make(chan struct{}, 10), release: make(chan struct{})}
}

func (b *blockingAudit) audit(ctx context.Context) (*history.Result, error) {
	b.calls.Add(1)
	b.started <- struct{}{}
	select {
	case <-b.release:
		_, ds := oneHost("eligible")
		return &history.Result{Decisions: ds}, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("scan web-01: %w", ctx.Err())
	}
}

func oneHost(status contract.Status) ([]contract.Facts, []contract.Decision) {
	return nil, []contract.Decision{{Host: "web-01", Status: status, Eligible: status == "eligible"}}
}

// TestServeStopMidRun stops the server while a run is in progress: with no
// grace the run is recorded as interrupted, with enough grace it finishes.
// The grace holds as well for a run the schedule started as for the run at
// start: Run returns once it ends, not when the run does.
func TestServeStopMidRun(t *testing.T) {
	cases := []struct {
		name       string
		schedule   string
		atStart    bool
		grace      time.Duration
		release    bool
		wantStatus history.Status
		wantErr    string
	}{
		{"no grace: interrupted", "@every 1h", true, 0, false, history.StatusInterrupted, "factorgate serve was told to stop: context canceled"},
		{"grace ends first: interrupted", "@every 1h", true, 50 * time.Millisecond, false, history.StatusInterrupted, "factorgate serve was told to stop: context canceled"},
		{"run ends within the grace: ok", "@every 1h", true, waitLimit, true, history.StatusOK, ""},
		{"scheduled run, grace ends first: interrupted", "@every 1s", false, 200 * time.Millisecond, false, history.StatusInterrupted, "factorgate serve was told to stop: context canceled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := newStore(t)
			b := newBlockingAudit()
			st := start(t, Config{Audit: b.audit, Store: store, Schedule: c.schedule, RunAtStart: c.atStart, ShutdownGrace: c.grace})
			<-b.started
			if c.release {
				go func() { time.Sleep(50 * time.Millisecond); close(b.release) }()
			}
			st.stop(t)
			runs, err := store.ListRuns(context.Background(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != 1 || runs[0].Status != c.wantStatus || runs[0].Error != c.wantErr || runs[0].Source != Source {
				t.Fatalf("runs = %+v, want one %s run with error %q", runs, c.wantStatus, c.wantErr)
			}
			// The HTTP server is down.
			if _, err := http.Get(st.base + "/healthz"); err == nil {
				t.Error("HTTP server still answers after stop")
			}
		})
	}
}

// TestServeNeverOverlaps: a tick that comes while a run is in progress is
// skipped, and counted.
func TestServeNeverOverlaps(t *testing.T) {
	store := newStore(t)
	b := newBlockingAudit()
	st := start(t, Config{Audit: b.audit, Store: store, Schedule: "@every 1s", RunAtStart: true, ShutdownGrace: waitLimit})
	<-b.started
	rec := httptest.NewRecorder()
	waitFor(t, "a skipped tick", func() bool {
		rec = httptest.NewRecorder()
		st.srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "http://localhost/metrics", nil))
		return strings.Contains(rec.Body.String(), `factorgate_runs_total{outcome="skipped"} 1`)
	})
	if n := b.calls.Load(); n != 1 {
		t.Errorf("%d audits started while the first was running, want 1", n)
	}
	if !strings.Contains(rec.Body.String(), "factorgate_run_in_progress 1") {
		t.Error("factorgate_run_in_progress is not 1 during a run")
	}
	close(b.release)
	waitFor(t, "the run to finish", func() bool { return finishedRuns(t, store, history.StatusOK) >= 1 })
}

// TestServeFailedRun: an audit that fails is recorded as failed, counted,
// and sends no webhook; the dashboard says none finished, and why.
func TestServeFailedRun(t *testing.T) {
	store := newStore(t)
	var called atomic.Bool
	hookSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called.Store(true) }))
	defer hookSrv.Close()
	st := start(t, Config{
		Audit: func(ctx context.Context) (*history.Result, error) {
			return nil, errors.New("fleet.yaml:4: hosts[1].address: missing")
		},
		Store: store, Schedule: "@every 1h", RunAtStart: true, Webhook: Webhook{URL: hookSrv.URL},
	})
	waitFor(t, "the failed run", func() bool { return finishedRuns(t, store, history.StatusFailed) == 1 })
	runs, _ := store.ListRuns(context.Background(), 0)
	if runs[0].Error != "fleet.yaml:4: hosts[1].address: missing" {
		t.Errorf("error = %q", runs[0].Error)
	}
	if code, _, body := get(t, st.base+"/"); code != http.StatusOK || !strings.Contains(string(body), "No audit has finished yet") ||
		!strings.Contains(string(body), "fleet.yaml:4: hosts[1].address: missing") {
		t.Errorf("/ = %d %q", code, body)
	}
	// The metrics follow the record by a moment.
	waitFor(t, "the failed run in /metrics", func() bool {
		_, _, body := get(t, st.base+"/metrics")
		return strings.Contains(string(body), `factorgate_runs_total{outcome="failed"} 1`)
	})
	if called.Load() {
		t.Error("webhook called for a failed run")
	}
}

// TestServeRestart: a new server marks the runs an earlier one left running
// as interrupted, and its metrics start from the latest run in the history.
func TestServeRestart(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	_, ds := oneHost("enabled_ineligible")
	if _, err := store.Record(ctx, history.Meta{Source: Source}, history.Result{Decisions: ds}); err != nil {
		t.Fatal(err)
	}
	stale, err := store.BeginRun(ctx, history.Meta{Source: Source})
	if err != nil {
		t.Fatal(err)
	}
	st := start(t, Config{Audit: newBlockingAudit().audit, Store: store, Schedule: "@every 1h"})
	waitFor(t, "the stale run to be closed", func() bool {
		r, err := store.GetRun(ctx, stale)
		return err == nil && r.Status == history.StatusInterrupted
	})
	_, _, body := get(t, st.base+"/metrics")
	if !strings.Contains(string(body), `factorgate_hosts{status="enabled_ineligible"} 1`) {
		t.Errorf("metrics not restored from the history:\n%s", body)
	}
}

func TestParseSchedule(t *testing.T) {
	cases := []struct {
		spec    string
		wantErr string
	}{
		{"@every 6h", ""},
		{"@every 1s", ""},
		{"@daily", ""},
		{"0 3 * * *", ""},
		{"*/10 * * * * *", ""},
		{"CRON_TZ=Europe/Paris 0 3 * * 1-5", ""},
		{"", "empty schedule"},
		{"every 6h", `schedule "every 6h"`},
		{"61 * * * *", `schedule "61 * * * *"`},
		{"@every", `schedule "@every"`},
	}
	for _, c := range cases {
		_, err := ParseSchedule(c.spec)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("ParseSchedule(%q): %v", c.spec, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("ParseSchedule(%q) = %v, want error containing %q", c.spec, err, c.wantErr)
		}
	}
}

func TestNewErrors(t *testing.T) {
	store := newStore(t)
	audit := func(context.Context) (*history.Result, error) { return nil, nil }
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no audit", Config{Store: store, Schedule: "@daily"}, "no audit function"},
		{"no store", Config{Audit: audit, Schedule: "@daily"}, "no history store"},
		{"bad schedule", Config{Audit: audit, Store: store, Schedule: "sometimes"}, `schedule "sometimes"`},
		{"bad webhook", Config{Audit: audit, Store: store, Schedule: "@daily", Webhook: Webhook{URL: "ftp://x"}}, "webhook: want an http"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := New(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New = %v, want %q", err, c.want)
			}
		})
	}
}

// TestServeOnPostgres runs the server on a PostgreSQL history: two runs, the
// second with a host fallen from eligible, the drift posted, the report read
// back over HTTP while the schedule goes on.
func TestServeOnPostgres(t *testing.T) {
	store, err := history.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var calls atomic.Int32
	audit := func(ctx context.Context) (*history.Result, error) {
		status := contract.StatusEligible
		if calls.Add(1) > 1 {
			status = contract.StatusUnreachable
		}
		_, ds := oneHost(status)
		return &history.Result{Decisions: ds}, nil
	}
	hook := &hookRecorder{attempts: 1} // no 503 first
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	st := start(t, Config{Audit: audit, Store: store, Schedule: "@every 1s", RunAtStart: true,
		Webhook: Webhook{URL: hookSrv.URL, Secret: "s3cret"}})
	waitFor(t, "the drift webhook", func() bool { return hook.received() >= 1 })
	hook.mu.Lock()
	e := hook.payloads[0].Events
	hook.mu.Unlock()
	if len(e) != 1 || e[0].Kind != history.EventFellFromEligible || e[0].To != "unreachable" {
		t.Errorf("events = %+v, want web-01 fell from eligible to unreachable", e)
	}
	code, _, body := get(t, st.base+"/runs/latest?format=json")
	var rep contract.Report
	if err := json.Unmarshal(body, &rep); code != http.StatusOK || err != nil || len(rep.Decisions) != 1 || rep.Summary["unreachable"] != 1 {
		t.Errorf("/runs/latest = %d %v %s", code, err, body)
	}
}

// TestServeRetention: with a retention, runs older than it are deleted after
// each run.
func TestServeRetention(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	_, ds := oneHost("eligible")
	old, err := store.Record(ctx, history.Meta{StartedAt: time.Now().Add(-48 * time.Hour)}, history.Result{Decisions: ds})
	if err != nil {
		t.Fatal(err)
	}
	audit := func(context.Context) (*history.Result, error) { return &history.Result{Decisions: ds}, nil }
	start(t, Config{Audit: audit, Store: store, Schedule: "@every 1h", RunAtStart: true, Retention: 24 * time.Hour})
	waitFor(t, "the old run to be deleted", func() bool {
		_, err := store.GetRun(ctx, old)
		return errors.Is(err, history.ErrNotFound)
	})
	if n := finishedRuns(t, store, history.StatusOK); n != 1 {
		t.Errorf("%d ok runs left, want the new one", n)
	}
}

// TestServeBaselineIsOwnRun: the drift of a run is from the latest run of
// serve of the same inventory, not from a report imported later or a check
// of another inventory recorded into the same history; nor do those make
// the page of the latest run.
func TestServeBaselineIsOwnRun(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	now := time.Now()
	record := func(ago time.Duration, source, inv string, status contract.Status) history.RunID {
		t.Helper()
		_, ds := oneHost(status)
		id, err := store.Record(ctx, history.Meta{StartedAt: now.Add(-ago), Source: source, Inventory: inv},
			history.Result{Decisions: ds, FinishedAt: now.Add(-ago).Add(time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	own := record(3*time.Hour, Source, "fleet.yaml", "eligible")
	record(2*time.Hour, "import", "fleet.yaml", "enabled_ineligible")
	record(time.Hour, "check", "other.yaml", "enabled_ineligible")
	hook := &hookRecorder{attempts: 1} // no 503 first
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	audit := func(ctx context.Context) (*history.Result, error) {
		_, ds := oneHost("enabled_ineligible")
		return &history.Result{Decisions: ds, Inventory: "fleet.yaml"}, nil
	}
	st := start(t, Config{Audit: audit, Store: store, Schedule: "@every 1h", RunAtStart: true, Inventory: "fleet.yaml",
		Webhook: Webhook{URL: hookSrv.URL, Secret: "s3cret", Backoff: 10 * time.Millisecond}})
	waitFor(t, "the drift webhook", func() bool { return hook.received() == 1 })
	hook.mu.Lock()
	p := hook.payloads[0]
	hook.mu.Unlock()
	if p.Previous.ID != own || len(p.Events) != 1 || p.Events[0].Kind != history.EventEnteredEnabledIneligible {
		t.Errorf("webhook payload = %+v, want drift from run %d with one %s event", p, own, history.EventEnteredEnabledIneligible)
	}
	code, _, body := get(t, st.base+"/runs/"+p.Run.ID.String()+"/drift")
	var d history.Drift
	if err := json.Unmarshal(body, &d); code != http.StatusOK || err != nil || d.From != own {
		t.Errorf("/runs/%d/drift = %d %s, want the drift from run %d", p.Run.ID, code, body, own)
	}
}

// TestServeDisappearedHost: a host that was eligible and is gone from the
// next run raises a disappeared event, sent to the webhook and counted.
func TestServeDisappearedHost(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	_, ds := oneHost("eligible")
	own, err := store.Record(ctx, history.Meta{StartedAt: time.Now().Add(-time.Hour), Source: Source, Inventory: "fleet.yaml"}, history.Result{Decisions: ds})
	if err != nil {
		t.Fatal(err)
	}
	hook := &hookRecorder{attempts: 1}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	audit := func(ctx context.Context) (*history.Result, error) {
		return &history.Result{Inventory: "fleet.yaml", Decisions: []contract.Decision{{Host: "web-02", Status: "eligible", Eligible: true}}}, nil
	}
	st := start(t, Config{Audit: audit, Store: store, Schedule: "@every 1h", RunAtStart: true, Inventory: "fleet.yaml",
		Webhook: Webhook{URL: hookSrv.URL, Secret: "s3cret", Backoff: 10 * time.Millisecond}})
	waitFor(t, "the drift webhook", func() bool { return hook.received() == 1 })
	hook.mu.Lock()
	p := hook.payloads[0]
	hook.mu.Unlock()
	if p.Previous.ID != own || len(p.Events) != 1 || p.Events[0].Kind != history.EventDisappeared || p.Events[0].Host != "web-01" || p.Events[0].From != "eligible" {
		t.Errorf("webhook events = %+v, want web-01 disappeared", p.Events)
	}
	waitFor(t, "the event in /metrics", func() bool {
		_, _, body := get(t, st.base+"/metrics")
		return strings.Contains(string(body), `factorgate_drift_events_total{kind="disappeared"} 1`)
	})
}

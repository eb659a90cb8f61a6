package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/factorgate/factorgate/history"
	"github.com/factorgate/factorgate/internal/pgtest"
)

// openPG opens a store of its own on dsn, as another process would.
func openPG(t *testing.T, dsn string) *history.Store {
	t.Helper()
	s, err := history.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// replicaLogger tags a replica's log lines with its name.
func replicaLogger(t *testing.T, name string) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})).With("replica", name)
}

// TestServeReplicasRunEachTickOnce runs two servers on one PostgreSQL
// history with a one-second schedule: each tick is run by one of them, never
// both, and both serve the same runs.
func TestServeReplicasRunEachTickOnce(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	var calls [2]atomic.Int32
	var sts [2]*started
	for i := range sts {
		audit := func(ctx context.Context) (*history.Result, error) {
			calls[i].Add(1)
			_, ds := oneHost("eligible")
			return &history.Result{Decisions: ds, Inventory: "fleet.yaml"}, nil
		}
		sts[i] = start(t, Config{Audit: audit, Store: openPG(t, dsn), Schedule: "@every 1s", Inventory: "fleet.yaml",
			Logger: replicaLogger(t, fmt.Sprint("r", i))})
	}
	ref := openPG(t, dsn)
	waitFor(t, "five runs", func() bool { return finishedRuns(t, ref, history.StatusOK) >= 5 })
	for _, st := range sts {
		st.stop(t)
	}
	runs, err := ref.ListRuns(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	total := int(calls[0].Load() + calls[1].Load())
	if len(runs) != total {
		t.Errorf("%d runs recorded for %d audits", len(runs), total)
	}
	ticks := map[time.Time]history.RunID{}
	for _, r := range runs {
		if r.Status != history.StatusOK || r.ScheduledAt == nil {
			t.Errorf("run %d: %s, tick %v; want ok runs of a tick", r.ID, r.Status, r.ScheduledAt)
			continue
		}
		if !r.ScheduledAt.Equal(r.ScheduledAt.Truncate(time.Second)) {
			t.Errorf("run %d is for tick %v, not on a whole second", r.ID, r.ScheduledAt)
		}
		if other, ok := ticks[*r.ScheduledAt]; ok {
			t.Errorf("tick %v run twice: runs %d and %d", r.ScheduledAt, other, r.ID)
		}
		ticks[*r.ScheduledAt] = r.ID
	}
	t.Logf("%d ticks: %d run by replica 0, %d by replica 1", len(ticks), calls[0].Load(), calls[1].Load())
	// Both replicas skipped the ticks the other ran, and say so.
	skipped := 0.0
	for _, st := range sts {
		rec := httpGetHandler(st.srv, "/metrics")
		var v float64
		for _, line := range strings.Split(rec, "\n") {
			if strings.HasPrefix(line, `factorgate_runs_total{outcome="other_replica"} `) {
				fmt.Sscan(strings.TrimPrefix(line, `factorgate_runs_total{outcome="other_replica"} `), &v)
			}
		}
		skipped += v
	}
	if skipped < float64(len(ticks)/2) {
		t.Errorf("other_replica = %v over both replicas, want about one per tick (%d)", skipped, len(ticks))
	}
}

// httpGetHandler asks the server's handler for path, as localhost.
func httpGetHandler(srv *Server, path string) string {
	rec := httptest.NewRecorder()
	req, _ := http.NewRequest("GET", "http://localhost"+path, nil)
	srv.Handler().ServeHTTP(rec, req)
	return rec.Body.String()
}

// TestServeReplicasOneRunAtATime: while one replica's run goes on, the other
// starts none, not even for a tick it could claim; both serve the pages.
func TestServeReplicasOneRunAtATime(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	b := newBlockingAudit()
	var sts [2]*started
	for i := range sts {
		sts[i] = start(t, Config{Audit: b.audit, Store: openPG(t, dsn), Schedule: "@every 1s", Inventory: "fleet.yaml",
			ShutdownGrace: waitLimit, Logger: replicaLogger(t, fmt.Sprint("r", i))})
	}
	<-b.started
	// Three ticks pass while the run holds the lock.
	waitFor(t, "three ticks skipped", func() bool {
		n := 0
		for _, st := range sts {
			if strings.Contains(httpGetHandler(st.srv, "/metrics"), `factorgate_runs_total{outcome="other_replica"} `) {
				body := httpGetHandler(st.srv, "/metrics")
				for _, line := range strings.Split(body, "\n") {
					var v int
					if _, err := fmt.Sscanf(line, `factorgate_runs_total{outcome="other_replica"} %d`, &v); err == nil {
						n += v
					}
				}
			}
		}
		return n >= 3
	})
	if n := b.calls.Load(); n != 1 {
		t.Errorf("%d audits started while the first was running, want 1", n)
	}
	for i, st := range sts {
		code, _, body := get(t, st.base+"/runs")
		var runs []history.Run
		if err := json.Unmarshal(body, &runs); code != 200 || err != nil || len(runs) != 1 || runs[0].Status != history.StatusRunning {
			t.Errorf("replica %d: /runs = %d %v %s, want the one running run", i, code, err, body)
		}
	}
	close(b.release)
	waitFor(t, "the run to finish", func() bool { return finishedRuns(t, openPG(t, dsn), history.StatusOK) >= 1 })
}

package server

import (
	"bytes"
	"context"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/factorgate/factorgate/history"
	"github.com/factorgate/factorgate/internal/testutil"
)

// TestMetricsPromtool pipes the served /metrics, after runs of every
// outcome, into `promtool check metrics`, which must find nothing to say.
func TestMetricsPromtool(t *testing.T) {
	bin := testutil.Tool(t, "promtool", "apt-get install prometheus")
	store := newStore(t)
	_, ds := oneHost("enabled_ineligible")
	if _, err := store.Record(context.Background(), history.Meta{Source: Source, StartedAt: time.Now().Add(-time.Hour)}, history.Result{Decisions: ds}); err != nil {
		t.Fatal(err)
	}
	audit := func(context.Context) (*history.Result, error) {
		_, ds := oneHost("ineligible")
		return &history.Result{Decisions: ds}, nil
	}
	st := start(t, Config{Audit: audit, Store: store, Schedule: "@every 1h", RunAtStart: true})
	waitFor(t, "the run", func() bool { return finishedRuns(t, store, history.StatusOK) >= 2 })
	code, _, body := get(t, st.base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	promtoolCheck(t, bin, body)
}

// promtoolCheck pipes body into `promtool check metrics`, which must find
// nothing to say.
func promtoolCheck(t *testing.T, bin string, body []byte) {
	t.Helper()
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

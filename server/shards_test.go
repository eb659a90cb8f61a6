package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/history"
)

// TestServeShardedRun: a run whose shards are not all in is listed with
// its shards and answered 409, with a line saying so; once the last shard
// is in it is served like any run.
func TestServeShardedRun(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	st := start(t, Config{Audit: newBlockingAudit().audit, Store: store, Schedule: "@every 1h"})
	shard := func(k int, host string, status contract.Status) history.RunID {
		t.Helper()
		id, err := store.RecordShard(ctx, history.Meta{Source: "check", Inventory: "fleet.yaml"}, history.Shard{AuditID: "job-7", K: k, N: 2},
			history.Result{Decisions: []contract.Decision{{Host: host, Status: status}}})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	id := shard(1, "web-01", "eligible")
	for _, path := range []string{"/runs/" + id.String(), "/runs/" + id.String() + "?format=html", "/runs/" + id.String() + "/drift"} {
		code, _, body := get(t, st.base+path)
		if code != http.StatusConflict || !strings.Contains(string(body), "has 1 of 2 shards: it is shown once every shard is in") {
			t.Errorf("%s = %d %q, want 409 saying 1 of 2 shards", path, code, body)
		}
	}
	if code, _, _ := get(t, st.base+"/runs/latest"); code != http.StatusNotFound {
		t.Errorf("/runs/latest = %d, want 404: the partial run is not the latest", code)
	}
	code, _, body := get(t, st.base+"/runs")
	var runs []history.Run
	if err := json.Unmarshal(body, &runs); code != 200 || err != nil || len(runs) != 1 || runs[0].ShardsDone != 1 || runs[0].Shards != 2 {
		t.Fatalf("/runs = %d %v %s", code, err, body)
	}
	shard(2, "web-02", "ineligible")
	code, _, body = get(t, st.base+"/runs/"+id.String()+"?format=json")
	var rep contract.Report
	if err := json.Unmarshal(body, &rep); code != 200 || err != nil || len(rep.Decisions) != 2 {
		t.Errorf("/runs/%d once complete = %d %v %s", id, code, err, body)
	}
}

package history

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
)

// shardFleet is a fleet of n hosts of every status, split into k shards as
// a round robin, as a selection by shard would.
func shardFleet(n, k int) (all Result, shards []Result) {
	statuses := contract.Statuses
	var pairs []string
	for i := 0; i < n; i++ {
		st := statuses[i%len(statuses)]
		p := fmt.Sprintf("host-%03d=%s", i, st)
		if st == contract.StatusIneligible || st == contract.StatusEnabledIneligible {
			p += ":selinux"
		}
		pairs = append(pairs, p)
	}
	facts, decisions := fleet(pairs...)
	facts = facts[:n-3] // some hosts have a decision and no facts
	all = Result{Facts: facts, Decisions: decisions, FinishedAt: t0.Add(time.Minute)}
	shards = make([]Result, k)
	for i, d := range decisions {
		sh := &shards[i%k]
		sh.Decisions = append(sh.Decisions, d)
		if i < len(facts) {
			sh.Facts = append(sh.Facts, facts[i])
		}
	}
	for i := range shards {
		shards[i].FinishedAt = t0.Add(time.Duration(i+1) * 10 * time.Second)
	}
	return all, shards
}

// sameRun fails t unless the sharded run reads back as the unsharded one:
// the same report, facts, counts and hosts.
func sameRun(t *testing.T, got, want *Run) {
	t.Helper()
	if g, w := jsonOf(t, got.Report.Decisions), jsonOf(t, want.Report.Decisions); g != w {
		t.Errorf("decisions differ:\n got %s\nwant %s", g, w)
	}
	if g, w := jsonOf(t, got.Facts), jsonOf(t, want.Facts); g != w {
		t.Errorf("facts differ:\n got %s\nwant %s", g, w)
	}
	if g, w := jsonOf(t, got.Counts), jsonOf(t, want.Counts); g != w || got.Hosts != want.Hosts {
		t.Errorf("counts %s (%d hosts), want %s (%d hosts)", g, got.Hosts, w, want.Hosts)
	}
	if jsonOf(t, got.Report.Summary) != jsonOf(t, want.Report.Summary) {
		t.Errorf("summary %v, want %v", got.Report.Summary, want.Report.Summary)
	}
}

func TestRecordShards(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		all, parts := shardFleet(23, 4)
		whole, err := s.Record(ctx, Meta{StartedAt: t0, Inventory: "fleet.yaml", Source: "check"}, all)
		if err != nil {
			t.Fatal(err)
		}
		meta := Meta{StartedAt: t0, Inventory: "fleet.yaml", Source: "check"}
		var id RunID
		for k := 1; k <= 3; k++ {
			m := meta
			m.StartedAt = t0.Add(time.Duration(k) * time.Second)
			got, err := s.RecordShard(ctx, m, Shard{AuditID: "audit-7", K: k, N: 4}, parts[k-1])
			if err != nil {
				t.Fatal(err)
			}
			if id != 0 && got != id {
				t.Fatalf("shard %d recorded into run %d, shard 1 into run %d", k, got, id)
			}
			id = got
		}
		// Three of four shards: running, said so, seen by no latest.
		runs, err := s.ListRuns(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 2 || runs[0].ID != id || runs[0].Status != StatusRunning || !runs[0].Partial() ||
			runs[0].StatusText() != "3 of 4 shards" || runs[0].AuditID != "audit-7" {
			t.Fatalf("runs = %+v, want the sharded run running with 3 of 4 shards", runs)
		}
		if latest, err := s.Latest(ctx); err != nil || latest.ID != whole {
			t.Errorf("Latest = %v, %v; want the whole run %d while the sharded one is partial", latest, err, whole)
		}
		if got, err := s.Resolve(ctx, "latest"); err != nil || got != whole {
			t.Errorf("Resolve(latest) = %v, %v; want %d", got, err, whole)
		}
		// The last shard closes the run.
		m := meta
		m.StartedAt = t0.Add(4 * time.Second)
		if _, err := s.RecordShard(ctx, m, Shard{AuditID: "audit-7", K: 4, N: 4}, parts[3]); err != nil {
			t.Fatal(err)
		}
		r, err := s.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		w, err := s.GetRun(ctx, whole)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != StatusOK || r.Partial() || r.StatusText() != "ok" || r.ShardsDone != 4 || r.Shards != 4 {
			t.Errorf("run = %+v, want ok with 4 of 4 shards", r)
		}
		if !r.StartedAt.Equal(t0.Add(time.Second)) || r.FinishedAt == nil || !r.FinishedAt.Equal(t0.Add(40*time.Second)) || r.Duration != 39*time.Second {
			t.Errorf("times: %v to %v (%v), want from the first shard's start to the last's end", r.StartedAt, r.FinishedAt, r.Duration)
		}
		sameRun(t, r, w)
		if latest, err := s.Latest(ctx); err != nil || latest.ID != id {
			t.Errorf("Latest = %v, %v; want the complete sharded run %d", latest, err, id)
		}
		if d := Diff(w, r); !d.Empty() {
			t.Errorf("drift from the whole run to the sharded one: %+v", d)
		}
	})
}

func TestRecordShardAgainReplaces(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		all, parts := shardFleet(12, 3)
		sh := func(k int) Shard { return Shard{AuditID: "job-1", K: k, N: 3} }
		// Shard 2 first comes with a host too many and a failure, then again.
		bad := parts[1]
		_, extra := fleet("stray=eligible")
		bad.Decisions = append(append([]contract.Decision{}, bad.Decisions...), extra...)
		bad.Err = errors.New("ssh: handshake failed")
		for _, step := range []struct {
			k int
			r Result
		}{{2, bad}, {1, parts[0]}, {3, parts[2]}} {
			if _, err := s.RecordShard(ctx, Meta{Source: "check"}, sh(step.k), step.r); err != nil {
				t.Fatal(err)
			}
		}
		runs, _ := s.ListRuns(ctx, 0)
		if len(runs) != 1 || runs[0].Status != StatusFailed || runs[0].Error != "shard 2/3: ssh: handshake failed" || runs[0].Hosts != 13 {
			t.Fatalf("runs = %+v, want one failed run of 13 hosts", runs)
		}
		// The retried shard replaces itself: the stray host and the failure go.
		id, err := s.RecordShard(ctx, Meta{Source: "check"}, sh(2), parts[1])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordShard(ctx, Meta{Source: "check"}, sh(2), parts[1]); err != nil {
			t.Fatal(err)
		}
		r, err := s.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := s.Record(ctx, Meta{Source: "check"}, all)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := s.GetRun(ctx, whole)
		if r.Status != StatusOK || r.Error != "" || r.ShardsDone != 3 {
			t.Errorf("run after the retry = %+v, want ok with 3 shards", r)
		}
		sameRun(t, r, w)
	})
}

func TestRecordShardMismatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, parts := shardFleet(6, 2)
		if _, err := s.RecordShard(ctx, Meta{Source: "check", Inventory: "a.yaml", InventoryDigest: "d1"}, Shard{AuditID: "x", K: 1, N: 2}, parts[0]); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			m    Meta
			sh   Shard
			r    Result
			want string
		}{
			{"host in another shard", Meta{Source: "check", Inventory: "a.yaml"}, Shard{"x", 2, 2}, parts[0], "is in shard 1/2 too"},
			{"another N", Meta{Source: "check"}, Shard{"x", 2, 3}, parts[1], "has 2 shards, not 3"},
			{"another inventory", Meta{Source: "check", Inventory: "b.yaml"}, Shard{"x", 2, 2}, parts[1], `audits "a.yaml", not "b.yaml"`},
			{"another version of the inventory", Meta{Source: "check", Inventory: "a.yaml", InventoryDigest: "d2"}, Shard{"x", 2, 2}, parts[1], `audits another version of "a.yaml"`},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := s.RecordShard(ctx, c.m, c.sh, c.r)
				if !errors.Is(err, ErrShardMismatch) || !strings.Contains(err.Error(), c.want) {
					t.Errorf("RecordShard = %v, want %q wrapping ErrShardMismatch", err, c.want)
				}
			})
		}
		for _, sh := range []Shard{{"", 1, 2}, {"y", 0, 2}, {"y", 3, 2}, {"y", 1, 0}} {
			if _, err := s.RecordShard(ctx, Meta{}, sh, parts[1]); err == nil {
				t.Errorf("RecordShard(%+v) = nil, want an error", sh)
			}
		}
		runs, _ := s.ListRuns(ctx, 0)
		if len(runs) != 1 || runs[0].ShardsDone != 1 || runs[0].Hosts != 0 {
			t.Errorf("runs = %+v, want the one run with its first shard only", runs)
		}
		if err := s.FinishRun(ctx, runs[0].ID, Result{}); err == nil || !strings.Contains(err.Error(), "shards") {
			t.Errorf("FinishRun of a sharded run = %v, want an error", err)
		}
	})
}

// TestRecordShardsConcurrently records the shards of one audit at once,
// each from a store of its own as separate processes would, some twice:
// the merged run equals the unsharded one.
func TestRecordShardsConcurrently(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			dsn := b.dsn(t)
			ref := openT(t, dsn)
			ctx := context.Background()
			const n = 8
			all, parts := shardFleet(200, n)
			var wg sync.WaitGroup
			errs := make(chan error, 2*n)
			for k := 1; k <= n; k++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s, err := Open(ctx, dsn)
					if err != nil {
						errs <- err
						return
					}
					defer s.Close()
					for try := 0; try < 1+k%2; try++ { // odd shards come twice
						if _, err := s.RecordShard(ctx, Meta{StartedAt: t0, Source: "check", Inventory: "fleet.yaml"},
							Shard{AuditID: "fleet-audit-42", K: k, N: n}, parts[k-1]); err != nil {
							errs <- err
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			runs, err := ref.ListRuns(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != 1 || runs[0].Status != StatusOK || runs[0].ShardsDone != n {
				t.Fatalf("runs = %+v, want one ok run of %d shards", runs, n)
			}
			got, err := ref.GetRun(ctx, runs[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			wid, err := ref.Record(ctx, Meta{StartedAt: t0, Source: "check", Inventory: "fleet.yaml"}, all)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := ref.GetRun(ctx, wid)
			sameRun(t, got, want)
		})
	}
}

// ExampleStore_RecordShard records an audit run as two shards, as two
// processes of one Job would: the run is complete once both are in.
func ExampleStore_RecordShard() {
	dir, _ := os.MkdirTemp("", "history-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(dir, "history.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	meta := Meta{Inventory: "fleet.yaml", Source: "check"}
	first := Result{Decisions: []contract.Decision{{Host: "web-01", Status: contract.StatusEligible, Eligible: true}}}
	second := Result{Decisions: []contract.Decision{{Host: "web-02", Status: contract.StatusIneligible}}}

	id, _ := s.RecordShard(ctx, meta, Shard{AuditID: "audit-2026-11-30", K: 1, N: 2}, first)
	runs, _ := s.ListRuns(ctx, 1)
	fmt.Printf("run %d: %s\n", id, runs[0].StatusText())

	s.RecordShard(ctx, meta, Shard{AuditID: "audit-2026-11-30", K: 2, N: 2}, second)
	r, _ := s.GetRun(ctx, id)
	fmt.Printf("run %d: %s, %d hosts, %d ineligible\n", r.ID, r.StatusText(), r.Hosts, r.Counts[contract.StatusIneligible])
	// Output:
	// run 1: 1 of 2 shards
	// run 1: ok, 2 hosts, 1 ineligible
}

// TestPruneGivenUpShards: a sharded run whose missing shards never came is
// pruned like a finished run; one that is complete is kept while it is the
// newest.
func TestPruneGivenUpShards(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, parts := shardFleet(6, 2)
		partial, err := s.RecordShard(ctx, Meta{StartedAt: t0, Source: "check"}, Shard{AuditID: "old", K: 1, N: 2}, parts[0])
		if err != nil {
			t.Fatal(err)
		}
		var done RunID
		for k := 1; k <= 2; k++ {
			if done, err = s.RecordShard(ctx, Meta{StartedAt: t0.Add(time.Hour), Source: "check"}, Shard{AuditID: "new", K: k, N: 2}, parts[k-1]); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.Prune(ctx, t0.Add(48*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("Prune = %d, %v; want 1", n, err)
		}
		if _, err := s.GetRun(ctx, partial); !errors.Is(err, ErrNotFound) {
			t.Errorf("the given-up sharded run: %v, want deleted", err)
		}
		if _, err := s.GetRun(ctx, done); err != nil {
			t.Errorf("the complete sharded run, the newest: %v", err)
		}
	})
}

package history

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
)

// BenchmarkRecordAndRead records a run of a 500-host fleet with its facts and
// reads it back, on each backend. x_json is the time of one round trip
// against the baseline measured in the same run: encoding and decoding the
// same facts and decisions as JSON, the least any store of them must do.
//
//	go test -run '^$' -bench RecordAndRead -benchtime 5x ./history
func BenchmarkRecordAndRead(b *testing.B) {
	var pairs []string
	for i := range 500 {
		st := []string{"eligible", "enabled", "ineligible:selinux,password_login", "enabled_ineligible:selinux", "unreachable:reachable"}[i%5]
		pairs = append(pairs, fmt.Sprintf("host-%03d=%s", i, st))
	}
	facts, decisions := fleet(pairs...)
	baseline := jsonRoundTrip(b, facts, decisions)
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := openT(b, be.dsn(b))
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				id, err := s.Record(ctx, Meta{Inventory: "fleet.yaml"}, Result{Facts: facts, Decisions: decisions})
				if err != nil {
					b.Fatal(err)
				}
				r, err := s.GetRun(ctx, id)
				if err != nil || len(r.Report.Decisions) != len(decisions) {
					b.Fatalf("GetRun: %v", err)
				}
			}
			per := time.Since(start) / time.Duration(b.N)
			b.ReportMetric(float64(per)/float64(baseline), "x_json")
			b.ReportMetric(float64(len(decisions))/per.Seconds(), "hosts/s")
		})
	}
}

// jsonRoundTrip is the time to encode and decode the fleet once.
func jsonRoundTrip(b *testing.B, facts []contract.Facts, decisions []contract.Decision) time.Duration {
	const n = 20
	start := time.Now()
	for range n {
		for i := range decisions {
			fb, _ := json.Marshal(facts[i])
			db, _ := json.Marshal(decisions[i])
			var f contract.Facts
			var d contract.Decision
			if json.Unmarshal(fb, &f) != nil || json.Unmarshal(db, &d) != nil {
				b.Fatal("round trip")
			}
		}
	}
	return time.Since(start) / n
}

// BenchmarkRecordShards records a 2000-host fleet as N shards, one after the
// other, on each backend. x_whole is the time of the N shards against the
// baseline measured in the same run: recording the same fleet as one run
// (three times, averaged).
//
//	go test -run '^$' -bench RecordShards -benchtime 3x ./history
func BenchmarkRecordShards(b *testing.B) {
	all, _ := shardFleet(2000, 1)
	for _, be := range backends {
		for _, n := range []int{4, 32} {
			b.Run(fmt.Sprintf("%s/%d_shards", be.name, n), func(b *testing.B) {
				_, parts := shardFleet(2000, n)
				s := openT(b, be.dsn(b))
				ctx := context.Background()
				const wholeRuns = 3
				whole := time.Now()
				for range wholeRuns {
					if _, err := s.Record(ctx, Meta{Source: "check"}, all); err != nil {
						b.Fatal(err)
					}
				}
				baseline := time.Since(whole) / wholeRuns
				b.ResetTimer()
				start := time.Now()
				for i := range b.N {
					for k := 1; k <= n; k++ {
						if _, err := s.RecordShard(ctx, Meta{Source: "check"}, Shard{AuditID: fmt.Sprint("bench-", i), K: k, N: n}, parts[k-1]); err != nil {
							b.Fatal(err)
						}
					}
				}
				per := time.Since(start) / time.Duration(b.N)
				b.ReportMetric(float64(per)/float64(baseline), "x_whole")
			})
		}
	}
}

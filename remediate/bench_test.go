package remediate_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/hsssim"
	"github.com/factorgate/factorgate/remediate"
)

// applyOnce enables n hosts on a fresh emulator with the given batch size
// and returns how long the apply (with its verification) took.
func applyOnce(b *testing.B, n, batch int) time.Duration {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sim, err := hsssim.Start(ctx, hsssim.Config{AK: testAK, SK: testSK, ProjectID: testProject})
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	c, err := cloud.New(cloud.Credentials{AK: testAK, SK: testSK, ProjectID: testProject},
		cloud.Options{HSSEndpoint: sim.URL(), SMNEndpoint: sim.URL()})
	if err != nil {
		b.Fatal(err)
	}
	ds := make([]contract.Decision, n)
	for i := range ds {
		id := sim.AddHost(hsssim.Host{Name: fmt.Sprintf("h%04d", i)})
		ds[i] = contract.Decision{Host: fmt.Sprintf("h%04d", i), HSSHostID: &id, Status: contract.StatusEligible, Eligible: true}
	}
	opts := remediate.Options{Action: remediate.Enable, AuthType: cloud.AuthCode, BatchSize: batch, MaxFailures: -1, PollInterval: time.Millisecond}
	p, err := remediate.NewPlan(ds, opts)
	if err != nil {
		b.Fatal(err)
	}
	j, err := remediate.CreateJournal(filepath.Join(b.TempDir(), fmt.Sprintf("j-%d-%d", batch, time.Now().UnixNano())))
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	start := time.Now()
	r, err := remediate.Apply(ctx, c, p, j, opts)
	d := time.Since(start)
	if err != nil || r.Failed() != 0 {
		b.Fatalf("apply: %v", err)
	}
	return d
}

// BenchmarkApplyBatching enables 200 hosts through the SDK and the emulator,
// one host per call (the baseline) and 20 per call, in the same run, and
// reports how many times faster batching is. The journal's fsync per call is
// part of what batching saves.
func BenchmarkApplyBatching(b *testing.B) {
	const hosts = 200
	var base, batched time.Duration
	for b.Loop() {
		base += applyOnce(b, hosts, 1)
		batched += applyOnce(b, hosts, 20)
	}
	b.ReportMetric(float64(base)/float64(batched), "x-faster-than-batch-1")
	b.ReportMetric(float64(batched.Milliseconds())/float64(b.N), "ms/apply-batch-20")
	b.ReportMetric(float64(base.Milliseconds())/float64(b.N), "ms/apply-batch-1")
}

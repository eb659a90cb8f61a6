package fleetsim_test

import (
	"context"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/factorgate/factorgate/internal/fleetsim"
)

// benchHosts is the fleet size of BenchmarkStart.
var benchHosts = 2000

func init() {
	if v, err := strconv.Atoi(os.Getenv("FLEETSIM_BENCH_HOSTS")); err == nil && v > 0 {
		benchHosts = v
	}
}

// rssKB reads this process's resident set size.
func rssKB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkStart starts a fleet of benchHosts hosts (2,000 by default;
// FLEETSIM_BENCH_HOSTS overrides) and reports the start time, the time to
// open as many bare loopback listeners in the same run (the baseline, and
// the ratio to it), the resident memory the running fleet adds, and the
// heap per host.
//
//	go test ./internal/fleetsim -run '^$' -bench Start -benchtime 3x
func BenchmarkStart(b *testing.B) {
	// Baseline: the listeners alone.
	t0 := time.Now()
	lns := make([]net.Listener, 0, benchHosts)
	for range benchHosts {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		lns = append(lns, ln)
	}
	baseline := time.Since(t0)
	for _, ln := range lns {
		ln.Close()
	}

	specs := fleetsim.Mixed(benchHosts)
	var total time.Duration
	var rss, rssTotal, heap int64
	for b.Loop() {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		r0 := rssKB()
		start := time.Now()
		f, err := fleetsim.Start(context.Background(), fleetsim.Config{Hosts: specs, Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&m1)
		rss = max(rss, rssKB()-r0)
		rssTotal = max(rssTotal, rssKB())
		heap = max(heap, int64(m1.HeapInuse+m1.StackInuse)-int64(m0.HeapInuse+m0.StackInuse))
		f.Close()
	}
	per := total / time.Duration(b.N)
	b.ReportMetric(float64(per.Milliseconds()), "start-ms")
	b.ReportMetric(float64(baseline.Milliseconds()), "listeners-ms")
	b.ReportMetric(float64(per)/float64(baseline), "x-listeners")
	b.ReportMetric(float64(rss)/1024, "rss-added-MB")
	b.ReportMetric(float64(rssTotal)/1024, "rss-total-MB")
	b.ReportMetric(float64(heap)/float64(benchHosts)/1024, "heap+stack-KB/host")
}

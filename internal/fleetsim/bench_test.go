package fleetsim_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"golang.org/x/sync/errgroup"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/fleetsim"
	"github.com/factorgate/factorgate/scanner"
	"github.com/factorgate/factorgate/scanner/inventory"
	"github.com/factorgate/factorgate/scanner/probe"
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

// BenchmarkScan scans a mixed fleet of benchHosts hosts with scanner.Scan
// (64 at a time) and reports hosts per second, the process's resident
// memory, and the ratio to a bare x/crypto/ssh loop (dial, log in, run
// the probe, read its output; same concurrency) over the same fleet in
// the same run.
//
//	go test ./internal/fleetsim -run '^$' -bench Scan -benchtime 1x
func BenchmarkScan(b *testing.B) {
	const concurrency = 64
	f, err := fleetsim.Start(context.Background(), fleetsim.Config{N: benchHosts, Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	invPath := filepath.Join(b.TempDir(), "fleet.yaml")
	if err := f.WriteInventory(invPath); err != nil {
		b.Fatal(err)
	}
	inv, err := inventory.Load(invPath)
	if err != nil {
		b.Fatal(err)
	}

	// Baseline: the bare client.
	hostKeys, err := knownhosts.New(f.KnownHostsPath())
	if err != nil {
		b.Fatal(err)
	}
	cfg := &ssh.ClientConfig{User: f.User(), Auth: []ssh.AuthMethod{ssh.PublicKeys(f.ClientSigner())}, HostKeyCallback: hostKeys, Timeout: 5 * time.Second}
	t0 := time.Now()
	var g errgroup.Group
	g.SetLimit(concurrency)
	for _, h := range f.Hosts() {
		g.Go(func() error {
			c, err := ssh.Dial("tcp", h.Addr(), cfg)
			if err != nil {
				return nil // refused hosts fail fast here too
			}
			defer c.Close()
			s, err := c.NewSession()
			if err != nil {
				return err
			}
			defer s.Close()
			s.Output(probe.Linux)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	bare := time.Since(t0)

	opts := scanner.Options{Concurrency: concurrency, NoSSHConfig: true,
		Timeouts: scanner.Timeouts{Dial: 5 * time.Second, Handshake: 5 * time.Second, Probe: 5 * time.Second, Host: 20 * time.Second}}
	var total time.Duration
	for b.Loop() {
		n := 0
		start := time.Now()
		if err := scanner.Scan(context.Background(), inv.Hosts, opts, func(*contract.Facts) { n++ }); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		if n != len(inv.Hosts) {
			b.Fatalf("%d facts for %d hosts", n, len(inv.Hosts))
		}
	}
	per := total / time.Duration(b.N)
	b.ReportMetric(float64(len(inv.Hosts))/per.Seconds(), "hosts/s")
	b.ReportMetric(float64(len(inv.Hosts))/bare.Seconds(), "bare-hosts/s")
	b.ReportMetric(float64(per)/float64(bare), "x-bare")
	b.ReportMetric(float64(rssKB())/1024, "rss-total-MB")
}

// BenchmarkScanDeadHosts scans the mixed fleet of benchHosts hosts twice in
// one run: as it is, and with 5% more hosts among them that accept TCP and
// never speak SSH and 1% that stall in the middle of the probe, 32 probes at a time
// with a 2-second handshake and probe timeout. It reports both wall times,
// their ratio, and the goal: the dead hosts cost about one timeout in all,
// wall(dead) <= 1.25 x wall(clean) + one handshake timeout.
//
//	FLEETSIM_BENCH_HOSTS=10000 go test ./internal/fleetsim -run '^$' -bench ScanDeadHosts -benchtime 1x
func BenchmarkScanDeadHosts(b *testing.B) {
	const timeout = 2 * time.Second
	clean := fleetsim.Mixed(benchHosts)
	// Dead hosts sit among the others, as they do in a real fleet: one
	// mute host after every 20, one stalling after every 100.
	var dead []fleetsim.HostSpec
	for i, h := range clean {
		dead = append(dead, h)
		if i%20 == 19 {
			dead = append(dead, fleetsim.HostSpec{Name: fmt.Sprintf("mute-%05d", i), Profile: fleetsim.NeverSpeaks})
		}
		if i%100 == 99 {
			dead = append(dead, fleetsim.HostSpec{Name: fmt.Sprintf("stall-%05d", i), Profile: fleetsim.StallsMidProbe})
		}
	}
	scan := func(b *testing.B, specs []fleetsim.HostSpec) time.Duration {
		f, err := fleetsim.Start(context.Background(), fleetsim.Config{Hosts: specs, Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		invPath := filepath.Join(b.TempDir(), "fleet.yaml")
		if err := f.WriteInventory(invPath); err != nil {
			b.Fatal(err)
		}
		inv, err := inventory.Load(invPath)
		if err != nil {
			b.Fatal(err)
		}
		opts := scanner.Options{Concurrency: 32, NoSSHConfig: true,
			Timeouts: scanner.Timeouts{Dial: 5 * time.Second, Handshake: timeout, Probe: timeout, Host: 30 * time.Second}}
		n := 0
		start := time.Now()
		if err := scanner.Scan(context.Background(), inv.Hosts, opts, func(*contract.Facts) { n++ }); err != nil {
			b.Fatal(err)
		}
		if n != len(specs) {
			b.Fatalf("%d facts for %d hosts: hosts lost", n, len(specs))
		}
		return time.Since(start)
	}
	var cleanWall, deadWall time.Duration
	for b.Loop() {
		cleanWall += scan(b, clean)
		deadWall += scan(b, dead)
	}
	cleanWall /= time.Duration(b.N)
	deadWall /= time.Duration(b.N)
	goal := time.Duration(1.25*float64(cleanWall)) + timeout
	b.ReportMetric(cleanWall.Seconds(), "clean-s")
	b.ReportMetric(deadWall.Seconds(), "dead-s")
	b.ReportMetric(float64(len(dead))/deadWall.Seconds(), "dead-hosts/s")
	b.ReportMetric(float64(deadWall)/float64(goal), "x-goal")
	b.ReportMetric(float64(rssKB())/1024, "rss-total-MB")
}

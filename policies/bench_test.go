package policies

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/open-policy-agent/opa/v1/rego"
)

// benchSizes are the fleet sizes BenchmarkJudge judges: 10,000 and
// 100,000 hosts, or FACTORGATE_BENCH_HOSTS alone.
var benchSizes = func() []int {
	if n, err := strconv.Atoi(os.Getenv("FACTORGATE_BENCH_HOSTS")); err == nil && n > naiveSample {
		return []int{n}
	}
	return []int{10_000, 100_000}
}()

// naiveSample is how many hosts the naive baseline judges; its rate is
// extrapolated, as judging 100,000 hosts the naive way takes minutes.
const naiveSample = 300

var (
	benchMu    sync.Mutex
	benchFleet = map[int][][]byte{}
)

// fleetOf returns a generated fleet of n hosts as JSON lines, made once.
func fleetOf(b *testing.B, n int) [][]byte {
	benchMu.Lock()
	defer benchMu.Unlock()
	if lines, ok := benchFleet[n]; ok {
		return lines
	}
	lines, err := fleetLines(n)
	if err != nil {
		b.Fatal(err)
	}
	benchFleet[n] = lines
	return lines
}

func fleet(b *testing.B) [][]byte { return fleetOf(b, 1000) }

// judgeLines judges lines once with a new evaluator of opts and returns
// the wall and CPU time the judging took (building the evaluator left
// out) and the evaluator.
func judgeLines(b *testing.B, opts Options, lines [][]byte) (wall, cpu time.Duration, ev *Evaluator) {
	ctx := context.Background()
	ev, err := New(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	next := func() (*contract.Facts, []byte, error) {
		if i == len(lines) {
			return nil, nil, errEOF
		}
		i++
		return nil, lines[i-1], nil
	}
	n := 0
	start, cpuStart := time.Now(), cpuTime()
	if err := ev.Judge(ctx, next, func(contract.Decision) error { n++; return nil }); err != nil {
		b.Fatal(err)
	}
	wall, cpu = time.Since(start), cpuTime()-cpuStart
	if n != len(lines) {
		b.Fatalf("judged %d of %d", n, len(lines))
	}
	return wall, cpu, ev
}

// BenchmarkJudge judges generated fleets (10,000 and 100,000 hosts drawn
// from a few hundred configurations, see fleetgen) with [Evaluator.Judge]
// and GOMAXPROCS workers, each iteration with a new evaluator so that its
// verdict cache starts empty. In the same run it judges the fleet once
// with the cache off, and a sample the naive way, rego.New(...).Eval per
// host; it reports the rates, CPU time per decision (steadier than rates
// on a shared machine) and the ratios against both baselines:
//
//	go test ./policies -run '^$' -bench BenchmarkJudge -benchtime 3x
func BenchmarkJudge(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			lines := fleetOf(b, n)
			b.ResetTimer()
			var wall, cpu time.Duration
			var hits, misses int64
			for range b.N {
				w, c, ev := judgeLines(b, Options{}, lines)
				wall, cpu = wall+w, cpu+c
				h, m := ev.cacheStats()
				hits, misses = hits+h, misses+m
			}
			b.StopTimer()
			decisions := float64(b.N * len(lines))
			cached := decisions / wall.Seconds()
			cachedCPU := float64(cpu.Microseconds()) / decisions

			w, c, _ := judgeLines(b, Options{CacheBytes: -1}, lines)
			uncached := float64(len(lines)) / w.Seconds()
			uncachedCPU := float64(c.Microseconds()) / float64(len(lines))

			naive := naiveRate(b, lines[:naiveSample])
			b.ReportMetric(cached, "decisions/s")
			b.ReportMetric(cachedCPU, "cpu-us/decision")
			b.ReportMetric(uncached, "uncached-decisions/s")
			b.ReportMetric(uncachedCPU, "uncached-cpu-us/decision")
			b.ReportMetric(uncachedCPU/cachedCPU, "x-uncached-cpu")
			b.ReportMetric(cached/naive, "x-naive")
			b.ReportMetric(float64(hits)/float64(hits+misses), "hit-share")
			b.Logf("%d hosts: cached %.0f decisions/s, %.1f CPU us each (%d hits, %d misses); uncached %.0f decisions/s, %.1f CPU us each; ratio %.1fx in CPU, %.1fx in rate; naive %.0f decisions/s",
				len(lines), cached, cachedCPU, hits, misses, uncached, uncachedCPU, uncachedCPU/cachedCPU, cached/uncached, naive)
		})
	}
}

// cpuTime is the CPU time (user and system) the process has used so far:
// on a machine shared with other work, CPU time per decision varies far
// less than decisions per second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// naiveRate judges lines one by one the way a naive embedding does: a new
// rego.Rego per host from the module sources, input decoded from JSON.
// It runs on as many goroutines as the prepared benchmark, to compare
// like with like.
func naiveRate(b *testing.B, lines [][]byte) float64 {
	ctx := context.Background()
	var mods []func(*rego.Rego)
	for _, name := range BundleFiles() {
		if isTest(name) {
			continue
		}
		src, err := fs.ReadFile(bundleFS, name)
		if err != nil {
			b.Fatal(err)
		}
		mods = append(mods, rego.Module(name, string(src)))
	}
	start := time.Now()
	var wg sync.WaitGroup
	work := make(chan []byte)
	errs := make(chan error, 1)
	for range workers() {
		wg.Go(func() {
			for line := range work {
				var in any
				if err := json.Unmarshal(line, &in); err != nil {
					select {
					case errs <- err:
					default:
					}
					continue
				}
				opts := append([]func(*rego.Rego){rego.Query(Query), rego.Input(in)}, mods...)
				rs, err := rego.New(opts...).Eval(ctx)
				if err == nil && len(rs) != 1 {
					err = ErrNoDecision
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for _, l := range lines {
		work <- l
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	return float64(len(lines)) / time.Since(start).Seconds()
}

// BenchmarkDecide is one host at a time through the prepared query.
func BenchmarkDecide(b *testing.B) {
	lines := fleet(b)[:1000]
	ev, err := New(context.Background(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := ev.Decide(context.Background(), lines[i%len(lines)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseInput is the cost of turning one raw line into OPA input.
func BenchmarkParseInput(b *testing.B) {
	lines := fleet(b)[:1000]
	b.ReportAllocs()
	for i := range b.N {
		if _, err := parseInput(lines[i%len(lines)]); err != nil {
			b.Fatal(err)
		}
	}
}

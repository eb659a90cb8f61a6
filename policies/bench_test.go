package policies

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/policies/internal/fleetgen"
	"github.com/open-policy-agent/opa/v1/rego"
)

// benchHosts is the size of the fleet BenchmarkJudge judges per
// iteration: 100,000, or FACTORGATE_BENCH_HOSTS.
var benchHosts = func() int {
	if n, err := strconv.Atoi(os.Getenv("FACTORGATE_BENCH_HOSTS")); err == nil && n > naiveSample {
		return n
	}
	return 100_000
}()

// naiveSample is how many hosts the naive baseline judges; its rate is
// extrapolated, as judging 100,000 hosts the naive way takes minutes.
const naiveSample = 300

var (
	benchOnce  sync.Once
	benchLines [][]byte
	benchErr   error
)

func fleet(b *testing.B) [][]byte {
	benchOnce.Do(func() { benchLines, benchErr = fleetgen.Lines(benchHosts) })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchLines
}

// BenchmarkJudge judges 100,000 generated hosts per iteration with the
// shared prepared query ([Evaluator.Judge], GOMAXPROCS workers), then
// measures in the same run the naive embedding, rego.New(...).Eval per
// host (parse, compile and evaluate every time), on a sample, and reports
// both rates, their ratio and the CPU time per prepared decision
// (cpu-us/decision, steadier than rates on a shared machine):
//
//	go test ./policies -run '^$' -bench BenchmarkJudge -benchtime 3x
func BenchmarkJudge(b *testing.B) {
	lines := fleet(b)
	ctx := context.Background()
	ev, err := New(ctx, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start, cpuStart := time.Now(), cpuTime()
	for range b.N {
		i := 0
		next := func() (*contract.Facts, []byte, error) {
			if i == len(lines) {
				return nil, nil, errEOF
			}
			i++
			return nil, lines[i-1], nil
		}
		n := 0
		if err := ev.Judge(ctx, next, func(contract.Decision) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != len(lines) {
			b.Fatalf("judged %d of %d", n, len(lines))
		}
	}
	prepared := float64(b.N*len(lines)) / time.Since(start).Seconds()
	cpuPer := float64((cpuTime() - cpuStart).Microseconds()) / float64(b.N*len(lines))
	b.StopTimer()

	naive := naiveRate(b, lines[:naiveSample])
	b.ReportMetric(prepared, "decisions/s")
	b.ReportMetric(naive, "naive-decisions/s")
	b.ReportMetric(prepared/naive, "x-naive")
	b.ReportMetric(cpuPer, "cpu-us/decision")
	b.Logf("prepared query: %.0f decisions/s over %d hosts x %d; naive rego.New(...).Eval per host: %.0f decisions/s over %d hosts; ratio %.0fx",
		prepared, len(lines), b.N, naive, naiveSample, prepared/naive)
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

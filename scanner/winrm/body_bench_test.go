package winrm_test

import (
	"context"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/factorgate/factorgate/scanner/transport"
	"github.com/factorgate/factorgate/scanner/winrm"
	upstream "github.com/masterzen/winrm"
)

// BenchmarkHostileAnswer measures what a host answering with a 300 MB
// body costs: "stock" is the winrm client on its own transport (the
// baseline, which reads the body whole), "capped" is the scanner's
// transport with the default output cap. Each reports the bytes allocated
// and the peak heap in use; "capped" also prints its ratio to "stock",
// measured in the same run. Peak RSS: run one of them alone under
// /usr/bin/time -v.
//
// The baseline costs about 16 GB of heap and two minutes per run: it runs
// only with FACTORGATE_BENCH_STOCK=1.
func BenchmarkHostileAnswer(b *testing.B) {
	srv, _ := hostileServer(b)
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())

	stock := func() {
		params := *upstream.DefaultParameters
		ep := upstream.NewEndpoint(u.Hostname(), port, false, false, nil, nil, nil, time.Minute)
		c, err := upstream.NewClientWithParameters(ep, simUser, simPassword, &params)
		if err != nil {
			b.Fatal(err)
		}
		c.CreateShell() // fails: not a shell; the body was read whole first
	}
	capped := func() {
		h := serverHost(b, srv, false, "basic")
		h.WinRM.AllowBasicOverHTTP = true
		opts := simOptions(simPassword)
		opts.MaxOutput = transport.DefaultMaxOutput
		if _, err := winrm.Dial(context.Background(), h, opts); err == nil {
			b.Fatal("dial succeeded")
		}
	}
	var stockPeak, stockAlloc float64
	if b.Run("stock", func(b *testing.B) {
		if os.Getenv("FACTORGATE_BENCH_STOCK") != "1" {
			b.Skip("the baseline needs about 16 GB: set FACTORGATE_BENCH_STOCK=1")
		}
		stockPeak, stockAlloc = measure(b, stock)
	}) {
		b.Run("capped", func(b *testing.B) {
			peak, alloc := measure(b, capped)
			if stockPeak > 0 && peak > 0 && alloc > 0 {
				b.ReportMetric(stockPeak/peak, "stock/capped-peak")
				b.ReportMetric(stockAlloc/alloc, "stock/capped-alloc")
			}
		})
	}
}

// measure runs fn b.N times and reports the peak heap in use and the bytes
// allocated per run, in MB.
func measure(b *testing.B, fn func()) (peakMB, allocMB float64) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var max uint64
		var m runtime.MemStats
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > max {
				max = m.HeapInuse
			}
			select {
			case <-done:
				peak <- max
				return
			case <-t.C:
			}
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fn()
	}
	b.StopTimer()
	close(done)
	p := <-peak
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	peakMB = float64(p-min(p, before.HeapInuse)) / (1 << 20)
	allocMB = float64(after.TotalAlloc-before.TotalAlloc) / float64(b.N) / (1 << 20)
	b.ReportMetric(peakMB, "peak-heap-MB")
	b.ReportMetric(allocMB, "alloc-MB/op")
	return peakMB, allocMB
}

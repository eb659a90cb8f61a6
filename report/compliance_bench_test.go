package report

import (
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"testing"

	"github.com/factorgate/factorgate/contract"
)

// fleetOf makes n decisions cycling through the fixture's hosts, each with
// its own name, streamed without holding the fleet.
func fleetOf(n int) iter.Seq2[contract.Decision, error] {
	base := fixtureCompliance().Decisions
	return func(yield func(contract.Decision, error) bool) {
		for i := range n {
			d := base[i%len(base)]
			d.Host = fmt.Sprintf("%s-%06d", d.Host, i)
			if !yield(d, nil) {
				return
			}
		}
	}
}

// BenchmarkComplianceFormats renders a fleet of 5,000 hosts in each of the
// junit, csv, markdown, sarif, html and table formats, and a baseline in the same
// run, first: encoding each decision as a JSON line. It reports, per format, the
// time per host and the ratio to the baseline (x-jsonl), and the bytes
// allocated per host, which stay flat as the fleet grows because renderers
// stream.
//
//	go test ./report -run '^$' -bench ComplianceFormats -benchtime 3x
func BenchmarkComplianceFormats(b *testing.B) {
	const hosts = 5000
	r := fixtureCompliance()
	h := Header{GeneratedAt: r.GeneratedAt, Summary: r.Summary, Total: hosts, NotScanned: r.NotScanned, Title: "bench"}
	var baseline float64 // ns per host of the baseline, measured first
	b.Run("baseline-jsonl", func(b *testing.B) {
		for b.Loop() {
			enc := json.NewEncoder(io.Discard)
			for d := range fleetOf(hosts) {
				if err := enc.Encode(d); err != nil {
					b.Fatal(err)
				}
			}
		}
		baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N) / hosts
		b.ReportMetric(baseline, "ns/host")
	})
	for _, name := range []string{"junit", "csv", "markdown", "sarif", "html", "table"} {
		b.Run(name, func(b *testing.B) {
			rd, err := New(name)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := rd.Render(io.Discard, h, fleetOf(hosts)); err != nil {
					b.Fatal(err)
				}
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / hosts
			b.ReportMetric(ns, "ns/host")
			if baseline > 0 {
				b.ReportMetric(ns/baseline, "x-jsonl")
			}
		})
	}
}

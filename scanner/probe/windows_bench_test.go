package probe

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
)

// BenchmarkParseWindowsProbe parses the Server 2019 output and reports its
// cost as a ratio to a plain json.Unmarshal of the same bytes into a map,
// timed over as many iterations in the same run.
func BenchmarkParseWindowsProbe(b *testing.B) {
	out, err := os.ReadFile(filepath.Join("testdata", "windows", "server-2019", "stdout.txt"))
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for range b.N {
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			b.Fatal(err)
		}
	}
	base := time.Since(start)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var f contract.Facts
		if err := ParseWindows(out, &f); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed())/float64(base), "x-json-map")
}

package scanner

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/factorgate/factorgate/internal/testutil"
)

// TestProgressBar draws a scan of four hosts, one failed, on a fake clock,
// and compares what a terminal would receive with testdata/progress.golden.
func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	clock := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	b := NewProgressBar(&buf, func() time.Time { return clock })
	b.Start(4)
	for i, ok := range []bool{true, false, true, true} {
		clock = clock.Add(500 * time.Millisecond)
		if i == 2 {
			clock = clock.Add(-450 * time.Millisecond) // too soon: not redrawn
		}
		b.Done("h", ok)
	}
	b.Finish()
	got := strings.ReplaceAll(buf.String(), "\r\x1b[K", "<CR>\n")
	testutil.Golden(t, filepath.Join("testdata", "progress.golden"), []byte(got))
}

// TestNewProgressSilentOffTerminal checks that a file that is not a
// terminal gets nothing.
func TestNewProgressSilentOffTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	p := NewProgress(f)
	p.Start(2)
	p.Done("a", true)
	p.Finish()
	if st, _ := f.Stat(); st.Size() != 0 {
		t.Errorf("progress wrote %d bytes to a non-terminal", st.Size())
	}
}

package scanner

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// NewProgress returns a [ProgressSink] that draws a one-line progress bar
// on f (stderr) when f is a terminal, and a silent one otherwise, so that
// logs and pipes never see it.
func NewProgress(f *os.File) ProgressSink {
	if f == nil || !term.IsTerminal(int(f.Fd())) {
		return silentProgress{}
	}
	return NewProgressBar(f, time.Now)
}

// NewProgressBar returns a [ProgressSink] that always draws on w, redrawing
// at most ten times a second; now is the clock (time.Now outside tests).
func NewProgressBar(w io.Writer, now func() time.Time) *ProgressBar {
	return &ProgressBar{w: w, now: now}
}

// ProgressBar draws "[####----] done/total, N failed, R hosts/s" on one line.
type ProgressBar struct {
	w   io.Writer
	now func() time.Time

	mu           sync.Mutex
	total        int
	done, failed int
	start, drawn time.Time
}

// Start begins a scan of total hosts.
func (b *ProgressBar) Start(total int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total, b.done, b.failed = total, 0, 0
	b.start = b.now()
	b.draw(true)
}

// Done counts one finished host; ok is false for a host that failed.
func (b *ProgressBar) Done(_ string, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done++
	if !ok {
		b.failed++
	}
	b.draw(b.done == b.total)
}

// Finish draws the final state and ends the line.
func (b *ProgressBar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.draw(true)
	fmt.Fprint(b.w, "\n")
}

const barWidth = 24

func (b *ProgressBar) draw(force bool) {
	now := b.now()
	if !force && now.Sub(b.drawn) < 100*time.Millisecond {
		return
	}
	b.drawn = now
	filled := 0
	if b.total > 0 {
		filled = b.done * barWidth / b.total
	}
	rate := 0.0
	if el := now.Sub(b.start).Seconds(); el > 0 {
		rate = float64(b.done) / el
	}
	fmt.Fprintf(b.w, "\r\x1b[Kscan [%s%s] %d/%d hosts, %d failed, %.1f hosts/s",
		strings.Repeat("#", filled), strings.Repeat("-", barWidth-filled), b.done, b.total, b.failed, rate)
}

// silentProgress is the sink for pipes, files and tests.
type silentProgress struct{}

func (silentProgress) Start(int)         {}
func (silentProgress) Done(string, bool) {}
func (silentProgress) Finish()           {}

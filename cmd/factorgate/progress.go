package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/factorgate/factorgate/remediate"
	"github.com/factorgate/factorgate/scanner"
)

// progressTerminal returns the terminal progress bars may be drawn on: w
// when it is a terminal (and TERM is not "dumb") and quiet is not set;
// else nil, so that a file, a pipe or a log never receives a bar.
func progressTerminal(w io.Writer, quiet bool) *os.File {
	if quiet || os.Getenv("TERM") == "dumb" {
		return nil
	}
	f, ok := w.(*os.File)
	if !ok || f == nil || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return f
}

// logOut is where log lines go (stderr). While a progress bar is drawn
// there, a line goes above the bar, through the bar's own writer, so that
// the bar's next redraw does not overwrite it.
type logOut struct {
	w  io.Writer
	mu sync.Mutex
	p  *mpb.Progress
}

func (l *logOut) Write(b []byte) (int, error) {
	if l == nil {
		return len(b), nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.p != nil {
		if n, err := l.p.Write(b); err == nil {
			return n, nil
		}
	}
	return l.w.Write(b)
}

// attach sends log lines above the bars of p until detach(p).
func (l *logOut) attach(p *mpb.Progress) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.p = p
}

func (l *logOut) detach(p *mpb.Progress) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.p == p {
		l.p = nil
	}
}

// logOutOf is the [logOut] of the app of c; nil outside one (tests).
func logOutOf(c *cli.Context) *logOut {
	lo, _ := c.App.Metadata["log"].(*logOut)
	return lo
}

// barWidth is the width of the bar itself, decorators aside: a whole bar
// line fits 80 columns.
const barWidth = 30

// scanProgress returns the scan progress bar drawn on tty, or nil (a silent
// scan) when tty is nil.
func scanProgress(tty *os.File, log *logOut) scanner.ProgressSink {
	if tty == nil {
		return nil
	}
	return &scanBar{tty: tty, log: log}
}

// scanBar draws "scan [=====>----] 12/40 hosts, 1 failed, 3s" while a scan
// runs.
type scanBar struct {
	tty    *os.File
	log    *logOut
	p      *mpb.Progress
	bar    *mpb.Bar
	failed atomic.Int64
}

func (s *scanBar) Start(total int) {
	s.failed.Store(0)
	s.p = mpb.New(mpb.WithOutput(s.tty), mpb.WithRefreshRate(100*time.Millisecond))
	s.log.attach(s.p)
	if total == 0 {
		return
	}
	s.bar = s.p.New(int64(total), mpb.BarStyle(), mpb.BarWidth(barWidth),
		mpb.PrependDecorators(decor.Name("scan ")),
		mpb.AppendDecorators(
			decor.CountersNoUnit(" %d/%d hosts"),
			decor.Any(func(decor.Statistics) string { return fmt.Sprintf(", %d failed, ", s.failed.Load()) }),
			decor.Elapsed(decor.ET_STYLE_GO),
		))
}

func (s *scanBar) Done(_ string, ok bool) {
	if !ok {
		s.failed.Add(1)
	}
	if s.bar != nil {
		s.bar.Increment()
	}
}

func (s *scanBar) Finish() {
	if s.bar != nil && !s.bar.Completed() {
		s.bar.Abort(false)
	}
	s.p.Wait()
	s.log.detach(s.p)
}

// applyProgress returns the bars of an apply drawn on tty (the API calls,
// then the verification), or nil when tty is nil.
func applyProgress(tty *os.File, action remediate.Action, log *logOut) remediate.Progress {
	if tty == nil {
		return nil
	}
	return &applyBars{tty: tty, action: action, log: log}
}

type applyBars struct {
	tty    *os.File
	action remediate.Action
	log    *logOut

	mu             sync.Mutex
	p              *mpb.Progress
	change, verify *mpb.Bar
	failed         atomic.Int64
}

func (a *applyBars) container() *mpb.Progress {
	if a.p == nil {
		a.p = mpb.New(mpb.WithOutput(a.tty), mpb.WithRefreshRate(100*time.Millisecond))
		a.log.attach(a.p)
	}
	return a.p
}

func (a *applyBars) Changed(done, total, failed int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failed.Store(int64(failed))
	if a.change == nil {
		a.change = a.container().New(int64(total), mpb.BarStyle(), mpb.BarWidth(barWidth),
			mpb.PrependDecorators(decor.Name(fmt.Sprintf("%-7s", a.action))),
			mpb.AppendDecorators(
				decor.CountersNoUnit(" %d/%d hosts"),
				decor.Any(func(decor.Statistics) string { return fmt.Sprintf(", %d failed", a.failed.Load()) }),
			))
	}
	a.change.SetCurrent(int64(done))
}

func (a *applyBars) Verified(shown, total int, _ time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.verify == nil {
		word := "on"
		if a.action == remediate.Disable {
			word = "off"
		}
		a.verify = a.container().New(int64(total), mpb.BarStyle(), mpb.BarWidth(barWidth),
			mpb.PrependDecorators(decor.Name("verify ")),
			mpb.AppendDecorators(
				decor.CountersNoUnit(" %d/%d show 2FA "+word+", "),
				decor.Elapsed(decor.ET_STYLE_GO),
			))
	}
	a.verify.SetCurrent(int64(shown))
}

func (a *applyBars) Finish() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.p == nil {
		return
	}
	for _, b := range []*mpb.Bar{a.change, a.verify} {
		if b != nil && !b.Completed() {
			b.Abort(false)
		}
	}
	a.p.Wait()
	a.log.detach(a.p)
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/factorgate/factorgate/internal/hsssim"
)

// openPTY opens a pseudo-terminal of 80x24 and returns its two ends: the
// terminal a program writes to, and the side that reads what it wrote.
func openPTY(t *testing.T) (tty, ptm *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	fd := int(ptm.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close(); ptm.Close() })
	return tty, ptm
}

// TestProgressTerminal checks where progress may be drawn: a terminal,
// unless --quiet or TERM=dumb; never a file, a pipe or a buffer.
func TestProgressTerminal(t *testing.T) {
	tty, _ := openPTY(t)
	file, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	t.Setenv("TERM", "xterm")
	for _, tt := range []struct {
		name  string
		w     io.Writer
		quiet bool
		want  bool
	}{
		{"terminal", tty, false, true},
		{"terminal, --quiet", tty, true, false},
		{"file", file, false, false},
		{"pipe", pw, false, false},
		{"buffer", &bytes.Buffer{}, false, false},
	} {
		if got := progressTerminal(tt.w, tt.quiet) != nil; got != tt.want {
			t.Errorf("%s: progress drawn = %v, want %v", tt.name, got, tt.want)
		}
	}
	t.Setenv("TERM", "dumb")
	if progressTerminal(tty, false) != nil {
		t.Errorf("progress drawn on a dumb terminal")
	}
}

// TestApplyProgressOnTerminal runs enable --apply with stderr a terminal:
// the apply and verify bars appear there, and with --quiet they do not.
func TestApplyProgressOnTerminal(t *testing.T) {
	t.Setenv("TERM", "xterm")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sim, err := hsssim.Start(ctx, hsssim.Config{AK: scriptAK, SK: scriptSK, ProjectID: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	for k, v := range sim.Env() {
		t.Setenv(k, v)
	}
	t.Setenv("FACTORGATE_API_RETRY_WAIT", "1ms")
	dir := t.TempDir()
	var lines []string
	for i := range 3 {
		id := sim.AddHost(hsssim.Host{ID: fmt.Sprintf("id-%d", i), Name: fmt.Sprintf("web-%d", i)})
		lines = append(lines, fmt.Sprintf(`{"host":"web-%d","hss_host_id":%q,"status":"eligible","eligible":true}`, i, id))
	}
	decisions := filepath.Join(dir, "d.jsonl")
	if err := os.WriteFile(decisions, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		action string
		extra  []string
		want   []string
	}{
		{"enable", nil, []string{"enable", "3/3 hosts", "verify", "3/3 show 2FA on"}},
		{"disable", []string{"--quiet"}, nil},
	} {
		t.Run(tt.action, func(t *testing.T) {
			tty, ptm := openPTY(t)
			var got bytes.Buffer
			var wg sync.WaitGroup
			wg.Go(func() { io.Copy(&got, ptm) })
			args := append([]string{"factorgate", tt.action, "--decisions", decisions, "--apply", "--poll-interval", "1ms",
				"--journal", filepath.Join(dir, tt.action+".journal")}, tt.extra...)
			var stdout strings.Builder
			if code := run(ctx, args, strings.NewReader(""), &stdout, tty); code != 0 {
				t.Fatalf("exit %d\n%s", code, stdout.String())
			}
			tty.Close()
			wg.Wait()
			out := got.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("terminal lacks %q:\n%q", w, out)
				}
			}
			if tt.want == nil && strings.Contains(out, "verify") {
				t.Errorf("--quiet drew progress:\n%q", out)
			}
			if !strings.Contains(out, tt.action+": journal") {
				t.Errorf("terminal lacks the journal's name:\n%q", out)
			}
		})
	}
}

// TestModuleCmdDir checks how the demo's next steps name `go run`: relative
// to the working directory, inside the module only.
func TestModuleCmdDir(t *testing.T) {
	for _, tt := range []struct {
		dir, want string
		ok        bool
	}{
		{"../..", "./cmd/factorgate", true},
		{"../../remediate", "../cmd/factorgate", true},
		{".", ".", true},
		{t.TempDir(), "", false},
	} {
		t.Run(tt.dir, func(t *testing.T) {
			t.Chdir(tt.dir)
			got, ok := moduleCmdDir()
			if got != tt.want || ok != tt.ok {
				t.Errorf("moduleCmdDir() = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestScanProgressOnTerminal runs scan with stderr a terminal: the scan bar
// appears there, and stdout holds only the facts.
func TestScanProgressOnTerminal(t *testing.T) {
	t.Setenv("TERM", "xterm")
	dir := t.TempDir()
	inv := filepath.Join(dir, "fleet.yaml")
	if err := os.WriteFile(inv, []byte("hosts:\n  - {name: a, address: 127.0.0.1, port: 1}\n  - {name: b, address: 127.0.0.1, port: 1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tty, ptm := openPTY(t)
	var got bytes.Buffer
	var wg sync.WaitGroup
	wg.Go(func() { io.Copy(&got, ptm) })
	var stdout strings.Builder
	code := run(context.Background(), []string{"factorgate", "scan", "-i", inv, "--retries", "0", "--no-ssh-config"}, strings.NewReader(""), &stdout, tty)
	tty.Close()
	wg.Wait()
	if code != 0 {
		t.Fatalf("exit %d: %q", code, got.String())
	}
	if out := got.String(); !strings.Contains(out, "scan") || !strings.Contains(out, "2/2 hosts") || !strings.Contains(out, "2 failed") {
		t.Errorf("terminal lacks the scan bar:\n%q", out)
	}
	if strings.Contains(stdout.String(), "hosts") || strings.Count(stdout.String(), "\n") != 2 {
		t.Errorf("stdout holds more than the facts:\n%s", stdout.String())
	}
}

// TestQuietFlag checks that --quiet and -q are seen before and after the
// verb.
func TestQuietFlag(t *testing.T) {
	for _, args := range [][]string{{"--quiet", "x"}, {"-q", "x"}, {"x", "--quiet"}, {"x", "-q"}} {
		var got bool
		app := newApp(strings.NewReader(""), io.Discard, io.Discard)
		app.Commands = []*cli.Command{{Name: "x", Action: func(c *cli.Context) error { got = quiet(c); return nil }}}
		for _, c := range app.Commands {
			addGlobalFlags(c, io.Discard)
		}
		if err := app.Run(append([]string{"factorgate"}, args...)); err != nil {
			t.Fatal(err)
		}
		if !got {
			t.Errorf("%v: quiet not seen", args)
		}
	}
}

// TestLogAboveBar checks that a log line written while a bar is drawn goes
// through the bar (mpb prints it above), not straight to stderr where the
// next redraw would overwrite it; before and after, it goes straight.
func TestLogAboveBar(t *testing.T) {
	tty, ptm := openPTY(t)
	var drawn bytes.Buffer
	var wg sync.WaitGroup
	wg.Go(func() { io.Copy(&drawn, ptm) })
	var direct bytes.Buffer
	lo := &logOut{w: &direct}
	fmt.Fprintln(lo, "before")
	bar := scanProgress(tty, lo)
	bar.Start(2)
	bar.Done("a", true)
	fmt.Fprintln(lo, "level=WARN msg=during")
	bar.Done("b", false)
	bar.Finish()
	fmt.Fprintln(lo, "after")
	tty.Close()
	wg.Wait()
	if got := direct.String(); got != "before\nafter\n" {
		t.Errorf("straight to stderr: %q, want only the lines outside the bar", got)
	}
	if !strings.Contains(drawn.String(), "level=WARN msg=during") || !strings.Contains(drawn.String(), "2/2 hosts") {
		t.Errorf("terminal lacks the line or the bar:\n%q", drawn.String())
	}
}

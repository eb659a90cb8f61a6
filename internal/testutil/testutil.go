// Package testutil holds what the project's tests share: golden files with
// one -update flag, and loopback addresses that refuse or never answer.
// It is imported by tests only.
package testutil

import (
	"bytes"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// update is the one -update flag of every test binary that compares
// golden files: `go test ./pkg -update` rewrites them.
var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Update reports whether the test binary runs with -update.
func Update() bool { return *update }

// Golden compares got with the file at path, or writes the file with got
// when the test runs with -update. A difference is shown at its first
// line (see [FirstDiff]).
func Golden(tb testing.TB, path string, got []byte) {
	tb.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("%s differs from the golden file (run go test with -update after checking the change)\n%s", path, FirstDiff(string(want), string(got)))
	}
}

// FirstDiff shows the first line where want and got part, or "" when
// they are equal.
func FirstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return ""
}

// ClosedPort returns a loopback address nothing listens on.
func ClosedPort(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// SilentListener returns the address of a loopback listener that accepts
// TCP connections and never says a word (a blackhole), closed with the test.
func SilentListener(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return l.Addr().String()
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/testutil"
)

// TestScanInterruptedKeepsFacts interrupts `scan -o FILE` while one host
// stalls: the facts of the host already scanned are kept in FILE, stderr
// says so, and the exit code is 2.
func TestScanInterruptedKeepsFacts(t *testing.T) {
	// A server that accepts and then says nothing: its host never finishes.
	_, port, _ := net.SplitHostPort(testutil.SilentListener(t))

	dir := t.TempDir()
	inv := filepath.Join(dir, "fleet.yaml")
	os.WriteFile(inv, []byte(fmt.Sprintf(`defaults:
  ssh: {user: ops, password_env: FG_PW, known_hosts: %s}
hosts:
  - {name: gone, address: 127.0.0.1, port: 1}
  - {name: stall, address: 127.0.0.1, port: %s}
`, filepath.Join(dir, "known_hosts"), port)), 0o600)
	t.Setenv("FG_PW", "not-a-real-password")
	out := filepath.Join(dir, "facts.jsonl")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Interrupt once the first host's line is in the temporary file.
	go func() {
		for ctx.Err() == nil {
			tmps, _ := filepath.Glob(filepath.Join(dir, ".facts.jsonl.*.tmp"))
			for _, p := range tmps {
				if data, _ := os.ReadFile(p); bytes.Contains(data, []byte("\n")) {
					cancel()
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"factorgate", "scan", "-i", inv, "-o", out, "--no-ssh-config", "--retries", "0",
		"--concurrency", "2", "--timeout-handshake", "10m", "--timeout-host", "10m"},
		strings.NewReader(""), &stdout, &stderr)
	if code != exitBroken {
		t.Errorf("exit %d, want %d; stderr: %s", code, exitBroken, stderr.String())
	}
	want := fmt.Sprintf("factorgate: scan interrupted after 1 of 2 hosts; %s holds the 1 scanned\n", out)
	if stderr.String() != want {
		t.Errorf("stderr = %q\nwant %q", stderr.String(), want)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatalf("the facts already collected were thrown away: %v", err)
	}
	defer f.Close()
	r := contract.NewReader(f, out)
	var names []string
	for {
		facts, _, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, facts.Host.Name)
	}
	if len(names) != 1 || names[0] != "gone" {
		t.Errorf("%s holds %v, want the one host scanned (gone)", out, names)
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(tmps) > 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

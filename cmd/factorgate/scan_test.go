package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/sshdtest"
)

// TestScanVerbRealSSHD runs `factorgate scan` end to end against Debian's
// sshd: first-seen host key recorded with --accept-new, facts written to
// -o, exit 0.
func TestScanVerbRealSSHD(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Config{})
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	inv := filepath.Join(dir, "fleet.yaml")
	os.WriteFile(inv, []byte(fmt.Sprintf(`defaults:
  ssh: {user: %s, identity_file: %s, known_hosts: %s}
hosts:
  - {name: lab-01, address: 127.0.0.1, port: %d, labels: {env: lab}}
  - {name: gone, address: 127.0.0.1, port: 1}
`, srv.User, srv.KeyFile, kh, srv.Port)), 0o600)
	out := filepath.Join(dir, "facts.jsonl")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"factorgate", "scan", "-i", inv, "-o", out, "--accept-new", "--no-ssh-config", "--retries", "0"},
		strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout not empty with -o: %q", stdout.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := contract.NewReader(f, out)
	got := map[string]*contract.Facts{}
	for {
		facts, _, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[facts.Host.Name] = facts
	}
	lab := got["lab-01"]
	if lab == nil || !lab.Reachable || lab.Host.Auth == nil || *lab.Host.Auth != "publickey" || lab.Host.Labels["env"] != "lab" {
		t.Errorf("lab-01 facts = %+v", lab)
	}
	if g := got["gone"]; g == nil || g.Reachable || g.Error == nil || !strings.Contains(*g.Error, "connection refused") {
		t.Errorf("gone facts = %+v", g)
	}
	data, _ := os.ReadFile(kh)
	if string(data) != srv.KnownHostsLine()+"\n" {
		t.Errorf("known_hosts = %q, want the server's key recorded", data)
	}
}

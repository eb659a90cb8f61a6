package ssh

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/factorgate/factorgate/internal/testutil"
	"github.com/factorgate/factorgate/scanner/transport"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/factorgate/factorgate/internal/sshdtest"
)

// TestRealSSHDHostKeyAlgorithmsFromKnownHosts serves two host keys
// (ed25519 and ECDSA) while known_hosts holds only the ed25519 one. Left to
// its defaults x/crypto/ssh prefers ECDSA and would refuse the host as
// changed; asking for the algorithms known_hosts holds gets the right key.
func TestRealSSHDHostKeyAlgorithmsFromKnownHosts(t *testing.T) {
	dir := t.TempDir()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "host_ecdsa")
	os.WriteFile(keyPath, pem.EncodeToMemory(block), 0o600)

	srv := sshdtest.Start(t, sshdtest.Config{Extra: []string{"HostKey " + keyPath}})
	s, err := dial(t, sshdHost(srv), transport.Config{}) // srv.KnownHosts holds the ed25519 key only
	if err != nil {
		t.Fatalf("with only the ed25519 key known: %v", err)
	}
	s.Close()
}

func TestHostKeyAlgorithms(t *testing.T) {
	rsaLine := "[10.0.0.1]:2222 ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDJ9hXWUMxy8mfr7zbm+cxnwi6+9vIlIYc2Uj2ehgqvwxpvlyNSJnbsgPWGXAzGiKNwmtlyMxrOvHhj6MK1UoEh6Sz72Bhcpw0FcT3Wxo2/Ag3BK6QxbzXfqvW3I1Mey+m5YyLOmOx8Jj3lCOdBdk6u2sn8YLgGZhuK7vLkwPi1Iw==\n"
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	edKey, _ := ssh.NewPublicKey(pub)
	edLine := knownhosts.Line([]string{"10.0.0.1:2222"}, edKey) + "\n"
	kh := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(kh, []byte("# fleet keys\n"+rsaLine+edLine), 0o600)
	db := newHostKeyDB(false)
	tests := []struct {
		hostport string
		want     []string
	}{
		{"10.0.0.1:2222", []string{"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ssh-ed25519"}},
		{"10.0.0.1:22", nil},
		{"10.0.0.2:2222", nil},
	}
	for _, tt := range tests {
		if got := db.algorithms(kh, tt.hostport); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("algorithms(%s) = %q, want %q", tt.hostport, got, tt.want)
		}
	}
}

// TestAcceptNewHashed records a first-seen key under a hashed host name
// when HashKnownHosts is on, in a line OpenSSH's own format reads back.
func TestAcceptNewHashed(t *testing.T) {
	kh := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(kh, []byte("# no newline at the end"), 0o600)
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	key, _ := ssh.NewPublicKey(pub)
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222}
	cb := newHostKeyDB(true).callback(kh, true)
	if err := cb("127.0.0.1:2222", remote, key); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(kh)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "|1|") || strings.Contains(lines[1], "127.0.0.1") {
		t.Fatalf("known_hosts =\n%s\nwant a hashed line of its own", data)
	}
	check, err := knownhosts.New(kh)
	if err != nil {
		t.Fatal(err)
	}
	if err := check("127.0.0.1:2222", remote, key); err != nil {
		t.Errorf("the recorded line does not match: %v", err)
	}
	// A fresh scan without accept-new trusts it, and refuses another key.
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	otherKey, _ := ssh.NewPublicKey(other)
	strict := newHostKeyDB(false).callback(kh, false)
	if err := strict("127.0.0.1:2222", remote, key); err != nil {
		t.Errorf("recorded key refused: %v", err)
	}
	var hk *HostKeyError
	if err := strict("127.0.0.1:2222", remote, otherKey); !errors.As(err, &hk) || hk.Unknown {
		t.Errorf("changed key: %v, want a mismatch", err)
	}
}

func TestTransientDialError(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, true},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNRESET)}, true},
		{&net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}, false},
		{&net.DNSError{Err: "timeout", Name: "x", IsTimeout: true}, true},
		{errors.New("ssh: handshake failed"), false},
		{context.Canceled, false},
	}
	for _, tt := range tests {
		if got := transport.TransientDialError(tt.err); got != tt.want {
			t.Errorf("transport.TransientDialError(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestDialRetries retries a refused connection and gets through once the
// host listens.
func TestDialRetries(t *testing.T) {
	addr := testutil.ClosedPort(t)
	rt, err := newRuntime(transport.Config{NoSSHConfig: true, Env: noEnv, Retries: 3, RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var l net.Listener
	var retried []string
	rt.opts.OnRetry = func(attempt int, err error) {
		retried = append(retried, err.Error())
		if attempt == 1 {
			if l, err = net.Listen("tcp", addr); err != nil {
				t.Skipf("the port was taken meanwhile: %v", err)
			}
		}
	}
	c, err := rt.dialTCP(context.Background(), addr)
	if err != nil {
		t.Fatalf("dial after retry: %v (retries %q)", err, retried)
	}
	c.Close()
	l.Close()
	if len(retried) != 1 || !strings.Contains(retried[0], "connection refused") {
		t.Errorf("retries = %q, want one after a refusal", retried)
	}

	// Retries run out: the last error is reported.
	rt.opts.OnRetry = nil
	if _, err := rt.dialTCP(context.Background(), testutil.ClosedPort(t)); err == nil || !strings.HasSuffix(err.Error(), ": connection refused") {
		t.Errorf("error = %v, want connection refused", err)
	}
}

// TestAcceptNewAcrossProcesses: a key another factorgate process recorded
// after this scan read known_hosts is found under the lock, not appended
// twice; a different key recorded meanwhile refuses the host.
func TestAcceptNewAcrossProcesses(t *testing.T) {
	kh := filepath.Join(t.TempDir(), "known_hosts")
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	key, _ := ssh.NewPublicKey(pub)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	otherKey, _ := ssh.NewPublicKey(other)
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222}

	db := newHostKeyDB(true)
	db.file(kh) // this scan has read known_hosts (absent): nothing known
	// Another process records the host now.
	os.WriteFile(kh, []byte(knownhosts.Line([]string{"127.0.0.1:2222"}, key)+"\n"), 0o600)
	if err := db.callback(kh, false)("127.0.0.1:2222", remote, key); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(kh); strings.Count(string(data), "\n") != 1 {
		t.Errorf("known_hosts holds the host twice:\n%s", data)
	}
	db2 := newHostKeyDB(true)
	db2.file(kh + "2")
	os.WriteFile(kh+"2", []byte(knownhosts.Line([]string{"127.0.0.1:2222"}, otherKey)+"\n"), 0o600)
	var hk *HostKeyError
	if err := db2.callback(kh+"2", false)("127.0.0.1:2222", remote, key); !errors.As(err, &hk) || hk.Unknown {
		t.Errorf("a different key recorded meanwhile: %v, want a mismatch", err)
	}
}

// TestKnownHostsFieldsAsOpenSSH reads fields separated by tabs as well as
// spaces (a tab-separated @revoked line must revoke), lines of any length
// (a long line must not hide the lines after it), and refuses hashed names
// whose salt is not 20 bytes, as OpenSSH does.
func TestKnownHostsFieldsAsOpenSSH(t *testing.T) {
	newKey := func() ssh.PublicKey {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		k, _ := ssh.NewPublicKey(pub)
		return k
	}
	key := newKey()
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
	typ, b64, _ := strings.Cut(line, " ")
	check := func(t *testing.T, content string) error {
		path := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return newHostKeyDB(false).callback(path, false)("web:22", nil, key)
	}
	var hk *HostKeyError
	if err := check(t, "web "+line+"\n@revoked\t*\t"+typ+"\t"+b64+"\n"); !errors.As(err, &hk) || hk.Revoked == nil {
		t.Errorf("tab-separated @revoked: err = %v, want the key revoked", err)
	}
	long := "other " + strings.Repeat("x", 2<<20) + "\n"
	if err := check(t, "web "+line+"\n"+long+"@revoked * "+line+"\n"); !errors.As(err, &hk) || hk.Revoked == nil {
		t.Errorf("@revoked after a 2 MiB line: err = %v, want the key revoked", err)
	}
	if err := check(t, "web\t"+typ+"\t"+b64+"\n"); err != nil {
		t.Errorf("tab-separated key line: %v", err)
	}
	shortSalt := "|1|" + base64.StdEncoding.EncodeToString([]byte("salt")) + "|" + base64.StdEncoding.EncodeToString(make([]byte, 20))
	if err := check(t, shortSalt+" "+line+"\n"); !errors.As(err, &hk) || !hk.Unknown {
		t.Errorf("a hashed name with a 4-byte salt: err = %v, want it skipped (host unknown)", err)
	}
}

// TestKnownHostsLowerCase looks host names up and records them in lower
// case, as OpenSSH does: an address written LOCALHOST meets the key pinned
// for localhost, so a different key is refused even under accept-new.
func TestKnownHostsLowerCase(t *testing.T) {
	newKey := func() ssh.PublicKey {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		k, _ := ssh.NewPublicKey(pub)
		return k
	}
	pinned, other := newKey(), newKey()
	path := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(path, []byte(knownhosts.Line([]string{"[localhost]:2222"}, pinned)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := newHostKeyDB(true)
	cb := db.callback(path, false)
	var hk *HostKeyError
	if err := cb("LOCALHOST:2222", nil, other); !errors.As(err, &hk) || hk.Unknown {
		t.Errorf("another key for LOCALHOST under accept-new: err = %v, want a mismatch with the key pinned for localhost", err)
	}
	if err := cb("LocalHost:2222", nil, pinned); err != nil {
		t.Errorf("the pinned key for LocalHost: %v", err)
	}
	if err := cb("NEW-Host:2222", nil, other); err != nil {
		t.Fatalf("a first-seen host under accept-new: %v", err)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "[new-host]:2222 ") || strings.Contains(string(data), "NEW-Host") {
		t.Errorf("recorded:\n%s\nwant the new host in lower case", data)
	}
}

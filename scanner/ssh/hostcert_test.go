package ssh

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/factorgate/factorgate/internal/sshdtest"
	"github.com/factorgate/factorgate/internal/testutil"
	"github.com/factorgate/factorgate/scanner/inventory"
	"github.com/factorgate/factorgate/scanner/transport"
)

func keygen(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(testutil.Tool(t, "ssh-keygen", "apt-get install openssh-client"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func readPub(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// certServer starts Debian's sshd serving, besides its own ed25519 key, an
// ECDSA host key with a certificate signed by caKey for principals and
// validity.
func certServer(t *testing.T, dir, name, caKey, principals, validity string) (*sshdtest.Server, string) {
	t.Helper()
	key := filepath.Join(dir, name)
	keygen(t, "-q", "-t", "ecdsa", "-N", "", "-f", key)
	keygen(t, "-q", "-s", caKey, "-h", "-I", name, "-n", principals, "-V", validity, key+".pub")
	srv := sshdtest.Start(t, sshdtest.Config{Extra: []string{"HostKey " + key, "HostCertificate " + key + "-cert.pub"}})
	return srv, key + ".pub"
}

// TestHostCertificatesAsOpenSSH checks host certificates, @cert-authority,
// @revoked and host name case against the real ssh client on the same
// known_hosts files: for every case factorgate accepts exactly the hosts
// ssh accepts.
func TestHostCertificatesAsOpenSSH(t *testing.T) {
	sshdtest.Require(t)
	sshBin := testutil.Tool(t, "ssh", "apt-get install openssh-client")
	dir := t.TempDir()
	ca, otherCA := filepath.Join(dir, "ca"), filepath.Join(dir, "other_ca")
	keygen(t, "-q", "-t", "ed25519", "-N", "", "-f", ca)
	keygen(t, "-q", "-t", "ed25519", "-N", "", "-f", otherCA)

	good, goodHostKey := certServer(t, dir, "good", ca, "127.0.0.1,localhost", "-5m:+1h")
	expired, _ := certServer(t, dir, "expired", ca, "127.0.0.1,localhost", "20200101:20200102")
	elsewhere, _ := certServer(t, dir, "elsewhere", ca, "db.example.com", "-5m:+1h")
	caLine := "@cert-authority 127.0.0.1,localhost " + readPub(t, ca+".pub")
	port := func(s *sshdtest.Server) string { return strconv.Itoa(s.Port) }

	cases := []struct {
		name      string
		srv       *sshdtest.Server
		host      string
		known     []string
		acceptNew bool
		want      bool // what ssh does; the test checks it too
	}{
		{"CA covers the host, non-standard port", good, "127.0.0.1", []string{caLine}, false, true},
		{"CA, host name in capitals", good, "LOCALHOST", []string{caLine}, false, true},
		{"CA by wildcard", good, "127.0.0.1", []string{"@cert-authority 127.0.0.* " + readPub(t, ca+".pub")}, false, true},
		{"CA negated for the host", good, "127.0.0.1", []string{"@cert-authority 127.0.0.*,!127.0.0.1 " + readPub(t, ca+".pub")}, false, false},
		{"CA for other hosts", good, "127.0.0.1", []string{"@cert-authority *.example.com " + readPub(t, ca+".pub")}, false, false},
		{"CA for another port", good, "127.0.0.1", []string{"@cert-authority [127.0.0.1]:9 " + readPub(t, ca+".pub")}, false, false},
		{"CA for this port", good, "127.0.0.1", []string{"@cert-authority [127.0.0.1]:" + port(good) + " " + readPub(t, ca+".pub")}, false, true},
		{"another CA", good, "127.0.0.1", []string{"@cert-authority 127.0.0.1 " + readPub(t, otherCA+".pub")}, false, false},
		{"certificate expired", expired, "127.0.0.1", []string{caLine}, false, false},
		{"principal is another host", elsewhere, "127.0.0.1", []string{caLine}, false, false},
		{"CA revoked", good, "127.0.0.1", []string{caLine, "@revoked * " + readPub(t, ca+".pub")}, false, false},
		{"host key revoked", good, "127.0.0.1", []string{caLine, "@revoked * " + readPub(t, goodHostKey)}, false, false},
		{"plain key without the port", good, "127.0.0.1", []string{"127.0.0.1 " + readPub(t, goodHostKey)}, false, true},
		{"plain key pinned in lower case, other key, accept-new", good, "LOCALHOST",
			[]string{"[localhost]:" + port(good) + " " + readPub(t, filepath.Join(dir, "expired.pub"))}, true, false},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			kh := filepath.Join(t.TempDir(), "known_hosts")
			if err := os.WriteFile(kh, []byte(strings.Join(tt.known, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			strict := "yes"
			if tt.acceptNew {
				strict = "accept-new"
			}
			cmd := exec.Command(sshBin, "-F", "/dev/null", "-o", "UserKnownHostsFile="+kh, "-o", "GlobalKnownHostsFile=/dev/null",
				"-o", "StrictHostKeyChecking="+strict, "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10",
				"-i", tt.srv.KeyFile, "-p", port(tt.srv), tt.srv.User+"@"+tt.host, "true")
			out, err := cmd.CombinedOutput()
			sshAccepts := err == nil
			if sshAccepts != tt.want {
				t.Fatalf("ssh accepts = %v, the case expects %v: %s", sshAccepts, tt.want, out)
			}
			// A fresh copy: ssh under accept-new may have written to it.
			if err := os.WriteFile(kh, []byte(strings.Join(tt.known, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			h := inventory.Host{Name: "c", Address: tt.host, Port: tt.srv.Port,
				SSH: inventory.SSHConfig{User: tt.srv.User, IdentityFile: tt.srv.KeyFile, KnownHosts: kh}}
			rt, err := newRuntime(transport.Config{NoSSHConfig: true, AcceptNew: tt.acceptNew, Env: noEnv})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			s, err := rt.dialSSH(ctx, h)
			if s != nil {
				s.Close()
			}
			if got := err == nil; got != sshAccepts {
				t.Errorf("factorgate accepts = %v (err %v), ssh accepts = %v (%s)", got, err, sshAccepts, strings.TrimSpace(string(out)))
			}
		})
	}
}

// BenchmarkKnownHostsLookup checks the host keys of 50 hosts against a
// known_hosts of 10,000 hashed entries, as one scan does (the key
// algorithms to ask for, then the key offered), and compares it in the same
// run with x/crypto/ssh/knownhosts, which computes one HMAC per entry for
// every check. It reports the time per host of each and their ratio.
func BenchmarkKnownHostsLookup(b *testing.B) {
	path := filepath.Join(b.TempDir(), "known_hosts")
	var lines, hosts []string
	var keys []ssh.PublicKey
	for i := range 10000 {
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		signer, _ := ssh.NewSignerFromKey(priv)
		name := "10.1." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250)
		line := knownhosts.Line([]string{name}, signer.PublicKey())
		lines = append(lines, knownhosts.HashHostname(name)+line[strings.IndexByte(line, ' '):])
		if i%200 == 0 {
			hosts, keys = append(hosts, name+":22"), append(keys, signer.PublicKey())
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	var ours, theirs time.Duration
	for b.Loop() {
		start := time.Now()
		db := newHostKeyDB(false) // one scan: the file is read once
		cb := db.callback(path, false)
		for i, h := range hosts {
			db.algorithms(path, h)
			if err := cb(h, nil, keys[i]); err != nil {
				b.Fatal(err)
			}
		}
		ours += time.Since(start)
		start = time.Now()
		check, err := knownhosts.New(path)
		if err != nil {
			b.Fatal(err)
		}
		for i, h := range hosts {
			check(h, dummyAddr, keys[i]) // the old algorithms probe
			if err := check(h, dummyAddr, keys[i]); err != nil {
				b.Fatal(err)
			}
		}
		theirs += time.Since(start)
	}
	perHost := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N*len(hosts)) }
	b.ReportMetric(perHost(ours), "µs/host")
	b.ReportMetric(perHost(theirs), "xcrypto-µs/host")
	b.ReportMetric(float64(theirs)/float64(ours), "speedup")
}

var dummyAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}

package fleetsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/fleetsim"
	"github.com/factorgate/factorgate/internal/testutil"
	"github.com/factorgate/factorgate/scanner/probe"
)

// startAll starts one host per profile.
func startAll(t *testing.T, cfg fleetsim.Config) *fleetsim.Fleet {
	t.Helper()
	for _, p := range fleetsim.Profiles() {
		cfg.Hosts = append(cfg.Hosts, fleetsim.HostSpec{Name: "h-" + p.Name, Profile: p.Name})
	}
	cfg.Dir = t.TempDir()
	f, err := fleetsim.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// dial logs in to h with the fleet's key, checking its host key against
// the fleet's known_hosts, within timeout.
func dial(t *testing.T, f *fleetsim.Fleet, h fleetsim.Host, timeout time.Duration, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	t.Helper()
	hostKeys, err := knownhosts.New(f.KnownHostsPath())
	if err != nil {
		t.Fatal(err)
	}
	if auth == nil {
		auth = []ssh.AuthMethod{ssh.PublicKeys(f.ClientSigner())}
	}
	c, err := net.DialTimeout("tcp", h.Addr(), timeout)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(timeout))
	conn, chans, reqs, err := ssh.NewClientConn(c, h.Addr(), &ssh.ClientConfig{User: f.User(), Auth: auth, HostKeyCallback: hostKeys})
	if err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	return ssh.NewClient(conn, chans, reqs), nil
}

// run runs cmd on a new session and returns stdout, stderr and the exit
// status, giving up after timeout.
func run(t *testing.T, c *ssh.Client, cmd string, timeout time.Duration) ([]byte, []byte, int, error) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var stdout, stderr bytes.Buffer
	s.Stdout, s.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	go func() { done <- s.Run(cmd) }()
	select {
	case err := <-done:
		var exit *ssh.ExitError
		if errors.As(err, &exit) {
			return stdout.Bytes(), stderr.Bytes(), exit.ExitStatus(), nil
		}
		return stdout.Bytes(), stderr.Bytes(), 0, err
	case <-time.After(timeout):
		c.Close()
		<-done // the copies into the buffers end with the session
		return stdout.Bytes(), stderr.Bytes(), -1, errors.New("timed out")
	}
}

// TestProfilesThroughSSH logs in to one host of every Linux profile with a
// real x/crypto/ssh client, runs probe.Linux, parses the output
// with probe.ParseLinux and compares the facts with the profile's
// golden file (testdata/facts/<profile>.json; -update rewrites).
func TestProfilesThroughSSH(t *testing.T) {
	f := startAll(t, fleetsim.Config{})
	for _, h := range f.Hosts() {
		p, _ := fleetsim.Lookup(h.Profile)
		if p.OS != "linux" {
			continue
		}
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			c, err := dial(t, f, h, 2*time.Second)
			switch p.Mode {
			case fleetsim.RefuseAuth:
				if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
					t.Fatalf("login to a refusing host: %v", err)
				}
				return
			case fleetsim.Silent:
				if err == nil {
					t.Fatal("a silent host completed a handshake")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := string(c.ServerVersion()); got != p.Banner {
				t.Errorf("banner %q, want %q", got, p.Banner)
			}
			timeout := 5 * time.Second
			if p.Mode == fleetsim.Stall {
				timeout = 300 * time.Millisecond
			}
			stdout, _, exit, err := run(t, c, probe.Linux, timeout)
			if p.Mode == fleetsim.Stall {
				if err == nil || len(stdout) == 0 {
					t.Fatalf("stalling host: err %v after %d bytes", err, len(stdout))
				}
				var facts contract.Facts
				if err := probe.ParseLinux(stdout, p.Banner, &facts); !errors.Is(err, probe.ErrLinuxTruncated) {
					t.Errorf("half an output parsed with %v, want ErrLinuxProbeTruncated", err)
				}
				return
			}
			if err != nil || exit != 0 {
				t.Fatalf("probe: exit %d, %v", exit, err)
			}
			facts := contract.Facts{Schema: contract.FactsSchema}
			err = probe.ParseLinux(stdout, string(c.ServerVersion()), &facts)
			if (err == nil) != p.Expect.Facts {
				t.Fatalf("ParseLinuxProbe: %v; profile expects facts: %v", err, p.Expect.Facts)
			}
			if err != nil {
				return
			}
			got, _ := json.MarshalIndent(struct {
				OS      *contract.OS      `json:"os"`
				OpenSSH *contract.OpenSSH `json:"openssh"`
				SSHD    *contract.SSHD    `json:"sshd"`
				SELinux *contract.SELinux `json:"selinux"`
				HSS     *contract.HSS     `json:"hss"`
			}{facts.OS, facts.OpenSSH, facts.SSHD, facts.SELinux, facts.HSS}, "", "  ")
			got = append(got, '\n')
			testutil.Golden(t, filepath.Join("testdata", "facts", p.Name+".json"), got)
		})
	}
}

// TestOnlyTheProbeIsAnswered checks that any other command is "not found".
func TestOnlyTheProbeIsAnswered(t *testing.T) {
	f, err := fleetsim.Start(context.Background(), fleetsim.Config{Hosts: []fleetsim.HostSpec{{Name: "a", Profile: fleetsim.CentOS7}}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := dial(t, f, f.Hosts()[0], 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, cmd := range []string{"id", probe.Linux + " ", "rm -rf /"} {
		stdout, stderr, exit, err := run(t, c, cmd, 2*time.Second)
		if err != nil || exit != 127 || len(stdout) != 0 || !strings.Contains(string(stderr), "not found") {
			t.Errorf("%.20q: exit %d, stdout %q, stderr %q, %v", cmd, exit, stdout, stderr, err)
		}
	}
}

// TestCredentials checks the other ways in and that wrong ones are refused.
func TestCredentials(t *testing.T) {
	_, extra, _ := ed25519Key(t)
	f, err := fleetsim.Start(context.Background(), fleetsim.Config{
		Hosts:    []fleetsim.HostSpec{{Name: "a", Profile: fleetsim.Debian10}},
		Password: "s3cret", AuthorizedKey: extra.PublicKey(), User: "ops",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, stranger, _ := ed25519Key(t)
	tests := []struct {
		name string
		auth ssh.AuthMethod
		ok   bool
	}{
		{"fleet key", ssh.PublicKeys(f.ClientSigner()), true},
		{"given key", ssh.PublicKeys(extra), true},
		{"password", ssh.Password("s3cret"), true},
		{"wrong password", ssh.Password("guess"), false},
		{"unknown key", ssh.PublicKeys(stranger), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := dial(t, f, f.Hosts()[0], 2*time.Second, tt.auth)
			if (err == nil) != tt.ok {
				t.Fatalf("login: %v, want ok=%v", err, tt.ok)
			}
			if c != nil {
				c.Close()
			}
		})
	}
}

// TestCapturesMatchScanner keeps the embedded captures identical to the
// scanner's captured outputs they are copied from.
func TestCapturesMatchScanner(t *testing.T) {
	copies, err := filepath.Glob(filepath.Join("captures", "*.stdout"))
	if err != nil || len(copies) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	for _, c := range copies {
		system := strings.TrimSuffix(filepath.Base(c), ".stdout")
		a, _ := os.ReadFile(c)
		b, err := os.ReadFile(filepath.Join("..", "..", "scanner", "probe", "testdata", "linux", system, "probe.stdout"))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs from scanner/probe/testdata/linux/%s/probe.stdout (copy it again): %v", c, system, err)
		}
	}
}

func TestMixed(t *testing.T) {
	specs := fleetsim.Mixed(50)
	if len(specs) != 50 {
		t.Fatalf("%d hosts", len(specs))
	}
	seen := map[string]bool{}
	for _, s := range specs {
		p, ok := fleetsim.Lookup(s.Profile)
		if !ok || p.Mode == fleetsim.Silent || p.Mode == fleetsim.Stall {
			t.Errorf("host %s has profile %q", s.Name, s.Profile)
		}
		if seen[s.Name] {
			t.Errorf("name %s repeated", s.Name)
		}
		seen[s.Name] = true
	}
	if _, err := fleetsim.Start(context.Background(), fleetsim.Config{Hosts: []fleetsim.HostSpec{{Name: "x", Profile: "nope"}}}); err == nil {
		t.Error("unknown profile accepted")
	}
}

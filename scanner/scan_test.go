package scanner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/testutil"
	"github.com/factorgate/factorgate/scanner/inventory"
	"github.com/factorgate/factorgate/scanner/probe"
)

func hostAt(name, addr, key, knownHosts string) inventory.Host {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	return inventory.Host{Name: name, Address: host, Port: p, Transport: inventory.TransportSSH,
		SSH: inventory.SSHConfig{User: "ops", IdentityFile: key, KnownHosts: knownHosts}}
}

type countingProgress struct {
	started, done, failed, finished int
}

func (p *countingProgress) Start(n int) { p.started = n }
func (p *countingProgress) Done(_ string, ok bool) {
	p.done++
	if !ok {
		p.failed++
	}
}
func (p *countingProgress) Finish() { p.finished++ }

// TestScanFleetSurvivesBadHosts scans a fleet where one host never speaks
// SSH, one stalls in the middle of the probe, one refuses connections and
// one has a changed host key, next to a good host answering with a probe
// output captured on Debian 12 and one answering nonsense: each bad host
// ends at its own deadline with a clear error, and the others are scanned.
// (Debian's real sshd runs the real probe in TestScanRealSSHD, with
// deadlines a busy machine cannot miss.)
func TestScanFleetSurvivesBadHosts(t *testing.T) {
	captured, capErr := os.ReadFile("probe/testdata/linux/debian12/probe.stdout")
	good := testutil.StartSSHServer(t, func(string) ([]byte, uint32) { return captured, 0 })
	echo := testutil.StartSSHServer(t, func(string) ([]byte, uint32) { return []byte("not a probe output\n"), 0 })
	stall := testutil.StartSSHServer(t, nil)
	liar := testutil.StartSSHServer(t, nil)
	key := testutil.ClientKeyFile(t)
	kh := testutil.KnownHostsFile(t, echo, stall, good)
	// liar's address with echo's key: a changed host key.
	khLiar := testutil.KnownHostsFile(t, &testutil.SSHServer{Addr: liar.Addr, HostKey: echo.HostKey})

	hosts := []inventory.Host{
		hostAt("good", good.Addr, key, kh),
		hostAt("silent", testutil.SilentListener(t), key, kh),
		hostAt("stall", stall.Addr, key, kh),
		hostAt("refused", testutil.ClosedPort(t), key, kh),
		hostAt("liar", liar.Addr, key, khLiar),
		hostAt("echo", echo.Addr, key, kh),
	}
	prog := &countingProgress{}
	opts := Options{
		Concurrency: 3, NoSSHConfig: true, Env: noEnv, Progress: prog,
		Timeouts: Timeouts{Dial: 2 * time.Second, Handshake: time.Second, Probe: time.Second, Host: 20 * time.Second},
		Retries:  2, RetryBackoff: 5 * time.Millisecond,
	}
	var inEmit atomic.Int32
	got := map[string]*contract.Facts{}
	err := Scan(context.Background(), hosts, opts, func(f *contract.Facts) {
		if inEmit.Add(1) != 1 {
			t.Error("emit called concurrently")
		}
		got[f.Host.Name] = f
		time.Sleep(time.Millisecond)
		inEmit.Add(-1)
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host      string
		reachable bool
		err       string // prefix; "" means no error
	}{
		{"silent", false, "ssh handshake with " + hosts[1].Address + ":" + strconv.Itoa(hosts[1].Port) + ": no answer within 1s (is an SSH server listening there?)"},
		{"stall", false, "probe: no answer within 1s"},
		{"refused", false, "dial " + hosts[3].Address + ":" + strconv.Itoa(hosts[3].Port) + ": connection refused"},
		{"liar", false, "host key mismatch: [127.0.0.1]:" + strconv.Itoa(hosts[4].Port) + " offered ssh-ed25519 SHA256:"},
		{"echo", true, "probe output was not factorgate's: no @@factorgate:linux-probe v1@@ header in 1 lines; it starts \"not a probe output\""},
		{"good", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			f := got[tt.host]
			if f == nil {
				t.Fatal("no facts emitted")
			}
			if f.Reachable != tt.reachable {
				t.Errorf("reachable = %v, want %v (error %v)", f.Reachable, tt.reachable, deref(f.Error))
			}
			switch {
			case tt.err == "" && f.Error != nil && capErr == nil:
				t.Errorf("error = %q, want none", *f.Error)
			case tt.err != "" && (f.Error == nil || !strings.HasPrefix(*f.Error, tt.err)):
				t.Errorf("error = %q, want prefix %q", deref(f.Error), tt.err)
			}
			if !f.Reachable && (f.OS != nil || f.OpenSSH != nil || f.SSHD != nil || f.SELinux != nil || f.HSS != nil) {
				t.Errorf("an unreachable host carries facts: %+v", f)
			}
			if f.Schema != contract.FactsSchema || f.CollectedAt.IsZero() {
				t.Errorf("schema %q collected_at %v", f.Schema, f.CollectedAt)
			}
		})
	}
	if prog.started != 6 || prog.done != 6 || prog.failed != 4 || prog.finished != 1 {
		t.Errorf("progress = %+v, want 6 started and done, 4 failed, finished once", *prog)
	}
}

// TestScanHostDeadline bounds a whole host, whatever step it is stuck in.
func TestScanHostDeadline(t *testing.T) {
	stall := testutil.StartSSHServer(t, nil)
	h := hostAt("stall", stall.Addr, testutil.ClientKeyFile(t), testutil.KnownHostsFile(t, stall))
	var f *contract.Facts
	err := Scan(context.Background(), []inventory.Host{h}, Options{NoSSHConfig: true, Env: noEnv,
		Timeouts: Timeouts{Probe: time.Minute, Host: 300 * time.Millisecond}}, func(x *contract.Facts) { f = x })
	if err != nil {
		t.Fatal(err)
	}
	if f == nil || f.Reachable || !strings.Contains(deref(f.Error), "the host's deadline of 300ms passed") {
		t.Fatalf("facts = %+v, error %q: want the host deadline", f, deref(f.Error))
	}
}

// TestScanCancel ends a scan stuck on a stalled host as soon as its
// context is cancelled, without emitting facts for the host cut short.
func TestScanCancel(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	stall := testutil.StartSSHServer(t, func(string) ([]byte, uint32) {
		once.Do(func() { close(started) })
		<-release // never answers while the scan runs
		return nil, 0
	})
	t.Cleanup(func() { close(release) })
	hosts := []inventory.Host{hostAt("stall", stall.Addr, testutil.ClientKeyFile(t), testutil.KnownHostsFile(t, stall))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	emitted := 0
	go func() {
		done <- Scan(ctx, hosts, Options{NoSSHConfig: true, Env: noEnv, Timeouts: Timeouts{Probe: time.Hour, Host: time.Hour}},
			func(*contract.Facts) { emitted++ })
	}()
	<-started
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Scan = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Scan did not end after its context was cancelled")
	}
	if emitted != 0 {
		t.Errorf("emitted %d facts for a host cut short", emitted)
	}
}

// TestScanWindowsOverSSH runs the Windows probe, not the Linux one, on a
// host marked os: windows.
func TestScanWindowsOverSSH(t *testing.T) {
	var got string
	var mu sync.Mutex
	srv := testutil.StartSSHServer(t, func(cmd string) ([]byte, uint32) {
		mu.Lock()
		got = cmd
		mu.Unlock()
		return []byte("{}"), 0
	})
	h := hostAt("win", srv.Addr, testutil.ClientKeyFile(t), testutil.KnownHostsFile(t, srv))
	h.OS = "windows"
	var f *contract.Facts
	if err := Scan(context.Background(), []inventory.Host{h}, Options{NoSSHConfig: true, Env: noEnv}, func(x *contract.Facts) { f = x }); err != nil {
		t.Fatal(err)
	}
	if f == nil || f.OpenSSH == nil || deref(f.OpenSSH.Banner) != "SSH-2.0-OpenSSH_7.4" || !f.OpenSSH.Windows {
		t.Errorf("openssh = %+v, want the banner recorded as OpenSSH for Windows", f.OpenSSH)
	}
	mu.Lock()
	defer mu.Unlock()
	if got != probe.WindowsCommand {
		t.Errorf("ran %.40q, want probe.WindowsCommand", got)
	}
}

type fakeCloud struct{ calls atomic.Int32 }

func (c *fakeCloud) Fill(_ context.Context, h inventory.Host, f *contract.Facts) error {
	c.calls.Add(1)
	return errors.New("hss: 403 forbidden")
}

// TestScanCloudFillErrors records a cloud failure next to the host's own.
func TestScanCloudFillErrors(t *testing.T) {
	cloud := &fakeCloud{}
	h := hostAt("gone", testutil.ClosedPort(t), testutil.ClientKeyFile(t), "/nonexistent")
	var f *contract.Facts
	Scan(context.Background(), []inventory.Host{h}, Options{NoSSHConfig: true, Env: noEnv, Cloud: cloud}, func(x *contract.Facts) { f = x })
	if cloud.calls.Load() != 1 {
		t.Errorf("Fill called %d times, want 1", cloud.calls.Load())
	}
	if f == nil || !strings.HasSuffix(deref(f.Error), "; cloud: hss: 403 forbidden") {
		t.Errorf("error = %q", deref(f.Error))
	}
}

// TestScanSudo runs probe.Linux by default and probe.LinuxNoSudo on a host
// whose inventory says sudo: false.
func TestScanSudo(t *testing.T) {
	tests := []struct {
		name   string
		noSudo bool
		want   string
	}{
		{"default", false, probe.Linux},
		{"sudo: false", true, probe.LinuxNoSudo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			var mu sync.Mutex
			srv := testutil.StartSSHServer(t, func(cmd string) ([]byte, uint32) {
				mu.Lock()
				got = cmd
				mu.Unlock()
				return []byte("nothing\n"), 0
			})
			h := hostAt("h", srv.Addr, testutil.ClientKeyFile(t), testutil.KnownHostsFile(t, srv))
			h.SSH.NoSudo = tt.noSudo
			if err := Scan(context.Background(), []inventory.Host{h}, Options{NoSSHConfig: true, Env: noEnv}, func(*contract.Facts) {}); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if got != tt.want {
				t.Errorf("ran a probe of %d bytes, want the one of %d (sudo attempt: %v)", len(got), len(tt.want), !tt.noSudo)
			}
		})
	}
}

// TestScanSilentHostsHoldNoProbeSlot scans, with one probe slot, four hosts
// that accept TCP and never speak SSH, listed before one good host, with a
// handshake timeout far longer than the test. The good host must come out
// while the silent ones are still waiting: waiting for a silent host holds
// no probe slot. The scan is then cancelled, which ends the waits.
func TestScanSilentHostsHoldNoProbeSlot(t *testing.T) {
	captured, err := os.ReadFile("probe/testdata/linux/debian12/probe.stdout")
	if err != nil {
		t.Fatal(err)
	}
	good := testutil.StartSSHServer(t, func(string) ([]byte, uint32) { return captured, 0 })
	key := testutil.ClientKeyFile(t)
	kh := testutil.KnownHostsFile(t, good)
	var hosts []inventory.Host
	for i := range 4 {
		hosts = append(hosts, hostAt(fmt.Sprintf("silent-%d", i), testutil.SilentListener(t), key, kh))
	}
	hosts = append(hosts, hostAt("good", good.Addr, key, kh))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := Options{
		Concurrency: 1, NoSSHConfig: true, Env: noEnv,
		Timeouts: Timeouts{Dial: 5 * time.Second, Handshake: 10 * time.Minute, Probe: 30 * time.Second, Host: 20 * time.Minute},
	}
	var order []string
	err = Scan(ctx, hosts, opts, func(f *contract.Facts) {
		order = append(order, f.Host.Name)
		if f.Host.Name == "good" {
			if !f.Reachable || f.Error != nil {
				t.Errorf("good host: reachable %v, error %v", f.Reachable, deref(f.Error))
			}
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Scan = %v, want it cancelled once the good host was done", err)
	}
	if len(order) != 1 || order[0] != "good" {
		t.Errorf("emitted %v, want only the good host, ahead of the silent ones", order)
	}
}

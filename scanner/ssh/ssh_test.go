package ssh

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/factorgate/factorgate/internal/testutil"
	"github.com/factorgate/factorgate/scanner/inventory"
	"github.com/factorgate/factorgate/scanner/transport"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/factorgate/factorgate/internal/sshdtest"
)

// noEnv is an environment with nothing set, so the developer's own
// SSH_AUTH_SOCK never leaks into a test.
func noEnv(string) string { return "" }

func envOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

// sshdHost is an inventory host for s, logging in with s's key.
func sshdHost(s *sshdtest.Server) inventory.Host {
	return inventory.Host{Name: "sshd", Address: s.Host, Port: s.Port, Transport: inventory.TransportSSH,
		SSH: inventory.SSHConfig{User: s.User, IdentityFile: s.KeyFile, KnownHosts: s.KnownHosts}}
}

func dial(t *testing.T, h inventory.Host, opts transport.Config) (*sshSession, error) {
	t.Helper()
	if opts.Env == nil {
		opts.Env = noEnv
	}
	opts.NoSSHConfig = true
	rt, err := newRuntime(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	s, err := rt.dialSSH(ctx, h)
	if s != nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

var openssh9 = regexp.MustCompile(`^SSH-2\.0-OpenSSH_9\.\d`)

func TestRealSSHDPublicKey(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Config{})
	s, err := dial(t, sshdHost(srv), transport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if !openssh9.MatchString(s.Banner()) {
		t.Errorf("banner = %q, want Debian's OpenSSH_9.x", s.Banner())
	}
	if s.Auth() != AuthPublicKey {
		t.Errorf("auth = %q, want publickey", s.Auth())
	}
	out, err := s.Run(context.Background(), "echo hello; echo oops >&2; exit 3")
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Stdout) != "hello\n" || string(out.Stderr) != "oops\n" || out.ExitCode != 3 {
		t.Errorf("Run = %q, %q, exit %d; want hello, oops, exit 3", out.Stdout, out.Stderr, out.ExitCode)
	}
}

func TestRealSSHDHostKeyRefused(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Config{})
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := ssh.NewPublicKey(otherPub)
	dir := t.TempDir()
	changed := filepath.Join(dir, "changed")
	os.WriteFile(changed, []byte(knownhosts.Line([]string{srv.Addr}, other)+"\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("# nothing known\n"), 0o600)

	tests := []struct {
		name       string
		knownHosts string
		acceptNew  bool
		want       string
		unknown    bool
	}{
		{"changed key", changed, false, "host key mismatch: [127.0.0.1]:", false},
		{"changed key with accept-new", changed, true, "host key mismatch: [127.0.0.1]:", false},
		{"unknown key", empty, false, "host key unknown: [127.0.0.1]:", true},
		{"no known_hosts file", filepath.Join(dir, "missing"), false, "does not exist: create it (ssh-keyscan) or scan with --accept-new", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := sshdHost(srv)
			h.SSH.KnownHosts = tt.knownHosts
			_, err := dial(t, h, transport.Config{AcceptNew: tt.acceptNew})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			var hk *HostKeyError
			if strings.HasPrefix(tt.want, "host key") && (!errors.As(err, &hk) || hk.Unknown != tt.unknown) {
				t.Errorf("error %v: want a *HostKeyError with Unknown=%v", err, tt.unknown)
			}
		})
	}
	if data, _ := os.ReadFile(changed); strings.Count(string(data), "\n") != 1 {
		t.Errorf("a refused key was recorded:\n%s", data)
	}
}

func TestRealSSHDAcceptNewRecordsOnce(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Config{})
	kh := filepath.Join(t.TempDir(), "ssh", "known_hosts")
	h := sshdHost(srv)
	h.SSH.KnownHosts = kh
	rt, err := newRuntime(transport.Config{AcceptNew: true, NoSSHConfig: true, Env: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := rt.dialSSH(context.Background(), h)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(kh)
	if err != nil {
		t.Fatal(err)
	}
	if want := srv.KnownHostsLine() + "\n"; string(data) != want {
		t.Errorf("known_hosts =\n%s\nwant exactly\n%s", data, want)
	}
	// The recorded key is now trusted without accept-new.
	if _, err := dial(t, h, transport.Config{}); err != nil {
		t.Errorf("second scan with the recorded key: %v", err)
	}
}

func TestRealSSHDUserKeyRefused(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Config{})
	h := sshdHost(srv)
	h.SSH.IdentityFile = testutil.ClientKeyFile(t) // not in authorized_keys
	_, err := dial(t, h, transport.Config{})
	want := "ssh login to " + srv.User + "@" + srv.Addr + " refused: unable to authenticate"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

func TestRealSSHDPasswordFromEnv(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Config{PasswordAuthentication: true})
	user, password := srv.AddPasswordUser(t)
	h := inventory.Host{Name: "pw", Address: srv.Host, Port: srv.Port,
		SSH: inventory.SSHConfig{User: user, Password: inventory.Secret{Env: "FG_TEST_PASSWORD"}, KnownHosts: srv.KnownHosts}}

	s, err := dial(t, h, transport.Config{Env: envOf(map[string]string{"FG_TEST_PASSWORD": password})})
	if err != nil {
		t.Fatal(err)
	}
	if s.Auth() != AuthPassword {
		t.Errorf("auth = %q, want password", s.Auth())
	}
	out, err := s.Run(context.Background(), "id -un")
	if err != nil || strings.TrimSpace(string(out.Stdout)) != user {
		t.Errorf("id -un = %q, %v; want %s", out.Stdout, err, user)
	}

	wrong := "not-" + password
	_, err = dial(t, h, transport.Config{Env: envOf(map[string]string{"FG_TEST_PASSWORD": wrong})})
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("wrong password: error = %v, want a refused login", err)
	}
	if strings.Contains(err.Error(), wrong) {
		t.Errorf("the error repeats the password: %v", err)
	}

	_, err = dial(t, h, transport.Config{})
	if err == nil || err.Error() != "the variable named by ssh.password_env (the inventory) is unset or empty" {
		t.Errorf("unset variable: error = %v", err)
	}

	// A password file works the same; its trailing newline is not part of it.
	pf := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pf, []byte(password+"\n"), 0o600)
	h.SSH.Password = inventory.Secret{File: pf}
	if s, err := dial(t, h, transport.Config{}); err != nil || s.Auth() != AuthPassword {
		t.Errorf("password_file: %v", err)
	}
}

func TestRealSSHDAgent(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Config{})
	keyring := agent.NewKeyring()
	data, _ := os.ReadFile(srv.KeyFile)
	priv, err := ssh.ParseRawPrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := keyring.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { agent.ServeAgent(keyring, c); c.Close() }()
		}
	}()
	h := sshdHost(srv)
	h.SSH.IdentityFile, h.SSH.Agent = "", true
	s, err := dial(t, h, transport.Config{Env: envOf(map[string]string{"SSH_AUTH_SOCK": sock})})
	if err != nil {
		t.Fatal(err)
	}
	if s.Auth() != AuthAgent {
		t.Errorf("auth = %q, want agent", s.Auth())
	}
	if _, err := dial(t, h, transport.Config{}); err == nil || !strings.Contains(err.Error(), "SSH_AUTH_SOCK is not set") {
		t.Errorf("agent without SSH_AUTH_SOCK: error = %v", err)
	}
}

// TestRealSSHDProxyJump reaches sshd through itself as the jump host, and
// checks that closing the session closes the jump connection too.
func TestRealSSHDProxyJump(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Config{})
	h := sshdHost(srv)
	h.SSH.ProxyJump = srv.User + "@" + srv.Addr
	s, err := dial(t, h, transport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Run(context.Background(), "echo $SSH_CONNECTION")
	if err != nil {
		t.Fatal(err)
	}
	// Through the jump host the connection comes from sshd's own forwarding.
	if !strings.HasPrefix(string(out.Stdout), "127.0.0.1 ") {
		t.Errorf("SSH_CONNECTION = %q", out.Stdout)
	}
	if n := strings.Count(srv.Log(), "Accepted publickey"); n != 2 {
		t.Errorf("sshd accepted %d logins, want 2 (jump host and target)", n)
	}
	s.Close()
	closed := regexp.MustCompile(`(Disconnected from user|Connection closed by|Connection reset by|Read error from remote host) `)
	deadline := time.Now().Add(5 * time.Second)
	for len(closed.FindAllString(srv.Log(), -1)) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(closed.FindAllString(srv.Log(), -1)); n != 2 {
		t.Errorf("after Close sshd saw %d of 2 connections end:\n%s", n, srv.Log())
	}
}

func TestRealSSHDMaxOutput(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Config{})
	s, err := dial(t, sshdHost(srv), transport.Config{MaxOutput: 1000})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Run(context.Background(), "head -c 100000000 /dev/zero")
	if !errors.Is(err, transport.ErrOutputTooLarge) || !strings.Contains(err.Error(), "the host sent more than 1000 bytes") {
		t.Fatalf("error = %v, want transport.ErrOutputTooLarge", err)
	}
}

// TestResolveSSHConfig checks how ~/.ssh/config fills what the inventory
// leaves unset, and that what the inventory sets wins.
func TestResolveSSHConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	os.WriteFile(cfg, []byte(`Host web1
  HostName 10.1.1.1
  Port 2200
  User admin
  IdentityFile ~/.ssh/web_key
  ProxyJump jump@bastion:2222

Host *
  UserKnownHostsFile /etc/fg/known_hosts
  HashKnownHosts yes
`), 0o600)
	rt, err := newRuntime(transport.Config{SSHConfigPath: cfg, Env: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	rt.home, rt.localUser = "/home/me", "me"
	tests := []struct {
		name string
		host inventory.Host
		want sshTarget
	}{
		{"config fills the gaps", inventory.Host{Address: "web1"},
			sshTarget{hostname: "10.1.1.1", port: 2200, user: "admin", identityFiles: []string{"/home/me/.ssh/web_key"},
				knownHosts: "/etc/fg/known_hosts", hashKnown: true, proxyJump: "jump@bastion:2222"}},
		{"inventory wins", inventory.Host{Address: "web1", Port: 22, SSH: inventory.SSHConfig{User: "ops", IdentityFile: "~/k", KnownHosts: "/kh", ProxyJump: "none"}},
			sshTarget{hostname: "10.1.1.1", port: 22, user: "ops", identityFiles: []string{"/home/me/k"}, knownHosts: "/kh", hashKnown: true}},
		{"no match: OpenSSH defaults", inventory.Host{Address: "db1"},
			sshTarget{hostname: "db1", port: 22, user: "me", knownHosts: "/etc/fg/known_hosts", hashKnown: true,
				identityFiles: []string{"/home/me/.ssh/id_ed25519", "/home/me/.ssh/id_ecdsa", "/home/me/.ssh/id_rsa"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rt.resolveSSH(tt.host); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
	off, _ := newRuntime(transport.Config{SSHConfigPath: cfg, NoSSHConfig: true, Env: noEnv})
	if got := off.resolveSSH(inventory.Host{Address: "web1"}); got.hostname != "web1" || got.port != 22 {
		t.Errorf("NoSSHConfig: got %+v, want the config ignored", got)
	}
	if _, err := newRuntime(transport.Config{SSHConfigPath: filepath.Join(dir, "missing")}); err == nil {
		t.Error("a named ssh config that does not exist: no error")
	}
}

// TestRealSSHDThroughConfigAlias reaches sshd by a Host alias of an ssh
// config that gives its HostName and Port.
func TestRealSSHDThroughConfigAlias(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Config{})
	cfg := filepath.Join(t.TempDir(), "config")
	os.WriteFile(cfg, []byte("Host lab-sshd\n  HostName 127.0.0.1\n  Port "+strconv.Itoa(srv.Port)+"\n"), 0o600)
	h := inventory.Host{Name: "lab", Address: "lab-sshd", SSH: inventory.SSHConfig{IdentityFile: srv.KeyFile, KnownHosts: srv.KnownHosts, User: srv.User}}
	rt, err := newRuntime(transport.Config{SSHConfigPath: cfg, Env: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	s, err := rt.dialSSH(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func TestCredentialsErrors(t *testing.T) {
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	locked := filepath.Join(dir, "locked")
	os.WriteFile(locked, pem.EncodeToMemory(block), 0o600)
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(garbage, []byte("not a key"), 0o600)
	empty := filepath.Join(dir, "hunter2-empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	tests := []struct {
		name string
		ssh  inventory.SSHConfig
		want string
	}{
		{"missing key", inventory.SSHConfig{IdentityFile: filepath.Join(dir, "nope")}, "identity file: open " + dir + "/nope: no such file or directory"},
		{"passphrase", inventory.SSHConfig{IdentityFile: locked}, "identity file " + locked + " is protected by a passphrase: load it into ssh-agent (ssh-add) and set agent: true"},
		{"not a key", inventory.SSHConfig{IdentityFile: garbage}, "identity file " + garbage + ": ssh: no key found"},
		{"nothing", inventory.SSHConfig{}, "no credentials: set identity_file, agent: true (with SSH_AUTH_SOCK), password_env or password_file"},
		{"missing password file", inventory.SSHConfig{Password: inventory.Secret{File: dir + "/hunter2"}}, "ssh.password_file (inventory line 7): cannot open: no such file or directory"},
		{"empty password file", inventory.SSHConfig{Password: inventory.Secret{File: empty}}, "the file named by ssh.password_file (inventory line 7) is empty"},
		{"password_env unset", inventory.SSHConfig{Password: inventory.Secret{Env: "Hunter2Secret"}}, "the variable named by ssh.password_env (inventory line 7) is unset or empty"},
	}
	rt, err := newRuntime(transport.Config{NoSSHConfig: true, Env: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	rt.home = dir // no default keys there
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := inventory.Host{Address: "h", Line: 7, SSH: tt.ssh}
			_, err := rt.credentials(h, rt.resolveSSH(h))
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v\nwant %s", err, tt.want)
			}
			if err != nil && strings.Contains(strings.ToLower(err.Error()), "hunter2") {
				t.Errorf("error repeats the inventory value: %v", err)
			}
		})
	}
}

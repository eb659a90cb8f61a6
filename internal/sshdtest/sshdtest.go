// Package sshdtest starts a real OpenSSH server on a free loopback port for
// tests, with its own host key, configuration, authorized_keys and
// known_hosts in the test's temporary directory: Debian's /usr/sbin/sshd by
// default, or another sshd binary by its absolute path ([Config.Binary]),
// such as the upstream OpenSSH 7.9p1 that [Require79] finds.
//
// Use [Start] in a test; it skips the test when sshd is not installed,
// unless FACTORGATE_REQUIRE_SSHD=1 (set by CI), which turns the skip into a
// failure. The server is stopped when the test ends.
package sshdtest

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/factorgate/factorgate/internal/testutil"
)

// Binary is the sshd the tests start.
const Binary = "/usr/sbin/sshd"

// Config is what the started sshd allows.
type Config struct {
	// Binary is the absolute path of the sshd to run (sshd re-executes
	// itself from it); "" runs [Binary].
	Binary string
	// PasswordAuthentication and KbdInteractive turn the password methods on.
	PasswordAuthentication bool
	KbdInteractive         bool
	// Settings are written at the top of sshd_config, before the lines
	// Start writes itself, so they win (sshd takes a keyword's first
	// value): e.g. "UsePAM yes". No Match line here.
	Settings []string
	// Extra lines are appended to sshd_config (Match blocks go here).
	// In Settings and Extra, $DIR stands for the server's folder.
	Extra []string
	// Files are written in the server's folder before it starts, by
	// path relative to it (folders made as needed), e.g. included files.
	Files map[string]string
	// Args are more command-line options of sshd (e.g. "-o", "UsePAM=yes").
	Args []string
}

// Env79 names the environment variable holding the path of a real
// upstream OpenSSH 7.9p1 sshd (built by /work/shared/openssh/build.sh).
const Env79 = "FACTORGATE_SSHD79"

// Require79 returns the path of the OpenSSH 7.9p1 sshd that Env79 names.
// It skips t when Env79 is unset or the file is missing, or fails it when
// FACTORGATE_REQUIRE_TOOLS=1.
func Require79(t testing.TB) string {
	t.Helper()
	p := testutil.ToolFile(t, Env79, "the OpenSSH 7.9p1 sshd the tests run (build it with ../shared/openssh/build.sh DEST)")
	if !filepath.IsAbs(p) {
		t.Fatalf("%s=%s: want an absolute path (sshd re-executes itself from it)", Env79, p)
	}
	return p
}

// Server is one running sshd.
type Server struct {
	Addr string // 127.0.0.1:PORT
	Host string
	Port int
	// User logs in with KeyFile, an unencrypted ed25519 key authorized for it.
	User    string
	KeyFile string
	// KnownHosts is a known_hosts file holding HostKey for Addr.
	KnownHosts string
	HostKey    ssh.PublicKey
	// Dir holds every file of the server; ConfigFile is its sshd_config
	// and Binary the sshd that runs.
	Dir        string
	ConfigFile string
	Binary     string

	cmd *exec.Cmd
	log *syncBuffer
}

// Require skips t when sshd is missing, or fails it when
// FACTORGATE_REQUIRE_SSHD=1.
func Require(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		if os.Getenv("FACTORGATE_REQUIRE_SSHD") == "1" {
			t.Fatalf("FACTORGATE_REQUIRE_SSHD=1 but %s is missing: apt-get install openssh-server", Binary)
		}
		t.Skipf("%s not installed (apt-get install openssh-server)", Binary)
	}
}

// Start runs sshd -D -e -f CONFIG on a free 127.0.0.1 port and waits until
// it listens.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	bin := cfg.Binary
	if bin == "" {
		Require(t)
		bin = Binary
	} else if !filepath.IsAbs(bin) {
		t.Fatalf("sshdtest: Binary %q is not an absolute path", bin)
	}
	dir := t.TempDir()
	s := &Server{Dir: dir, Host: "127.0.0.1", Binary: bin, ConfigFile: filepath.Join(dir, "sshd_config")}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	s.User = u.Username
	if os.Geteuid() == 0 {
		// sshd refuses to start as root without its privilege separation dir.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
	}
	hostPub := writeKey(t, filepath.Join(dir, "host_ed25519"))
	s.HostKey = hostPub
	s.KeyFile = filepath.Join(dir, "id_ed25519")
	userPub := writeKey(t, s.KeyFile)
	writeFile(t, filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(userPub), 0o600)

	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port := freePort(t)
		if err := s.start(t, cfg, port); err != nil {
			lastErr = err
			continue
		}
		s.Port = port
		s.Addr = net.JoinHostPort(s.Host, strconv.Itoa(port))
		s.KnownHosts = filepath.Join(dir, "known_hosts")
		writeFile(t, s.KnownHosts, []byte(knownhosts.Line([]string{s.Addr}, hostPub)+"\n"), 0o600)
		return s
	}
	t.Fatalf("sshd did not start: %v", lastErr)
	return nil
}

var listening = regexp.MustCompile(`Server listening on 127\.0\.0\.1 port (\d+)`)

func (s *Server) start(t testing.TB, cfg Config, port int) error {
	yn := map[bool]string{true: "yes", false: "no"}
	for name, text := range cfg.Files {
		p := filepath.Join(s.Dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, p, []byte(text), 0o644)
	}
	lines := append([]string{}, cfg.Settings...)
	lines = append(lines,
		fmt.Sprintf("ListenAddress 127.0.0.1:%d", port),
		"HostKey "+filepath.Join(s.Dir, "host_ed25519"),
		"PidFile "+filepath.Join(s.Dir, "sshd.pid"),
		"UsePAM no",
		"StrictModes no",
		"AuthorizedKeysFile "+filepath.Join(s.Dir, "authorized_keys"),
		"PubkeyAuthentication yes",
		"PasswordAuthentication "+yn[cfg.PasswordAuthentication],
		"KbdInteractiveAuthentication "+yn[cfg.KbdInteractive],
		"PermitRootLogin prohibit-password",
		"LogLevel VERBOSE",
	)
	lines = append(lines, cfg.Extra...)
	for i, l := range lines {
		lines[i] = strings.ReplaceAll(l, "$DIR", s.Dir)
	}
	conf := s.ConfigFile
	writeFile(t, conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600)

	cmd := exec.Command(s.Binary, append([]string{"-D", "-e", "-f", conf}, cfg.Args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	log := &syncBuffer{}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			log.WriteLine(line)
			if !signalled && listening.MatchString(line) {
				signalled = true
				ready <- nil
			}
		}
		if !signalled {
			ready <- fmt.Errorf("sshd exited: %s", log.String())
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			cmd.Wait()
			return err
		}
	case <-time.After(10 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		return fmt.Errorf("sshd not listening after 10s: %s", log.String())
	}
	s.cmd, s.log = cmd, log
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("sshd log:\n%s", log.String())
		}
	})
	return nil
}

// Log returns what sshd has logged so far.
func (s *Server) Log() string { return s.log.String() }

// AddPasswordUser creates a local user with a random password for the
// test and removes it afterwards. Creating users needs root: elsewhere the
// test is skipped.
func (s *Server) AddPasswordUser(t testing.TB) (name, password string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("password login needs a local user with a password: run as root to create one")
	}
	var b [6]byte
	rand.Read(b[:])
	name = "fgt" + hex.EncodeToString(b[:])[:9]
	rand.Read(b[:])
	password = "pw-" + hex.EncodeToString(b[:])
	if out, err := exec.Command("useradd", "-M", "-s", "/bin/sh", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("userdel", "-f", name).Run() })
	chpw := exec.Command("chpasswd")
	chpw.Stdin = strings.NewReader(name + ":" + password + "\n")
	if out, err := chpw.CombinedOutput(); err != nil {
		t.Fatalf("chpasswd: %v: %s", err, out)
	}
	return name, password
}

// AddUser creates a local user without a password for the test, lets it
// log in to s with KeyFile (sshd reads authorized_keys as the user), and
// removes it afterwards. The server's configuration and host key stay
// readable by root alone, as on a Red Hat host. Creating users needs root:
// elsewhere the test is skipped.
func (s *Server) AddUser(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a second user needs root to create it")
	}
	var b [6]byte
	rand.Read(b[:])
	name := "fgu" + hex.EncodeToString(b[:])[:9]
	if out, err := exec.Command("useradd", "-M", "-d", "/nonexistent", "-s", "/bin/sh", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("userdel", "-f", name).Run() })
	// No password, yet not locked ("!"), which sshd refuses without PAM.
	if out, err := exec.Command("usermod", "-p", "*", name).CombinedOutput(); err != nil {
		t.Fatalf("usermod: %v: %s", err, out)
	}
	// The user must reach authorized_keys; the directories above Dir
	// (t.TempDir's own) are root's 0700.
	for d := s.Dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(s.Dir, "authorized_keys"), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// KnownHostsLine is the known_hosts line for this server's host key.
func (s *Server) KnownHostsLine() string { return knownhosts.Line([]string{s.Addr}, s.HostKey) }

func writeKey(t testing.TB, path string) ssh.PublicKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, pem.EncodeToMemory(block), 0o600)
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path+".pub", ssh.MarshalAuthorizedKey(sp), 0o644)
	return sp
}

func writeFile(t testing.TB, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) WriteLine(line string) {
	s.mu.Lock()
	s.b.WriteString(line + "\n")
	s.mu.Unlock()
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

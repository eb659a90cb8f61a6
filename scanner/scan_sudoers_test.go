package scanner

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/internal/sshdtest"
	"github.com/factorgate/factorgate/internal/testutil"
)

// TestScanWithoutRootNamesSudoersLine scans a real sshd as a user who is
// not root, with a configuration and host key only root can read (as on
// Red Hat): sshd -T cannot run, and the facts name the least-privilege
// sudoers line that lets it. With exactly that line installed, the next
// scan reads the settings through sudo -n.
func TestScanWithoutRootNamesSudoersLine(t *testing.T) {
	testutil.Tool(t, "sudo", "apt-get install sudo")
	visudo := testutil.Tool(t, "visudo", "apt-get install sudo")
	srv := sshdtest.Start(t, sshdtest.Config{PasswordAuthentication: true})
	user := srv.AddUser(t)
	host := sshdHost(srv)
	host.SSH.User = user

	f := scanOne(t, srv, host)
	s := f.SSHD
	if s == nil {
		t.Fatal("no sshd facts")
	}
	if deref(s.Binary) != srv.Binary || deref(s.Config) != srv.ConfigFile || s.Listener != "process" {
		t.Errorf("sshd binary %q config %q listener %q (%s), want %s with %s from the process", deref(s.Binary), deref(s.Config),
			s.Listener, deref(s.ListenerError), srv.Binary, srv.ConfigFile)
	}
	if s.PasswordAuthentication != nil || s.UsePAM != nil {
		t.Errorf("settings read without root: %s", sshdLine(s))
	}
	want := user + " ALL=(root) NOPASSWD: " + srv.Binary + " -T -f " + srv.ConfigFile
	_, line, ok := strings.Cut(s.Source, "sudoers: ")
	if !ok || line != want || !strings.HasPrefix(s.Source, "none; ") {
		t.Fatalf("sshd.source = %q, want none; ... sudoers: %s", s.Source, want)
	}

	// Install exactly that line.
	drop := filepath.Join("/etc/sudoers.d", "factorgate-test-"+user)
	if err := os.WriteFile(drop, []byte(line+"\n"), 0o440); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(drop) })
	if out, err := exec.Command(visudo, "-cf", drop).CombinedOutput(); err != nil {
		t.Fatalf("visudo -cf refuses the line %q: %v: %s", line, err, out)
	}
	f = scanOne(t, srv, host)
	s = f.SSHD
	if s == nil || s.Source != "sshd -T" || s.PasswordAuthentication == nil || !*s.PasswordAuthentication || s.UsePAM == nil || *s.UsePAM {
		t.Fatalf("with the sudoers line: sshd = %+v", s)
	}
}

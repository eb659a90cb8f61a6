package scanner

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/sshdtest"
	"github.com/factorgate/factorgate/scanner/inventory"
	"github.com/factorgate/factorgate/scanner/probe"
	"github.com/factorgate/factorgate/scanner/transport"
)

var openssh9 = regexp.MustCompile(`^SSH-2\.0-OpenSSH_9\.\d`)

// sshdHost is an inventory host for s, logging in with s's key.
func sshdHost(s *sshdtest.Server) inventory.Host {
	return inventory.Host{Name: "sshd", Address: s.Host, Port: s.Port, Transport: inventory.TransportSSH,
		SSH: inventory.SSHConfig{User: s.User, IdentityFile: s.KeyFile, KnownHosts: s.KnownHosts}}
}

// TestScanRealSSHD scans a real sshd through the whole pipeline: inventory
// host in, Facts out, with the Linux probe parsed.
func TestScanRealSSHD(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Config{PasswordAuthentication: true})
	var got []*contract.Facts
	err := Scan(context.Background(), []inventory.Host{sshdHost(srv)}, Options{NoSSHConfig: true, Env: noEnv},
		func(f *contract.Facts) { got = append(got, f) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d facts, want 1", len(got))
	}
	f := got[0]
	if f.Schema != contract.FactsSchema || f.Host.Name != "sshd" || f.Host.Port != srv.Port || f.Host.Auth == nil || *f.Host.Auth != transport.AuthPublicKey {
		t.Errorf("host section = %+v", f.Host)
	}
	if !f.Reachable {
		t.Fatalf("unreachable: %v", deref(f.Error))
	}
	if probe.Linux == "" {
		t.Skip("the Linux probe is not in this build: transport checked only")
	}
	if f.Error != nil {
		t.Errorf("error = %s", *f.Error)
	}
	if f.OS == nil || deref(f.OS.ID) != "debian" {
		t.Errorf("os = %+v, want debian", f.OS)
	}
	if f.OpenSSH == nil || deref(f.OpenSSH.Major) != 9 || !openssh9.MatchString(deref(f.OpenSSH.Banner)) {
		t.Errorf("openssh = %+v, want 9.x from the banner", f.OpenSSH)
	}
	if f.SELinux == nil || f.SELinux.Installed == nil || *f.SELinux.Installed {
		t.Errorf("selinux = %+v, want installed: false", f.SELinux)
	}
	// The settings are those of the sshd that answered: the test's own
	// server with its own configuration, found from the probe's process
	// ancestry, never the machine's /usr/sbin/sshd with /etc/ssh/sshd_config.
	if f.SSHD == nil || deref(f.SSHD.Binary) != srv.Binary || deref(f.SSHD.Config) != srv.ConfigFile || f.SSHD.Listener != "process" {
		t.Fatalf("sshd = %+v, want %s with %s found from the process", f.SSHD, srv.Binary, srv.ConfigFile)
	}
	if os.Geteuid() == 0 {
		out, err := exec.Command(srv.Binary, "-T", "-f", srv.ConfigFile).Output()
		if err != nil {
			t.Fatalf("sshd -T: %v", err)
		}
		want := map[string]bool{}
		for _, line := range strings.Split(string(out), "\n") {
			k, v, _ := strings.Cut(line, " ")
			want[k] = v == "yes"
		}
		if f.SSHD.PasswordAuthentication == nil || f.SSHD.UsePAM == nil || f.SSHD.KbdInteractiveAuthentication == nil || f.SSHD.PermitEmptyPasswords == nil {
			t.Fatalf("sshd = %+v, want every setting read", f.SSHD)
		}
		got := map[string]bool{"passwordauthentication": *f.SSHD.PasswordAuthentication, "usepam": *f.SSHD.UsePAM,
			"kbdinteractiveauthentication": *f.SSHD.KbdInteractiveAuthentication, "permitemptypasswords": *f.SSHD.PermitEmptyPasswords}
		for k, v := range got {
			if want[k] != v {
				t.Errorf("sshd.%s = %v, sshd -T -f %s says %v", k, v, srv.ConfigFile, want[k])
			}
		}
	}
}

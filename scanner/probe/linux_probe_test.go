package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/sshdtest"
	"github.com/factorgate/factorgate/internal/testutil"
)

// probeCaptures lists the systems under testdata/linux.
func probeCaptures(t testing.TB) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("testdata", "linux", "*", "probe.stdout"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no captures under testdata/linux: %v", err)
	}
	var names []string
	for _, d := range dirs {
		names = append(names, filepath.Base(filepath.Dir(d)))
	}
	return names
}

// readCapture returns a system's probe output and banner.
func readCapture(t testing.TB, system string) ([]byte, string) {
	t.Helper()
	dir := filepath.Join("testdata", "linux", system)
	out, err := os.ReadFile(filepath.Join(dir, "probe.stdout"))
	if err != nil {
		t.Fatal(err)
	}
	banner, err := os.ReadFile(filepath.Join(dir, "banner"))
	if err != nil {
		t.Fatal(err)
	}
	return out, strings.TrimSpace(string(banner))
}

// TestParseLinuxProbeGolden parses the captured output of every system into
// the facts of its facts.golden.json (go test -run Golden -update rewrites).
func TestParseLinuxProbeGolden(t *testing.T) {
	for _, system := range probeCaptures(t) {
		t.Run(system, func(t *testing.T) {
			out, banner := readCapture(t, system)
			f := contract.Facts{Schema: contract.FactsSchema}
			if err := ParseLinux(out, banner, &f); err != nil {
				t.Fatalf("ParseLinux: %v", err)
			}
			got, err := json.MarshalIndent(linuxSections(&f), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", "linux", system, "facts.golden.json")
			if testutil.Update() {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("facts of %s differ from %s:\n%s", system, golden, got)
			}
		})
	}
}

// linuxSections is the part of the facts ParseLinux fills.
func linuxSections(f *contract.Facts) any {
	return struct {
		OS      *contract.OS      `json:"os"`
		OpenSSH *contract.OpenSSH `json:"openssh"`
		SSHD    *contract.SSHD    `json:"sshd"`
		SELinux *contract.SELinux `json:"selinux"`
		HSS     *contract.HSS     `json:"hss"`
	}{f.OS, f.OpenSSH, f.SSHD, f.SELinux, f.HSS}
}

// keyFacts is what an auditor reads first about a host, as one string.
func keyFacts(f *contract.Facts) string {
	s := func(p *string) string {
		if p == nil {
			return "null"
		}
		return *p
	}
	b := func(p *bool) string {
		if p == nil {
			return "null"
		}
		if *p {
			return "yes"
		}
		return "no"
	}
	i := func(p *int) string {
		if p == nil {
			return "null"
		}
		return strconv.Itoa(*p)
	}
	var parts []string
	if f.OS != nil {
		parts = append(parts, "os="+s(f.OS.ID)+"/"+s(f.OS.Version))
	}
	if f.OpenSSH != nil {
		parts = append(parts, "openssh="+i(f.OpenSSH.Major)+"."+i(f.OpenSSH.Minor)+"("+f.OpenSSH.Source+")")
	}
	if f.SSHD != nil {
		parts = append(parts, "pw="+b(f.SSHD.PasswordAuthentication), "kbd="+b(f.SSHD.KbdInteractiveAuthentication),
			"pam="+b(f.SSHD.UsePAM), "empty="+b(f.SSHD.PermitEmptyPasswords), "root="+s(f.SSHD.PermitRootLogin), "from="+f.SSHD.Source)
	} else {
		parts = append(parts, "sshd=null")
	}
	if f.SELinux != nil {
		parts = append(parts, "selinux="+b(f.SELinux.Installed)+"/"+s(f.SELinux.Mode)+"/"+s(f.SELinux.ConfigMode))
	}
	if f.HSS != nil {
		parts = append(parts, "agent="+b(f.HSS.AgentInstalled)+"/"+b(f.HSS.AgentRunning))
	}
	return strings.Join(parts, " ")
}

// TestParseLinuxProbeCaptures states, per captured system, the facts the
// policy turns on, so that a golden file rewritten by mistake still fails.
func TestParseLinuxProbeCaptures(t *testing.T) {
	tests := []struct {
		system string
		want   string
	}{
		{"centos7", "os=centos/7.9.2009 openssh=7.4(banner) pw=yes kbd=no pam=yes empty=no root=yes from=sshd -T selinux=yes/disabled/disabled agent=yes/yes"},
		{"rhel8", "os=rhel/8.10 openssh=8.0(banner) pw=yes kbd=no pam=yes empty=no root=yes from=sshd -T selinux=yes/enforcing/enforcing agent=yes/yes"},
		{"ubuntu1804", "os=ubuntu/18.04 openssh=7.6(banner) pw=yes kbd=no pam=yes empty=no root=without-password from=sshd -T selinux=no/disabled/null agent=yes/yes"},
		{"ubuntu2004", "os=ubuntu/20.04 openssh=8.2(banner) pw=yes kbd=no pam=yes empty=no root=prohibit-password from=sshd_config selinux=no/disabled/null agent=yes/yes"},
		{"debian10", "os=debian/10.13 openssh=7.9(banner) pw=yes kbd=no pam=yes empty=no root=without-password from=sshd -T selinux=no/disabled/null agent=no/no"},
		{"debian12-local-nonroot", "os=debian/12.11 openssh=9.2(banner) pw=yes kbd=no pam=yes empty=no root=prohibit-password from=sshd_config selinux=no/disabled/null agent=no/no"},
		{"debian12-sshd79", "os=debian/12.11 openssh=7.9(banner) pw=yes kbd=yes pam=yes empty=no root=yes from=sshd -T -C selinux=no/disabled/null agent=no/no"},
		{"debian12", "os=debian/12.5 openssh=9.2(banner) pw=yes kbd=no pam=yes empty=no root=without-password from=sshd -T selinux=no/disabled/null agent=no/no"},
	}
	for _, tt := range tests {
		t.Run(tt.system, func(t *testing.T) {
			out, banner := readCapture(t, tt.system)
			var f contract.Facts
			if err := ParseLinux(out, banner, &f); err != nil {
				t.Fatal(err)
			}
			if got := keyFacts(&f); got != tt.want {
				t.Errorf("facts of %s:\n got %s\nwant %s", tt.system, got, tt.want)
			}
		})
	}
}

// TestLinuxProbeOnThisHost runs the real probe with sh on the machine the
// test runs on (read-only) and parses what it prints.
func TestLinuxProbeOnThisHost(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on this machine")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, sh, "-c", Linux).Output()
	if err != nil {
		t.Fatalf("sh -c Linux: %v", err)
	}
	var f contract.Facts
	if err := ParseLinux(out, "", &f); err != nil {
		t.Fatalf("ParseLinux: %v\n%s", err, out)
	}
	if f.OS == nil || f.OS.Family == nil || *f.OS.Family != "linux" || f.OS.Kernel == nil {
		t.Errorf("os facts of this host: %+v", f.OS)
	}
	if f.SELinux == nil || f.SELinux.Mode == nil {
		t.Errorf("selinux mode of this host unknown: %+v", f.SELinux)
	}
	if f.HSS == nil || f.HSS.AgentInstalled == nil {
		t.Errorf("agent facts of this host unknown: %+v", f.HSS)
	}
	// Run by go test, not through sshd: the probe says so and falls back to
	// the sshd on the PATH (when there is one).
	if f.SSHD != nil && f.SSHD.Listener == "path" && (f.SSHD.ListenerError == nil || !strings.HasPrefix(*f.SSHD.ListenerError, "no sshd among the probe's ancestors")) {
		t.Errorf("listener error = %v, want no sshd among the ancestors", lxStr(f.SSHD.ListenerError))
	}
}

// TestLinuxProbeThroughRealSSHD runs the probe through Debian's real sshd on
// loopback (the login shell's -c, as in production) and parses what comes
// back with the banner that sshd sent.
func TestLinuxProbeThroughRealSSHD(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Config{})
	key, err := os.ReadFile(srv.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ssh.Dial("tcp", srv.Addr, &ssh.ClientConfig{
		User: srv.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(srv.HostKey), Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	out, err := sess.Output(Linux)
	if err != nil {
		t.Fatalf("probe through sshd: %v\n%s", err, out)
	}
	banner := string(client.ServerVersion())
	var f contract.Facts
	if err := ParseLinux(out, banner, &f); err != nil {
		t.Fatalf("ParseLinux: %v", err)
	}
	o := f.OpenSSH
	if o == nil || o.Major == nil || o.Source != "banner" || o.Banner == nil || *o.Banner != banner {
		t.Fatalf("openssh facts from banner %q: %+v", banner, o)
	}
	// The banner and the client of the same package agree.
	if o.ClientVersion == nil || !strings.HasPrefix(*o.ClientVersion, "OpenSSH_"+strconv.Itoa(*o.Major)+"."+strconv.Itoa(*o.Minor)) {
		t.Errorf("ssh -V %v disagrees with banner %s", lxStr(o.ClientVersion), banner)
	}
	if f.OS == nil || f.OS.ID == nil || f.SELinux == nil || f.HSS == nil || f.HSS.AgentInstalled == nil {
		t.Errorf("facts missing: os %+v selinux %+v hss %+v", f.OS, f.SELinux, f.HSS)
	}
	// The sshd that answered is the test's, with its own configuration.
	if s := f.SSHD; s == nil || s.Listener != "process" || lxStr(s.Binary) != srv.Binary || lxStr(s.Config) != srv.ConfigFile {
		t.Errorf("sshd facts %+v, want %s with %s found from the process", s, srv.Binary, srv.ConfigFile)
	}
}

func TestSplitProbeSections(t *testing.T) {
	const good = "@@factorgate:linux-probe v1@@\n@@factorgate:begin a@@\n|x\n|\n|@@factorgate:done@@\n@@factorgate:end 0 a@@\n@@factorgate:begin b c@@\n@@factorgate:end 127 b c@@\n@@factorgate:done@@\n"
	tests := []struct {
		name     string
		out      string
		wantErr  error
		complete bool
		a        string
	}{
		{"complete", good, nil, true, "x\n\n@@factorgate:done@@"},
		{"motd before the header", "Welcome!\r\n" + good, nil, true, "x\n\n@@factorgate:done@@"},
		{"crlf", strings.ReplaceAll(good, "\n", "\r\n"), nil, true, "x\n\n@@factorgate:done@@"},
		{"truncated", good[:60], nil, false, ""},
		{"cut mid marker", good[:len(good)-5], nil, false, "x\n\n@@factorgate:done@@"},
		{"no header", "sh: 1: syntax error\n", ErrLinuxProbeOutput, false, ""},
		{"empty", "", ErrLinuxProbeOutput, false, ""},
		{"stray line", "@@factorgate:linux-probe v1@@\nhello\n", ErrLinuxProbeOutput, false, ""},
		{"mismatched end", "@@factorgate:linux-probe v1@@\n@@factorgate:begin a@@\n@@factorgate:end 0 b@@\n", ErrLinuxProbeOutput, false, ""},
		{"bad status", "@@factorgate:linux-probe v1@@\n@@factorgate:begin a@@\n@@factorgate:end x a@@\n", ErrLinuxProbeOutput, false, ""},
		{"text after done", good + "more\n", ErrLinuxProbeOutput, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := splitProbeSections([]byte(tt.out))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error spans lines: %q", err)
				}
				return
			}
			if p.complete != tt.complete {
				t.Errorf("complete = %v, want %v", p.complete, tt.complete)
			}
			if a, _ := p.ok("a"); a != tt.a {
				t.Errorf("section a = %q, want %q", a, tt.a)
			}
			if s := p.section("b c"); tt.complete && (s == nil || s.rc != 127) {
				t.Errorf("section \"b c\" = %+v, want rc 127", s)
			}
		})
	}
}

func TestParseLinuxProbeErrors(t *testing.T) {
	out, banner := readCapture(t, "debian10")
	t.Run("garbage leaves facts alone", func(t *testing.T) {
		f := contract.Facts{OS: &contract.OS{ID: contract.Ptr("kept")}}
		err := ParseLinux([]byte("\x00\x01garbage"), banner, &f)
		if !errors.Is(err, ErrLinuxProbeOutput) {
			t.Fatalf("err = %v, want ErrLinuxProbeOutput", err)
		}
		if f.OS == nil || *f.OS.ID != "kept" {
			t.Errorf("facts changed: %+v", f.OS)
		}
	})
	t.Run("truncated keeps what arrived", func(t *testing.T) {
		cut := out[:bytes.Index(out, []byte("@@factorgate:begin sshd-T@@"))+40]
		var f contract.Facts
		err := ParseLinux(cut, banner, &f)
		if !errors.Is(err, ErrLinuxTruncated) {
			t.Fatalf("err = %v, want ErrLinuxTruncated", err)
		}
		if f.OS == nil || f.OS.ID == nil || *f.OS.ID != "debian" {
			t.Errorf("os facts lost: %+v", f.OS)
		}
		if f.SSHD != nil || f.SELinux != nil || f.HSS.AgentInstalled != nil {
			t.Errorf("facts the output never proved: sshd %+v selinux %+v hss %+v", f.SSHD, f.SELinux, f.HSS)
		}
	})
	t.Run("cloud facts kept", func(t *testing.T) {
		f := contract.Facts{HSS: &contract.HSS{HostID: contract.Ptr("h-1")}}
		if err := ParseLinux(out, banner, &f); err != nil {
			t.Fatal(err)
		}
		if f.HSS.HostID == nil || *f.HSS.HostID != "h-1" || f.HSS.AgentInstalled == nil {
			t.Errorf("hss = %+v", f.HSS)
		}
	})
}

// Reading a Linux host: run Linux in one exec, then parse its stdout
// with the SSH banner of the same connection.
func ExampleParseLinux() {
	out, err := os.ReadFile("testdata/linux/centos7/probe.stdout") // what the session's stdout held
	if err != nil {
		fmt.Println(err)
		return
	}
	var f contract.Facts
	if err := ParseLinux(out, "SSH-2.0-OpenSSH_7.4", &f); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(*f.OS.ID, *f.OS.Version, *f.OpenSSH.Version, *f.OpenSSH.Major, *f.OpenSSH.Minor)
	fmt.Println("password:", *f.SSHD.PasswordAuthentication, "keyboard-interactive:", *f.SSHD.KbdInteractiveAuthentication, "from", f.SSHD.Source)
	fmt.Println("selinux:", *f.SELinux.Mode, "at boot:", *f.SELinux.ConfigMode)
	// Output:
	// centos 7.9.2009 7.4p1 7 4
	// password: true keyboard-interactive: false from sshd -T
	// selinux: disabled at boot: disabled
}

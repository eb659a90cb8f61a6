package probe

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
)

// TestOpenSSHSoftwareField reads the software-version field of the
// identification string (RFC 4253): only a field that starts with
// "OpenSSH_" is OpenSSH, wherever else "OpenSSH_" appears, and no package
// version stands in for a server that says it is something else.
func TestOpenSSHSoftwareField(t *testing.T) {
	dpkg := sec{"pkg-dpkg", "1:7.9p1-10+deb10u2", 0}
	tests := []struct {
		banner   string
		software string
		want     string // version source
	}{
		{"SSH-2.0-OpenSSH_7.4", "OpenSSH_7.4", "7.4 banner"},
		{"SSH-2.0-OpenSSH_7.9p1 Debian-10+deb10u2", "OpenSSH_7.9p1", "7.9p1 banner"},
		{"SSH-1.99-OpenSSH_7.4", "OpenSSH_7.4", "7.4 banner"},
		{"SSH-2.0-dropbear_2019.78", "dropbear_2019.78", "nil banner: not OpenSSH"},
		{"SSH-2.0-X_3.1 compatible-with-OpenSSH_7.4", "X_3.1", "nil banner: not OpenSSH"},
		{"SSH-2.0-Server", "Server", "nil banner: not OpenSSH"},
		{"SSH-2.0-Cisco-1.25", "Cisco-1.25", "nil banner: not OpenSSH"},
		{"SSH-2.0-OpenSSH", "OpenSSH", "nil banner: not OpenSSH"},
		{"HTTP/1.1 400 Bad Request", "", "nil banner: not OpenSSH"},
	}
	for _, tt := range tests {
		t.Run(tt.banner, func(t *testing.T) {
			o := opensshFacts(tt.banner, mustSplit(t, dpkg))
			if got := lxStr(o.Software); got != tt.software {
				t.Errorf("software = %q, want %q", got, tt.software)
			}
			got := "nil " + o.Source
			if o.Version != nil {
				got = *o.Version + " " + o.Source
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSELinuxWithoutConfigFile: getenforce answers Disabled and there is
// no /etc/selinux/config (Ubuntu's selinux-utils): SELinux is off and has
// nothing to come back from at boot.
func TestSELinuxWithoutConfigFile(t *testing.T) {
	s := selinuxFacts(mustSplit(t, sec{"getenforce", "Disabled", 0}, sec{"selinux-enforce", "", 127},
		sec{"selinuxfs", "", 1}, sec{"selinux-config", "", 127}))
	if lxBool(s.Installed) != "yes" || lxStr(s.Mode) != "disabled" || lxStr(s.ConfigMode) != "disabled" {
		t.Errorf("selinux = %s/%s/%s, want yes/disabled/disabled", lxBool(s.Installed), lxStr(s.Mode), lxStr(s.ConfigMode))
	}
	// Enforcing now without a config file: what comes at boot is unknown.
	s = selinuxFacts(mustSplit(t, sec{"getenforce", "Enforcing", 0}, sec{"selinuxfs", "", 0}, sec{"selinux-config", "", 127}))
	if s.ConfigMode != nil {
		t.Errorf("config_mode = %s without a config file while enforcing, want null", *s.ConfigMode)
	}
}

// TestParseSSHDConfigQuotedInclude reads a quoted Include as sshd does:
// quotes removed, a space inside quotes part of the path, globs, relative
// to /etc/ssh.
func TestParseSSHDConfigQuotedInclude(t *testing.T) {
	files := []sshdConfigFile{
		{path: "/etc/ssh/sshd_config.d/my dir/a.conf", text: "PasswordAuthentication no\n", ok: true},
		{path: "/etc/ssh/sshd_config.d/b.conf", text: "UsePAM no\n", ok: true},
	}
	kv, complete := parseSSHDConfig("Include \"sshd_config.d/my dir/*.conf\" '/etc/ssh/sshd_config.d/b.conf'\n", files, true)
	if !complete || kv[kwPasswordAuthentication] != "no" || kv[kwUsePAM] != "no" {
		t.Errorf("got %v complete %v, want both included files read", kv, complete)
	}
}

// TestAuthenticationMethods fills sshd.authentication_methods from sshd -T,
// else from the configuration ("any" when it does not set it).
func TestAuthenticationMethods(t *testing.T) {
	tests := []struct {
		name string
		secs []sec
		want string
	}{
		{"sshd -T", []sec{{"sshd-T", "passwordauthentication yes\nauthenticationmethods publickey,password publickey,keyboard-interactive\nusepam yes", 0}}, "publickey,password publickey,keyboard-interactive"},
		{"sshd -T any", []sec{{"sshd-T", "passwordauthentication yes\nauthenticationmethods any", 0}}, "any"},
		{"config", []sec{{"sshd-T", "no hostkeys", 1}, {"sshd_config /etc/ssh/sshd_config", "AuthenticationMethods  \"publickey,password\"   publickey\n", 0}}, "publickey,password publickey"},
		{"config unset", []sec{{"sshd-T", "no hostkeys", 1}, {"sshd_config /etc/ssh/sshd_config", "UsePAM yes\n", 0}}, "any"},
		{"config match all", []sec{{"sshd-T", "no hostkeys", 1}, {"sshd_config /etc/ssh/sshd_config", "AuthenticationMethods any\nMatch all\nAuthenticationMethods publickey\n", 0}}, "publickey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sshdFacts(mustSplit(t, tt.secs...), nil, nil)
			if s == nil || lxStr(s.AuthenticationMethods) != tt.want {
				t.Errorf("authentication_methods = %v, want %q", s, tt.want)
			}
		})
	}
}

// TestParseLinuxErrorsSayWhy: output that is not the probe's, or that is
// cut short, gives an error a reader understands on one line.
func TestParseLinuxErrorsSayWhy(t *testing.T) {
	var f contract.Facts
	err := ParseLinux([]byte("This account is currently not available.\n"), "", &f)
	if !errors.Is(err, ErrLinuxProbeOutput) || !strings.HasPrefix(err.Error(), "probe output was not factorgate's: ") ||
		!strings.Contains(err.Error(), "This account is currently not available.") {
		t.Errorf("err = %v", err)
	}
	out, banner := readCapture(t, "debian10")
	err = ParseLinux(out[:len(out)/2], banner, &f)
	if !errors.Is(err, ErrLinuxTruncated) || !strings.HasPrefix(err.Error(), "probe output was cut short") {
		t.Errorf("err = %v", err)
	}
}

// TestSudoersDropIn keeps deploy/sudoers.d/factorgate the rule the facts
// name for a stock sshd (no -f) whose OpenSSH 7.x needs a connection.
func TestSudoersDropIn(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "sudoers.d", "factorgate"))
	if err != nil {
		t.Fatal(err)
	}
	want := sudoersLine("ops", "/usr/sbin/sshd", nil) + ", " + sudoersCommand("/usr/sbin/sshd", []string{"-C", sshdAnyConnSpec})
	if !strings.Contains(string(b), "\n"+want+"\n") {
		t.Errorf("deploy/sudoers.d/factorgate lacks the line\n%s", want)
	}
	if visudo, err := exec.LookPath("visudo"); err == nil {
		if out, err := exec.Command(visudo, "-cf", filepath.Join("..", "..", "deploy", "sudoers.d", "factorgate")).CombinedOutput(); err != nil {
			t.Errorf("visudo -cf: %v: %s", err, out)
		}
	}
}

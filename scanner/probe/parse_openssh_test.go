package probe

import (
	"fmt"
	"testing"
)

func TestParseOpenSSHBanner(t *testing.T) {
	tests := []struct {
		banner string
		want   string // version major.minor windows, or nil
	}{
		{"SSH-2.0-OpenSSH_7.4", "7.4 7.4 false"},
		{"SSH-2.0-OpenSSH_7.9p1 Debian-10+deb10u2", "7.9p1 7.9 false"},
		{"SSH-2.0-OpenSSH_10.0", "10.0 10.0 false"},
		{"SSH-2.0-OpenSSH_for_Windows_8.1", "8.1 8.1 true"},
		{"SSH-2.0-dropbear_2022.83", "nil"},
		{"SSH-2.0-OpenSSH_99999999999999999999.1", "nil"},
	}
	for _, tt := range tests {
		t.Run(tt.banner, func(t *testing.T) {
			o := ParseOpenSSHBanner(tt.banner)
			if o == nil || o.Banner == nil || *o.Banner != tt.banner {
				t.Fatalf("banner not kept: %+v", o)
			}
			got := "nil"
			if o.Version != nil {
				got = fmt.Sprintf("%s %d.%d %v", *o.Version, *o.Major, *o.Minor, o.Windows)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if ParseOpenSSHBanner("  ") != nil {
		t.Error("empty banner gave facts")
	}
}

func TestOpenSSHFacts(t *testing.T) {
	sshV := sec{"ssh-V", "OpenSSH_7.4p1, OpenSSL 1.0.2k-fips  26 Jan 2017", 0}
	rpm := sec{"pkg-rpm", "7.4p1-23.el7_9", 0}
	dpkg := sec{"pkg-dpkg", "1:8.2p1-4ubuntu0.5", 0}
	sshV9 := sec{"ssh-V", "OpenSSH_9.6p1, OpenSSL 3.0.13 30 Jan 2024", 0}
	tests := []struct {
		name   string
		banner string
		secs   []sec
		want   string // version major.minor source, or "nil SOURCE" when the version is unknown
	}{
		{"banner, suffix from the package", "SSH-2.0-OpenSSH_7.4", []sec{sshV, rpm}, "7.4p1 7.4 banner"},
		{"banner, no suffix from the client", "SSH-2.0-OpenSSH_7.4", []sec{sshV}, "7.4 7.4 banner"},
		{"banner alone", "SSH-2.0-OpenSSH_7.4", nil, "7.4 7.4 banner"},
		{"banner wins over a different package", "SSH-2.0-OpenSSH_7.4", []sec{dpkg}, "7.4 7.4 banner"},
		{"banner wins over a different client", "SSH-2.0-OpenSSH_7.4", []sec{sshV9}, "7.4 7.4 banner"},
		{"anonymous banner: not OpenSSH, the package does not stand in", "SSH-2.0-Server", []sec{sshV, dpkg}, "nil banner: not OpenSSH"},
		{"anonymous banner, client only: unknown", "SSH-2.0-Server", []sec{sshV}, "nil banner: not OpenSSH"},
		{"dropbear: the package is not what answers", "SSH-2.0-dropbear_2020.81", []sec{sshV, dpkg}, "nil banner: not OpenSSH"},
		{"libssh: the package is not what answers", "SSH-2.0-libssh_0.9.6", []sec{rpm}, "nil banner: not OpenSSH"},
		{"Go server", "SSH-2.0-Go", []sec{dpkg}, "nil banner: not OpenSSH"},
		{"OpenSSH for Windows on a Linux host", "SSH-2.0-OpenSSH_for_Windows_8.1", []sec{dpkg}, "nil banner: OpenSSH for Windows on a Linux host"},
		{"no banner: package", "", []sec{dpkg}, "8.2p1 8.2 package"},
		{"no banner, client only: unknown", "", []sec{sshV}, "nil "},
		{"package not installed", "", []sec{{"pkg-dpkg", "dpkg-query: no packages found matching openssh-server", 1}}, "nil"},
		{"ssh -V missing", "", []sec{{"ssh-V", "bash: ssh: command not found", 127}}, "nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opensshFacts(tt.banner, mustSplit(t, tt.secs...))
			got := "nil"
			switch {
			case o != nil && o.Version != nil:
				got = fmt.Sprintf("%s %d.%d %s", *o.Version, *o.Major, *o.Minor, o.Source)
			case o != nil:
				if o.Major != nil || o.Minor != nil {
					t.Fatalf("major/minor set without a version: %+v", o)
				}
				got = "nil " + o.Source
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if o != nil && o.Windows {
				t.Errorf("a Linux probe set openssh.windows")
			}
			if o != nil && o.ClientVersion == nil && hasSection(tt.secs, "ssh-V", 0) {
				t.Errorf("ssh -V not kept as client_version")
			}
		})
	}
}

func hasSection(secs []sec, name string, rc int) bool {
	for _, s := range secs {
		if s.name == name && s.rc == rc {
			return true
		}
	}
	return false
}

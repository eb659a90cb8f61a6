package probe

import (
	"testing"
)

func TestParseOSRelease(t *testing.T) {
	kv := parseOSRelease("# comment\nNAME=\"CentOS Linux\"\nID='centos'\nVERSION_ID=7\nBAD LINE\nQ=\"a \\\"b\\\" \\$c\"\n=x\n")
	want := map[string]string{"NAME": "CentOS Linux", "ID": "centos", "VERSION_ID": "7", "Q": `a "b" $c`}
	if len(kv) != len(want) {
		t.Errorf("got %v, want %v", kv, want)
	}
	for k, v := range want {
		if kv[k] != v {
			t.Errorf("%s = %q, want %q", k, kv[k], v)
		}
	}
}

func TestLinuxOSFacts(t *testing.T) {
	tests := []struct {
		name        string
		secs        []sec
		wantVersion string
		wantKernel  string
	}{
		{"centos precise release", []sec{{"os-release", "ID=centos\nVERSION_ID=\"7\"", 0}, {"redhat-release", "CentOS Linux release 7.9.2009 (Core)", 0}}, "7.9.2009", ""},
		{"debian point release", []sec{{"os-release", "ID=debian\nVERSION_ID=\"10\"", 0}, {"debian_version", "10.13", 0}, {"uname-r", "4.19.0-27-amd64", 0}}, "10.13", "4.19.0-27-amd64"},
		{"ubuntu codename ignored", []sec{{"os-release", "ID=ubuntu\nVERSION_ID=\"20.04\"", 0}, {"debian_version", "bullseye/sid", 0}}, "20.04", ""},
		{"other release ignored", []sec{{"os-release", "ID=rhel\nVERSION_ID=\"8\"", 0}, {"redhat-release", "release 9.1", 0}}, "8", ""},
		{"unreadable os-release", []sec{{"os-release", "cat: /usr/lib/os-release: No such file", 1}}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os := linuxOSFacts(mustSplit(t, tt.secs...))
			if got := lxStr(os.Version); got != tt.wantVersion {
				t.Errorf("version = %q, want %q", got, tt.wantVersion)
			}
			if got := lxStr(os.Kernel); got != tt.wantKernel {
				t.Errorf("kernel = %q, want %q", got, tt.wantKernel)
			}
			if lxStr(os.Family) != "linux" {
				t.Errorf("family = %v", os.Family)
			}
		})
	}
}

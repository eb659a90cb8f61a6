package probe

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
)

func TestParseSSHDT(t *testing.T) {
	kv, ok := parseSSHDT("port 22\nusepam yes\npasswordauthentication no\nPermitRootLogin without-password\nkbdinteractiveauthentication yes\npasswordauthentication yes\n")
	if !ok {
		t.Fatal("not recognised as sshd -T output")
	}
	want := map[string]string{kwUsePAM: "yes", kwPasswordAuthentication: "no", kwPermitRootLogin: "without-password", kwKbdInteractiveAuthentication: "yes"}
	for k, v := range want {
		if kv[k] != v {
			t.Errorf("%s = %q, want %q", k, kv[k], v)
		}
	}
	if _, ok := parseSSHDT("Missing privilege separation directory: /run/sshd"); ok {
		t.Error("an error message was taken for sshd -T output")
	}
}

func TestParseSSHDConfig(t *testing.T) {
	files := []sshdConfigFile{
		{path: "/etc/ssh/sshd_config.d/10-a.conf", text: "PasswordAuthentication no\n", ok: true},
		{path: "/etc/ssh/sshd_config.d/05-b.conf", text: "UsePAM=no\nInclude nested/*.conf\n", ok: true},
		{path: "/etc/ssh/nested/x.conf", text: "PermitEmptyPasswords yes\n", ok: true},
		{path: "/etc/ssh/other.conf", text: "PermitRootLogin no\n", ok: true},
		{path: "/etc/ssh/unreadable.conf", ok: false},
		{path: "/etc/ssh/all/50-all.conf", text: "Match all\nPasswordAuthentication no\n", ok: true},
	}
	tests := []struct {
		name         string
		main         string
		crAlias      bool
		want         map[string]string
		wantComplete bool
	}{
		{"first value wins", "PasswordAuthentication yes\npasswordauthentication no\n", false,
			map[string]string{kwPasswordAuthentication: "yes"}, true},
		{"case, tabs, equals, quotes, comments", "  PASSWORDAUTHENTICATION\tno\nUsePAM = \"yes\"\n# PermitRootLogin yes\n", false,
			map[string]string{kwPasswordAuthentication: "no", kwUsePAM: "yes"}, true},
		{"include in lexical order before later lines", "Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication yes\nUsePAM yes\n", false,
			map[string]string{kwPasswordAuthentication: "no", kwUsePAM: "no", kwPermitEmptyPasswords: "yes"}, true},
		{"relative include", "Include other.conf\n", false, map[string]string{kwPermitRootLogin: "no"}, true},
		{"include matching nothing", "Include /etc/ssh/none/*.conf\nUsePAM yes\n", false, map[string]string{kwUsePAM: "yes"}, true},
		{"other match blocks ignored", "UsePAM yes\nMatch User bob\n  PasswordAuthentication no\nMatch Address 10.0.0.0/8\nPermitRootLogin yes\n", false,
			map[string]string{kwUsePAM: "yes"}, true},
		{"match all applies to every connection", "UsePAM yes\nMatch User bob\n  PasswordAuthentication no\nMatch all\nPermitRootLogin no\n", false,
			map[string]string{kwUsePAM: "yes", kwPermitRootLogin: "no"}, true},
		{"match all overrides an earlier global value", "PasswordAuthentication yes\nMatch all\n  PasswordAuthentication no\n", false,
			map[string]string{kwPasswordAuthentication: "no"}, true},
		{"first match all value wins", "Match all\nPermitRootLogin no\nPermitRootLogin yes\nMatch all\nPermitRootLogin prohibit-password\n", false,
			map[string]string{kwPermitRootLogin: "no"}, true},
		{"match all ends at the next match", "Match all\nPermitEmptyPasswords no\nMatch User bob\nPasswordAuthentication no\n", false,
			map[string]string{kwPermitEmptyPasswords: "no"}, true},
		{"match all, upper case, comment", "match ALL # everyone\nPermitEmptyPasswords yes\n", false,
			map[string]string{kwPermitEmptyPasswords: "yes"}, true},
		{"global-only keyword after match all: first value wins", "UsePAM no\nMatch all\nUsePAM yes\n", false,
			map[string]string{kwUsePAM: "no"}, true},
		{"global-only keyword only after match all", "Match all\nUsePAM yes\n", false,
			map[string]string{kwUsePAM: "yes"}, true},
		{"challenge-response before 8.7 is global only", "ChallengeResponseAuthentication no\nMatch all\nChallengeResponseAuthentication yes\n", false,
			map[string]string{kwChallengeResponseAuthentication: "no"}, true},
		{"challenge-response since 8.7 in match all", "KbdInteractiveAuthentication no\nMatch all\nChallengeResponseAuthentication yes\n", true,
			map[string]string{kwKbdInteractiveAuthentication: "yes"}, true},
		{"match all with other criteria is refused by sshd", "Match all User bob\nPasswordAuthentication no\n", false,
			map[string]string{}, false},
		{"match all of an included file ends with the file", "Include all/50-all.conf\nPermitRootLogin yes\n", false,
			map[string]string{kwPasswordAuthentication: "no", kwPermitRootLogin: "yes"}, true},
		{"include inside match all", "Match all\nInclude other.conf\n", false,
			map[string]string{kwPermitRootLogin: "no"}, true},
		{"match all of a file included inside another match", "PasswordAuthentication yes\nMatch User bob\nInclude all/50-all.conf\n", false,
			map[string]string{kwPasswordAuthentication: "no"}, true},
		{"unreadable include", "Include unreadable.conf\n", false, map[string]string{}, false},
		{"challenge-response is its own setting before 8.7", "ChallengeResponseAuthentication no\nKbdInteractiveAuthentication yes\n", false,
			map[string]string{kwChallengeResponseAuthentication: "no", kwKbdInteractiveAuthentication: "yes"}, true},
		{"challenge-response is an alias since 8.7", "ChallengeResponseAuthentication no\nKbdInteractiveAuthentication yes\n", true,
			map[string]string{kwKbdInteractiveAuthentication: "no"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv, complete := parseSSHDConfig(tt.main, files, tt.crAlias)
			if complete != tt.wantComplete {
				t.Errorf("complete = %v, want %v", complete, tt.wantComplete)
			}
			if len(kv) != len(tt.want) {
				t.Errorf("got %v, want %v", kv, tt.want)
			}
			for k, v := range tt.want {
				if kv[k] != v {
					t.Errorf("%s = %q, want %q (all: %v)", k, kv[k], v, kv)
				}
			}
		})
	}
}

func TestSSHDFacts(t *testing.T) {
	v := func(major, minor int) *contract.OpenSSH {
		return &contract.OpenSSH{Major: &major, Minor: &minor}
	}
	centos := &contract.OS{ID: contract.Ptr("centos")}
	debian := &contract.OS{ID: contract.Ptr("debian")}
	const stockDebian = "ChallengeResponseAuthentication no\nUsePAM yes\n"
	tests := []struct {
		name string
		secs []sec
		os   *contract.OS
		o    *contract.OpenSSH
		want string // pw kbd pam empty root source
	}{
		{"sshd -T", []sec{{"sshd-T", "passwordauthentication yes\nkbdinteractiveauthentication yes\nchallengeresponseauthentication yes\nusepam yes\npermitemptypasswords no\npermitrootlogin yes", 0}},
			debian, v(7, 9), "yes yes yes no yes sshd -T"},
		{"sshd -T 7.x: challenge-response decides", []sec{{"sshd-T", "passwordauthentication yes\nkbdinteractiveauthentication yes\nchallengeresponseauthentication no\nusepam yes\npermitemptypasswords no\npermitrootlogin yes", 0}},
			debian, v(7, 9), "yes no yes no yes sshd -T"},
		{"sshd -T 9.x prints only kbdinteractive", []sec{{"sshd-T", "passwordauthentication yes\nkbdinteractiveauthentication no\nusepam yes\npermitemptypasswords no\npermitrootlogin without-password", 0}},
			debian, v(9, 2), "yes no yes no without-password sshd -T"},
		{"sshd -T without PAM support", []sec{{"sshd-T", "passwordauthentication yes\nkbdinteractiveauthentication yes\npermitemptypasswords no\npermitrootlogin no", 0}},
			debian, v(9, 2), "yes yes no no no sshd -T"},
		{"sudo when plain fails", []sec{{"sshd-T", "no hostkeys", 1}, {"sshd-T-sudo", "passwordauthentication no\nusepam yes", 0}},
			debian, v(7, 9), "no null yes null null sshd -T"},
		{"config when sshd -T fails", []sec{{"sshd-T", "no hostkeys", 1}, {"sshd-T-sudo", "sudo: a password is required", 1}, {"sshd_config /etc/ssh/sshd_config", stockDebian, 0}},
			debian, v(7, 9), "yes no yes no prohibit-password sshd_config"},
		{"config defaults: everything unset, 7.x", []sec{{"sshd_config /etc/ssh/sshd_config", "", 0}},
			debian, v(7, 4), "yes yes no no prohibit-password sshd_config"},
		{"config defaults: Red Hat keeps root login", []sec{{"sshd_config /etc/ssh/sshd_config", "", 0}},
			centos, v(7, 4), "yes yes no no yes sshd_config"},
		{"config defaults: before 7.0", []sec{{"sshd_config /etc/ssh/sshd_config", "", 0}},
			debian, v(6, 6), "yes yes no no yes sshd_config"},
		{"config defaults: unknown version leaves root login unknown", []sec{{"sshd_config /etc/ssh/sshd_config", "KbdInteractiveAuthentication no", 0}},
			debian, nil, "yes no no no null sshd_config"},
		{"config 9.x: KbdInteractive no", []sec{{"sshd_config /etc/ssh/sshd_config", "KbdInteractiveAuthentication no\nUsePAM yes", 0}},
			debian, v(9, 2), "yes no yes no prohibit-password sshd_config"},
		{"include directory unlistable", []sec{{"sshd_config /etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes", 0}, {"sshd_include /etc/ssh/sshd_config.d/*.conf", "/etc/ssh/sshd_config.d: cannot list", 1}},
			debian, v(9, 2), "null null null null null none"},
		{"include directory listed", []sec{{"sshd_config /etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes", 0}, {"sshd_include /etc/ssh/sshd_config.d/*.conf", "", 0}, {"sshd_config /etc/ssh/sshd_config.d/50.conf", "PasswordAuthentication no", 0}},
			debian, v(9, 2), "no yes yes no prohibit-password sshd_config"},
		{"unreadable config", []sec{{"sshd-T", "x", 1}, {"sshd_config /etc/ssh/sshd_config", "Permission denied", 1}}, debian, v(8, 0), "null null null null null none"},
		{"nothing", []sec{{"id-u", "0", 0}}, debian, v(8, 0), "null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sshdFacts(mustSplit(t, tt.secs...), tt.os, tt.o)
			got := "null"
			if s != nil {
				root := "null"
				if s.PermitRootLogin != nil {
					root = *s.PermitRootLogin
				}
				got = lxBool(s.PasswordAuthentication) + " " + lxBool(s.KbdInteractiveAuthentication) + " " + lxBool(s.UsePAM) + " " +
					lxBool(s.PermitEmptyPasswords) + " " + root + " " + s.Source
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// includeChain returns a main file and the files it includes, each the next
// one, n files deep; the deepest sets PasswordAuthentication no, and with
// more it has an Include line too.
func includeChain(n int, more bool) (string, []sshdConfigFile) {
	var files []sshdConfigFile
	main := "Include /etc/ssh/d/1.conf\n"
	for i := 1; i <= n; i++ {
		text := fmt.Sprintf("Include /etc/ssh/d/%d.conf\n", i+1)
		if i == n {
			text = "PasswordAuthentication no\n"
			if more {
				text += "Include /etc/ssh/d/x.conf\n"
			}
		}
		files = append(files, sshdConfigFile{path: fmt.Sprintf("/etc/ssh/d/%d.conf", i), text: text, ok: true})
	}
	return main, files
}

func TestParseSSHDConfigIncludeDepth(t *testing.T) {
	tests := []struct {
		depth        int
		more         bool
		wantComplete bool
	}{
		{1, false, true},
		{sshdIncludeMaxDepth, false, true},
		{sshdIncludeMaxDepth - 1, true, true},
		{sshdIncludeMaxDepth, true, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d deep, include %v", tt.depth, tt.more), func(t *testing.T) {
			main, files := includeChain(tt.depth, tt.more)
			kv, complete := parseSSHDConfig(main, files, false)
			if complete != tt.wantComplete {
				t.Fatalf("complete = %v, want %v", complete, tt.wantComplete)
			}
			if complete && kv[kwPasswordAuthentication] != "no" {
				t.Errorf("the deepest file was not read: %v", kv)
			}
		})
	}
}

// TestLinuxProbeIncludeDepth runs the probe's own fg_conf with sh on a chain
// of nested Includes deeper than sshd follows: the probe reads as deep as
// the parser does and then says the result is unknown, so the sshd facts
// are null, never defaults.
func TestLinuxProbeIncludeDepth(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	const n = sshdIncludeMaxDepth + 2
	for i := 0; i <= n; i++ {
		text := fmt.Sprintf("Include %s/%d.conf\n", dir, i+1)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.conf", i)), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	defs, _, ok := strings.Cut(Linux, "fg_uid=")
	if !ok {
		t.Fatal("the probe's functions not found")
	}
	script := defs + "echo '" + probeHeader + "'\nfg_conf " + dir + "/0.conf 0\necho '" + probeDone + "'\n"
	out, err := exec.Command(sh, "-c", script).Output()
	if err != nil {
		t.Fatal(err)
	}
	p, err := splitProbeSections(out)
	if err != nil {
		t.Fatal(err)
	}
	var read, refused int
	for _, s := range p.sections {
		switch {
		case strings.HasPrefix(s.name, "sshd_config "):
			read++
		case strings.HasPrefix(s.name, "sshd_include ") && s.rc != 0:
			refused++
		}
	}
	if read != sshdIncludeMaxDepth+1 || refused != 1 {
		t.Errorf("the probe read %d files and marked %d Includes too deep, want %d and 1", read, refused, sshdIncludeMaxDepth+1)
	}
	if sshdIncludeMaxDepthText != strconv.Itoa(sshdIncludeMaxDepth) {
		t.Errorf("sshdIncludeMaxDepthText %q != %d", sshdIncludeMaxDepthText, sshdIncludeMaxDepth)
	}

	// The same sections under the main file's path: sshd -T failed, the
	// configuration nests too deep, so the sshd facts are unknown.
	secs := []sec{{"sshd-T", "sshd: no hostkeys available -- exiting.", 1},
		{"sshd_config /etc/ssh/sshd_config", "Include /etc/ssh/d/1.conf", 0}}
	main, files := includeChain(sshdIncludeMaxDepth, true)
	_ = main
	for _, f := range files {
		secs = append(secs, sec{"sshd_config " + f.path, f.text, 0})
	}
	secs = append(secs, sec{"sshd_include /etc/ssh/d/x.conf", "Include nested deeper than 16 files", 1})
	if s := sshdFacts(mustSplit(t, secs...), nil, nil); s == nil || s.PasswordAuthentication != nil || s.Source != sshdSourceNone || s.MatchBlocks != nil {
		t.Errorf("sshd facts = %+v, want every setting and the Match blocks null when Includes nest too deep", s)
	}
}

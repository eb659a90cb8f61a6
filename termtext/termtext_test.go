package termtext

import "testing"

func TestClean(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		lines    bool
	}{
		{"plain", "plain", false},
		{"red \x1b[1;31mbold\x1b[0m", "red bold", false},
		{"title\x1b]0;owned\x07 and\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "title andlink", false},
		{"c1 \u009b31mcsi \u009dosc\u009c st", "c1 csi  st", false},
		{"dcs\x1bPq#0\x1b\\ end", "dcs end", false},
		{"esc\x1b7save\x1b(Bcharset", "escsavecharset", false},
		{"tab\tnl\ncr\r\nnel\u0085ls\u2028", "tab nl cr  nel ls ", false},
		{"a\r\nb\rc\nd", "a\nb\nc\nd", true},
		{"web-\u202e10-bew\u2066", "web-10-bew", false},
		{"trailing esc\x1b", "trailing esc ", false},
	} {
		clean := Clean
		if tc.lines {
			clean = CleanLines
		}
		if got := clean(tc.in); got != tc.want {
			t.Errorf("clean(%q, lines %v) = %q, want %q", tc.in, tc.lines, got, tc.want)
		}
	}
}

var checkIDs = []string{"must_change_password", "openssh_version", "os_supported", "password_login", "protection", "rdp", "reachable", "selinux", "topic"}

func TestNearestCheckIDs(t *testing.T) {
	for in, want := range map[string]string{
		"selinx":             "selinux",
		"SELinux":            "selinux",
		"password-login":     "password_login",
		"openssh":            "openssh_version",
		"mustchangepassword": "must_change_password",
		"rpd":                "rdp",
	} {
		if got := Nearest(in, checkIDs); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Nearest("x", nil); got != "" {
		t.Errorf("closest with nothing known = %q", got)
	}
}

func TestNearestCommands(t *testing.T) {
	verbs := []string{"check", "scan", "enable", "disable", "history", "diff", "serve", "policy", "demo", "inventory", "version"}
	for in, want := range map[string]string{"chek": "check", "sacn": "scan", "hist": "history", "zzz": "", "ab": ""} {
		if got := Nearest(in, verbs); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", in, got, want)
		}
	}
}

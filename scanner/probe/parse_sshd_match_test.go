package probe

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
)

func TestSplitSSHDArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a b\tc", []string{"a", "b", "c"}},
		{`"/etc/ssh/my dir/*.conf" b`, []string{"/etc/ssh/my dir/*.conf", "b"}},
		{`'x y' z`, []string{"x y", "z"}},
		{`a\ b c`, []string{"a b", "c"}},
		{`"a \"q\" b"`, []string{`a "q" b`}},
		{`a #comment`, []string{"a"}},
		{`a#b`, []string{"a#b"}},
		{`""`, []string{""}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := splitSSHDArgs(tt.in); fmt.Sprint(got) != fmt.Sprint(tt.want) || len(got) != len(tt.want) {
			t.Errorf("splitSSHDArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSSHDArgsAwkAgreesWithParser runs the probe's own awk tokenizer on
// the lines the parser splits: both must read Include arguments alike.
func TestSSHDArgsAwkAgreesWithParser(t *testing.T) {
	awk, err := exec.LookPath("awk")
	if err != nil {
		t.Skip("no awk")
	}
	lines := []string{"a b\tc", `"/etc/ssh/my dir/*.conf" b`, `'x y' z`, `a\ b c`, `"a \"q\" b"`, `a #comment`, `a#b`, `sshd_config.d/*.conf`}
	for _, line := range lines {
		cmd := exec.Command(awk, sshdArgsAwk)
		cmd.Stdin = strings.NewReader(line + "\n")
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if want := splitSSHDArgs(line); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("line %q: awk %q, parser %q", line, got, want)
		}
	}
}

// TestSSHDMatchAwkSpecs runs the probe's awk on a configuration and checks
// that each connection spec it prints matches its block as sshd decides
// (matchSpecMatches), and that it leaves out what it cannot satisfy.
func TestSSHDMatchAwkSpecs(t *testing.T) {
	awk, err := exec.LookPath("awk")
	if err != nil {
		t.Skip("no awk")
	}
	conf := strings.Join([]string{
		"PasswordAuthentication yes",              // 1
		"Match User bob,alice Address 10.0.0.0/8", // 2
		"  PasswordAuthentication no",
		"Match Address *", // 4
		"  AuthenticationMethods publickey",
		"Match Group wheel", // 6
		"  PasswordAuthentication no",
		"Match User !root", // 8
		"  PermitRootLogin no",
		"Match User adm* Host *.example.com LocalPort 2222", // 10
		"  KbdInteractiveAuthentication no",
		"Match Host h?st", // 12
		"  X11Forwarding no",
		"match all # everyone", // 14
		"  PermitEmptyPasswords yes",
		"Match Address 192.168.*,!192.168.1.1 LocalAddress * RDomain *", // 16
		"  PasswordAuthentication no",
	}, "\n") + "\n"
	cmd := exec.Command(awk, sshdMatchAwk)
	cmd.Stdin = strings.NewReader(conf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	blocks, complete := sshdMatchBlocks("/etc/ssh/sshd_config", conf, nil, true)
	if !complete {
		t.Fatal("incomplete")
	}
	byLine := map[int]contract.MatchBlock{}
	for _, b := range blocks {
		byLine[b.Line] = b
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		n, spec, _ := strings.Cut(l, " ")
		lines = append(lines, n)
		var line int
		fmt.Sscan(n, &line)
		b, ok := byLine[line]
		if !ok {
			t.Errorf("awk printed line %d, which is no password-login block", line)
			continue
		}
		if !matchSpecMatches(b.Criteria, spec) {
			t.Errorf("line %d (%s): spec %s does not match the block", line, b.Criteria, spec)
		}
	}
	if got := strings.Join(lines, " "); got != "2 4 10 14 16" {
		t.Errorf("awk printed blocks at lines %s, want 2 4 10 14 16 (not Group, not only-negated, not a block without password keywords)", got)
	}
}

func TestMatchSpecMatches(t *testing.T) {
	const def = "user=factorgate,host=factorgate.invalid,addr=192.0.2.1"
	tests := []struct {
		criteria, spec string
		want           bool
	}{
		{"all", def, true},
		{"User bob", "user=bob,host=h,addr=127.0.0.1", true},
		{"User bob", def, false},
		{"User *,!root", def, true},
		{"User *,!root", "user=root,host=h,addr=1.2.3.4", false},
		{"User !root", def, false},
		{"Host *.example.com", "user=u,host=A.Example.com,addr=1.2.3.4", true},
		{"Address 10.0.0.0/8", "user=u,host=h,addr=10.0.0.0", true},
		{"Address 10.0.0.0/8", def, false},
		{"Address 192.168.*", "user=u,host=h,addr=192.168.1.1", true},
		{"Address *", def, true},
		{"LocalPort 2222", def + ",lport=2222", true},
		{"LocalPort 2222", def, false},
		{"Group wheel", def, false},
		{"User bob Address 10.0.0.0/8", "user=bob,host=h,addr=10.1.2.3", true},
		{"User bob Address 10.0.0.0/8", "user=bob,host=h,addr=11.1.2.3", false},
		{"Bogus x", def, false},
	}
	for _, tt := range tests {
		if got := matchSpecMatches(tt.criteria, tt.spec); got != tt.want {
			t.Errorf("matchSpecMatches(%q, %q) = %v, want %v", tt.criteria, tt.spec, got, tt.want)
		}
	}
}

func TestMatchAllConnections(t *testing.T) {
	tests := map[string]bool{
		"all": true, "ALL": true, "Address *": true, "User *": true, "Host * Address *": true, "LocalAddress *": true,
		"User *,!root": false, "User bob": false, "Address 0.0.0.0/0": false, "LocalPort 22": false, "all User bob": false, "": false,
	}
	for c, want := range tests {
		if got := matchAllConnections(c); got != want {
			t.Errorf("matchAllConnections(%q) = %v, want %v", c, got, want)
		}
	}
}

func TestSSHDMatchBlocks(t *testing.T) {
	files := []sshdConfigFile{
		{path: "/etc/ssh/sshd_config.d/50-cloud.conf", text: "PasswordAuthentication yes\nMatch User deploy\n  PasswordAuthentication no\n", ok: true},
		{path: "/etc/ssh/inner.conf", text: "AuthenticationMethods publickey\nMatch User x\n  PasswordAuthentication no\n", ok: true},
	}
	main := "Include /etc/ssh/sshd_config.d/*.conf\n" +
		"UsePAM yes\n" +
		"Match Address *\n" +
		"  PasswordAuthentication no\n" +
		"  passwordauthentication yes\n" +
		"  X11Forwarding no\n" +
		"Match User bob\n" +
		"  Include inner.conf\n" +
		"Match User carol\n" +
		"  ChallengeResponseAuthentication no\n" +
		"  AuthenticationMethods \"publickey,password\" publickey\n"
	blocks, complete := sshdMatchBlocks("/etc/ssh/sshd_config", main, files, true)
	if !complete {
		t.Fatal("incomplete")
	}
	var got []string
	for _, b := range blocks {
		got = append(got, fmt.Sprintf("%s:%d %q all=%v %v", b.File, b.Line, b.Criteria, b.AllConnections, b.Settings))
	}
	want := []string{
		`/etc/ssh/sshd_config.d/50-cloud.conf:2 "User deploy" all=false map[passwordauthentication:no]`,
		`/etc/ssh/sshd_config:3 "Address *" all=true map[passwordauthentication:no]`,
		`/etc/ssh/sshd_config:7 "User bob" all=false map[authenticationmethods:publickey]`,
		`/etc/ssh/sshd_config:9 "User carol" all=false map[authenticationmethods:publickey,password publickey kbdinteractiveauthentication:no]`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("blocks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, complete := sshdMatchBlocks("/etc/ssh/sshd_config", "Include x.conf\n", []sshdConfigFile{{path: "/etc/ssh/x.conf"}}, true); complete {
		t.Error("an unreadable included file left the blocks complete")
	}
}

// TestSSHDFactsListenerAndMatch reads the sshd facts of a probe output that
// found the listener with -f and -o options, and Match blocks with their
// sshd -T -C answers.
func TestSSHDFactsListenerAndMatch(t *testing.T) {
	const cfg = "/srv/ssh/sshd_config"
	conf := "PasswordAuthentication yes\nMatch User bob\n  PasswordAuthentication no\nMatch Group wheel\n  PermitRootLogin no\n"
	sshdT := "passwordauthentication yes\nkbdinteractiveauthentication yes\nusepam yes\npermitemptypasswords no\npermitrootlogin yes\nauthenticationmethods any"
	bobT := strings.Replace(sshdT, "passwordauthentication yes", "passwordauthentication no", 1)
	secs := []sec{
		{"id-u", "0", 0},
		{"sshd-listener", "pid 42\nfrom exe\nbinary /opt/ssh/sbin/sshd\narg -f\narg " + cfg + "\narg -o\narg UsePAM=yes", 0},
		{"sshd-T", sshdT, 0},
		{"sshd_config " + cfg, conf, 0},
		{"sshd-T-C user=bob,host=factorgate.invalid,addr=192.0.2.1 2 " + cfg, bobT, 0},
		// A spec that does not match its block is not trusted.
		{"sshd-T-C user=alice,host=factorgate.invalid,addr=192.0.2.1 4 " + cfg, bobT, 0},
	}
	s := sshdFacts(mustSplit(t, secs...), nil, nil)
	if s == nil || lxStr(s.Binary) != "/opt/ssh/sbin/sshd" || lxStr(s.Config) != cfg || s.Listener != "process" || s.ListenerError != nil {
		t.Fatalf("sshd = %+v", s)
	}
	if len(s.MatchBlocks) != 2 {
		t.Fatalf("match blocks = %+v", s.MatchBlocks)
	}
	bob, wheel := s.MatchBlocks[0], s.MatchBlocks[1]
	if bob.Line != 2 || bob.File != cfg || bob.Effective["passwordauthentication"] != "no" || bob.Effective["permitrootlogin"] != "yes" {
		t.Errorf("bob = %+v", bob)
	}
	if wheel.Line != 4 || wheel.Effective != nil || wheel.Settings["permitrootlogin"] != "no" {
		t.Errorf("wheel = %+v", wheel)
	}

	// Not found: the first sshd on the PATH, and why.
	secs[1] = sec{"sshd-listener", "error no sshd among the probe's ancestors (ancestry: 7:sh 1:init)\nbinary /usr/sbin/sshd", 1}
	secs[3].name = "sshd_config /etc/ssh/sshd_config"
	s = sshdFacts(mustSplit(t, secs[:4]...), nil, nil)
	if s == nil || lxStr(s.Binary) != "/usr/sbin/sshd" || s.Config != nil || s.Listener != "path" ||
		lxStr(s.ListenerError) != "no sshd among the probe's ancestors (ancestry: 7:sh 1:init)" || len(s.MatchBlocks) != 2 {
		t.Errorf("sshd = %+v", s)
	}
}

// TestSSHDFactsSudoersHint: sshd -T could not run for a user who is not
// root; the source names the sudoers line for the binary, options and
// config found, with the connection OpenSSH 7.x needs when it says so.
func TestSSHDFactsSudoersHint(t *testing.T) {
	listener := sec{"sshd-listener", "pid 42\nfrom cmdline\nbinary /usr/sbin/sshd\narg -f\narg /etc/ssh/sshd_config\narg -o\narg Port=2222", 0}
	tests := []struct {
		name string
		secs []sec
		want string
	}{
		{"config unreadable", []sec{{"id-u", "1000", 0}, {"id-un", "ops", 0}, listener,
			{"sshd-T", "/etc/ssh/sshd_config: Permission denied", 255}, {"sshd-T-sudo", "sudo: a password is required", 1},
			{"sshd_config /etc/ssh/sshd_config", "cat: /etc/ssh/sshd_config: Permission denied", 1}},
			`none; sshd -T needs root, sudoers: ops ALL=(root) NOPASSWD: /usr/sbin/sshd -T -f /etc/ssh/sshd_config -o Port\=2222`},
		{"7.x needs a connection", []sec{{"id-u", "1000", 0}, listener,
			{"sshd-T", "'Match Address' in configuration but 'addr' not in connection test specification.", 255},
			{"sshd_config /etc/ssh/sshd_config", "UsePAM yes\n", 0}},
			`sshd_config; sshd -T needs root, sudoers: #1000 ALL=(root) NOPASSWD: /usr/sbin/sshd -T -f /etc/ssh/sshd_config -o Port\=2222, /usr/sbin/sshd -T -f /etc/ssh/sshd_config -o Port\=2222 -C user\=factorgate\,host\=factorgate.invalid\,addr\=192.0.2.1`},
		{"root needs no hint", []sec{{"id-u", "0", 0}, listener, {"sshd-T", "no hostkeys", 1}}, "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sshdFacts(mustSplit(t, tt.secs...), nil, nil)
			if s == nil || s.Source != tt.want {
				t.Errorf("source = %q\nwant     %q", s.Source, tt.want)
			}
		})
	}
}

// TestLinuxProbeListenerAncestry runs the probe's ancestry walk with sh
// outside any sshd (go test's own process tree): it says no sshd is among
// the ancestors and falls back to the PATH.
func TestLinuxProbeListenerAncestry(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	defs, _, _ := strings.Cut(Linux, "fg_uid=")
	script := defs + "fg_sshd=\nif fg_walk && fg_lread; then echo found $fg_lbin; else echo \"$fg_lerr\"; fi\n"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, sh, "-c", script).Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(string(out), "found") {
		t.Skipf("this test runs under an sshd session: %s", out)
	}
	if !strings.HasPrefix(string(out), "no sshd among the probe's ancestors (ancestry: ") || !strings.Contains(string(out), fmt.Sprintf(" %d:", os.Getpid())) {
		t.Errorf("ancestry walk said %q, want no sshd, naming this test's pid %d", out, os.Getpid())
	}
}

// FuzzSSHDMatchBlocks reads arbitrary configuration text for its Match
// blocks and checks arbitrary connection specs against them: no panic,
// every block lies in the file at a Match line, and a block for every
// connection matches the probe's default connection.
func FuzzSSHDMatchBlocks(f *testing.F) {
	addCaptureSeeds(f, func(out []byte, _ string) {
		p, err := splitProbeSections(out)
		if err != nil {
			return
		}
		for _, s := range p.sections {
			if strings.HasPrefix(s.name, "sshd_config ") {
				f.Add(s.text, "user=bob,host=h,addr=10.0.0.1")
			}
		}
	})
	f.Add("Match User bob,!root Address 10.0.0.0/8\n PasswordAuthentication no\nMatch Address *\nAuthenticationMethods \"publickey\"\n", sshdAnyConnSpec)
	f.Add("Match all\nInclude x.conf\n", "user=a*,host=?,addr=::1")
	f.Fuzz(func(t *testing.T, conf, spec string) {
		files := []sshdConfigFile{{path: "/etc/ssh/x.conf", text: conf, ok: true}}
		blocks, _ := sshdMatchBlocks("/etc/ssh/sshd_config", conf, files, true)
		lines := strings.Split(conf, "\n")
		for _, b := range blocks {
			if b.Line < 1 || b.Line > len(lines) || len(b.Settings) == 0 {
				t.Fatalf("block %+v outside the file or without settings", b)
			}
			if k, _ := splitSSHDConfigLine(lines[b.Line-1]); k != kwMatch {
				t.Fatalf("block %+v does not start at a Match line: %q", b, lines[b.Line-1])
			}
			if b.AllConnections && !matchSpecMatches(b.Criteria, sshdAnyConnSpec) && !strings.Contains(strings.ToLower(b.Criteria), "group") && !strings.Contains(strings.ToLower(b.Criteria), "localaddress") && !strings.Contains(strings.ToLower(b.Criteria), "rdomain") {
				t.Fatalf("block %q is for every connection, yet the default connection does not match it", b.Criteria)
			}
			matchSpecMatches(b.Criteria, spec)
		}
	})
}

// TestSSHDConfigIncludeLoopBounded: a file that includes itself several
// times (sshd refuses it; probe output can still say so) is read within a
// bound, and the result is unknown.
func TestSSHDConfigIncludeLoopBounded(t *testing.T) {
	loop := "Include /etc/ssh/a.conf\nInclude /etc/ssh/a.conf\nInclude /etc/ssh/a.conf\nMatch User x\nPasswordAuthentication no\n"
	files := []sshdConfigFile{{path: "/etc/ssh/a.conf", text: loop, ok: true}}
	if _, complete := parseSSHDConfig(loop, files, true); complete {
		t.Error("parseSSHDConfig: an include loop read as complete")
	}
	if _, complete := sshdMatchBlocks("/etc/ssh/a.conf", loop, files, true); complete {
		t.Error("sshdMatchBlocks: an include loop read as complete")
	}
}

// TestLinuxProbeListenerCommandLine runs the probe's fg_lread with sh on
// command lines of a listening sshd, as /proc/PID/cmdline holds them: the
// argument vector, or since OpenSSH 8.2 the listener's title, where only
// KEYWORD=VALUE -o options survive the blanks.
func TestLinuxProbeListenerCommandLine(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	self, err := os.Executable() // an executable absolute path for argv[0]
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, cmdline, want string
	}{
		{"argv", self + "\x00-D\x00-f\x00/etc/ssh/alt config\x00-o\x00AuthorizedKeysCommand /x %u\x00-e\x00",
			"ok " + self + " [-f] [/etc/ssh/alt config] [-o] [AuthorizedKeysCommand /x %u]"},
		{"argv, bundled", self + "\x00-Def/srv/sshd_config\x00-oUsePAM=no\x00",
			"ok " + self + " [-f] [/srv/sshd_config] [-o] [UsePAM=no]"},
		{"title", "sshd: " + self + " -D -o AuthorizedKeysCommand /x %u -o UsePAM=no -f /srv/sshd_config [listener] 0 of 10-100 startups\x00\x00\x00",
			"ok " + self + " [-o] [UsePAM=no] [-f] [/srv/sshd_config]"},
		{"relative config", self + "\x00-f\x00sshd_config\x00", "error sshd process 1 reads its configuration from a relative path"},
		{"argv[0] not found", "/nonexistent/sshd\x00-D\x00", "error cannot tell the executable of sshd process 1 (argv[0] /nonexistent/sshd)"},
	}
	defs, _, _ := strings.Cut(Linux, "fg_uid=")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(dir+"/cmdline", []byte(tt.cmdline), 0o644); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(defs, `"/proc/$fg_lpid/cmdline"`) || !strings.Contains(defs, `"/proc/$fg_lpid/exe"`) {
				t.Fatal("fg_lread no longer reads /proc/$fg_lpid/cmdline and exe")
			}
			script := strings.ReplaceAll(defs, `"/proc/$fg_lpid/`, `"`+dir+`/`) +
				"fg_lpid=1\nif fg_lread; then printf 'ok %s' \"$fg_lbin\"; IFS=$fg_nl; set -f; for a in $fg_la; do printf ' [%s]' \"$a\"; done; else printf 'error %s' \"$fg_lerr\"; fi\n"
			out, err := exec.Command(sh, "-c", script).Output()
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got  %s\nwant %s", out, tt.want)
			}
		})
	}
}

// TestLinuxProbeAncestryWalk runs the probe's walk under a chain of
// processes named as OpenSSH 9.8 names them (a listener "sshd", then the
// per-connection "sshd-session"), copies of sh, itself started by a shell
// under another "sshd": the listener found is the topmost sshd of the
// chain right above the probe, with its executable.
func TestLinuxProbeAncestryWalk(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	body, err := os.ReadFile(sh)
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(dir+"/decoy", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sshd", "sshd-session", "decoy/sshd"} {
		if err := os.WriteFile(dir+"/"+name, body, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	defs, _, _ := strings.Cut(Linux, "fg_uid=")
	walk := defs + "fg_sshd=\nif fg_walk && fg_lread; then echo found $fg_lpid $fg_lbin; else echo \"$fg_lerr\"; fi\n"
	if err := os.WriteFile(dir+"/walk.sh", []byte(walk), 0o644); err != nil {
		t.Fatal(err)
	}
	// Each level runs the next and then true, so that no shell replaces
	// itself with its last command.
	listener := "echo listener $$; " + dir + "/sshd-session -c '" + sh + " " + dir + "/walk.sh; true'; true"
	if err := os.WriteFile(dir+"/listener.sh", []byte(listener+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	decoy := sh + " -c '" + dir + "/sshd " + dir + "/listener.sh; true'; true"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, dir+"/decoy/sshd", "-c", decoy).Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		t.Fatalf("output %q", out)
	}
	pid := strings.TrimPrefix(lines[0], "listener ")
	if want := "found " + pid + " " + dir + "/sshd"; lines[1] != want {
		t.Errorf("walk said %q, want %q", lines[1], want)
	}
}

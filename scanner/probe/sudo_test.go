package probe

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLinuxNoSudo checks that the two probes differ only in their
// sudo switch, and that the one without sudo never runs it on this machine.
func TestLinuxNoSudo(t *testing.T) {
	if strings.Replace(Linux, "fg_sudo=yes\n", "fg_sudo=no\n", 1) != LinuxNoSudo {
		t.Fatal("Linux and LinuxNoSudo differ beyond their sudo switch")
	}
	if strings.Contains(LinuxNoSudo, "fg_sudo=yes") || !strings.Contains(LinuxNoSudo, `[ "$fg_sudo" = yes ]`) {
		t.Fatal("LinuxNoSudo does not turn the sudo attempt off")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	// sh functions shadow commands: a non-root id, and a sudo that records
	// its calls; plain sshd -T fails. Linux then calls sudo (the
	// control) and LinuxNoSudo must not.
	for _, probe := range []string{Linux, LinuxNoSudo} {
		dir := t.TempDir()
		mark := filepath.Join(dir, "sudo-ran")
		shadow := "id() { echo 1000; }\nsudo() { : >" + mark + "; echo 'sudo: a password is required'; return 1; }\n"
		// An sshd whose -T fails, in place of the system's.
		sshd := filepath.Join(dir, "sshd")
		if err := os.WriteFile(sshd, []byte("#!/bin/sh\necho 'sshd: no hostkeys available -- exiting.'\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		const sshdPaths = "/usr/sbin/sshd /usr/local/sbin/sshd /sbin/sshd /usr/bin/sshd"
		if !strings.Contains(probe, sshdPaths) {
			t.Fatal("the probe no longer looks for sshd in " + sshdPaths)
		}
		script := strings.Replace(probe, "\nexport LC_ALL=C\n", "\n"+shadow+"export LC_ALL=C\n", 1)
		script = strings.Replace(script, sshdPaths, sshd, 1)
		// The PATH's sshd, even when this test runs under an sshd session.
		const walk = "if fg_walk && fg_lread; then"
		if !strings.Contains(script, walk) {
			t.Fatal("the probe no longer walks its ancestry with: " + walk)
		}
		script = strings.Replace(script, walk, "if false; then", 1)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := exec.CommandContext(ctx, sh, "-c", script).Output()
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		p, err := splitProbeSections(out)
		if err != nil {
			t.Fatal(err)
		}
		_, ran := os.Stat(mark)
		sudoSection := p.section("sshd-T-sudo") != nil
		if probe == LinuxNoSudo {
			if ran == nil || sudoSection {
				t.Errorf("LinuxNoSudo ran sudo (section printed: %v)", sudoSection)
			}
			continue
		}
		if s := p.section("sshd-T"); s == nil || s.rc == 0 {
			t.Fatalf("the stand-in sshd -T did not fail: %+v", s)
		}
		if ran != nil || !sudoSection {
			t.Errorf("Linux did not try sudo after sshd -T failed (control)")
		}
	}
}

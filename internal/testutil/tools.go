package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Missing skips the test for want of a tool, or fails it when
// FACTORGATE_REQUIRE_TOOLS=1 (as CI sets it, so that a tool missing there
// is a failure, never a silent skip). msg says what is missing and how to
// get it.
func Missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("FACTORGATE_REQUIRE_TOOLS") == "1" {
		tb.Fatalf("%s, and FACTORGATE_REQUIRE_TOOLS=1", msg)
	}
	tb.Skip(msg)
}

// Tool finds the command name on the PATH, or calls [Missing] with how to
// install it.
func Tool(tb testing.TB, name, install string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(tb, "%s not found (%s)", name, install)
	}
	return p
}

// ToolFile is the file the environment variable env names (a tool CI puts
// in place, such as axe.min.js or the OpenSSH 7.9p1 sshd), or calls
// [Missing] when it is unset or absent.
func ToolFile(tb testing.TB, env, what string) string {
	tb.Helper()
	p := os.Getenv(env)
	if p == "" {
		Missing(tb, "%s unset: it names %s", env, what)
		return ""
	}
	if _, err := os.Stat(p); err != nil {
		Missing(tb, "%s: %v", env, err)
	}
	return p
}

// Chromium finds Debian's Chromium (or another Chrome), or calls [Missing];
// FACTORGATE_REQUIRE_CHROMIUM=1 makes its absence a failure too.
func Chromium(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("FACTORGATE_REQUIRE_CHROMIUM") == "1" {
		tb.Fatal("chromium not found and FACTORGATE_REQUIRE_CHROMIUM=1: apt-get install chromium")
	}
	Missing(tb, "chromium not found (apt-get install chromium)")
	return ""
}

// ArtifactDir is where a test leaves what a person may want to look at (a
// screenshot): $FACTORGATE_ARTIFACTS if set, else a temporary directory.
func ArtifactDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("FACTORGATE_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatal(err)
		}
		return d
	}
	return tb.TempDir()
}

// AxeScript is axe-core's axe.min.js, read from $FACTORGATE_AXE, for the
// accessibility checks of the browser tests; "" when it is unset (the check
// is then left out, with a note), a failure under FACTORGATE_REQUIRE_TOOLS=1.
func AxeScript(tb testing.TB) string {
	tb.Helper()
	p := os.Getenv("FACTORGATE_AXE")
	if p == "" {
		if os.Getenv("FACTORGATE_REQUIRE_TOOLS") == "1" {
			tb.Fatal("FACTORGATE_AXE is not set (the path of axe-core's axe.min.js), and FACTORGATE_REQUIRE_TOOLS=1")
		}
		tb.Log("FACTORGATE_AXE is not set: accessibility check left out")
		return ""
	}
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatalf("FACTORGATE_AXE: %v", err)
	}
	return string(b)
}

package policies_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/policies"
)

// contributing is CONTRIBUTING.md, read from the repository root.
func contributing(t *testing.T) string {
	t.Helper()
	return string(mustRead(t, "../CONTRIBUTING.md"))
}

// placeholder matches the names CONTRIBUTING.md leaves to the reader
// (parse_FACT.go, CHECK.rego).
var placeholder = regexp.MustCompile(`[A-Z]{4,}`)

// declares reports whether one of the Go files matches declares name (a
// func, method, type, const or var) at top level.
func declares(t *testing.T, files []string, name string) bool {
	t.Helper()
	re := regexp.MustCompile(`(?m)^(func (\([^)]*\) )?|type |const |var |\t)` + regexp.QuoteMeta(name) + `\b`)
	for _, f := range files {
		if re.Match(mustRead(t, f)) {
			return true
		}
	}
	return false
}

// TestContributingWalkthrough keeps CONTRIBUTING.md true: the steps of
// "Adding a Linux fact and its check" name at most four production files,
// each named file exists, each named function, type or constant is
// declared where the page says, every other file or test it names exists,
// and its example check is a valid check of the bundle.
func TestContributingWalkthrough(t *testing.T) {
	doc := contributing(t)
	_, section, ok := strings.Cut(doc, "\n## Adding a Linux fact and its check\n")
	if !ok {
		t.Fatal(`CONTRIBUTING.md has no "## Adding a Linux fact and its check"`)
	}
	code := regexp.MustCompile("`([^`]+)`")

	// The table of steps: step, production file, what, where.
	var steps int
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if !strings.HasPrefix(line, "| ") || len(cells) != 4 || !regexp.MustCompile(`^ \d\.`).MatchString(cells[0]) {
			continue
		}
		steps++
		m := code.FindStringSubmatch(cells[1])
		if m == nil {
			t.Errorf("step %q names no file", cells[0])
			continue
		}
		// A new file (parse_FACT.go): the rest is declared in its package.
		file := filepath.Join("..", m[1])
		files := []string{file}
		if placeholder.MatchString(filepath.Base(file)) {
			files, _ = filepath.Glob(filepath.Join(filepath.Dir(file), "*.go"))
		}
		if _, err := os.Stat(filepath.Dir(file)); err != nil {
			t.Errorf("step %q: %v", cells[0], err)
			continue
		}
		if !placeholder.MatchString(filepath.Base(file)) {
			if _, err := os.Stat(file); err != nil {
				t.Errorf("step %q: %v", cells[0], err)
				continue
			}
		}
		for _, n := range code.FindAllStringSubmatch(cells[3], -1) {
			name := n[1]
			if strings.HasPrefix(name, "package ") {
				if !strings.HasPrefix(name, "package factorgate.checks.") {
					t.Errorf("step %q: checks live under factorgate.checks, not %s", cells[0], name)
				}
				continue
			}
			if !strings.HasSuffix(file, ".go") {
				continue
			}
			if !declares(t, files, name) {
				t.Errorf("step %q: %s is not declared in %s", cells[0], name, m[1])
			}
		}
	}
	if steps == 0 || steps > 4 {
		t.Errorf("%d production files in the walkthrough, want 1 to 4", steps)
	}

	// Every concrete file the page names exists.
	prose := regexp.MustCompile("(?s)```.*?```").ReplaceAllString(doc, "")
	for _, m := range code.FindAllStringSubmatch(prose, -1) {
		p := m[1]
		if strings.ContainsAny(p, " *") || placeholder.MatchString(p) || !regexp.MustCompile(`^[\w./-]+\.(go|rego|md)$`).MatchString(p) || !strings.Contains(p, "/") {
			continue
		}
		if _, err := os.Stat(filepath.Join("..", p)); err != nil {
			t.Errorf("CONTRIBUTING.md names %s: %v", p, err)
		}
	}

	// Go names it cites: policies.Checks, lib.unconfirmed and the tests.
	if !declares(t, goFiles(t, "."), "Checks") {
		t.Error("policies.Checks is gone")
	}
	if !strings.Contains(string(mustRead(t, "bundle/lib.rego")), "\nunconfirmed(") {
		t.Error("lib.unconfirmed is gone from policies/bundle/lib.rego")
	}
	if !declares(t, goFiles(t, "."), "TestReadmeTableMatchesCatalogue") {
		t.Error("TestReadmeTableMatchesCatalogue is gone")
	}

	// The golden commands run tests that exist, in packages with -update.
	cmds := regexp.MustCompile(`go test (\./[\w/]+)(?: -run (\w+))? -update`).FindAllStringSubmatch(doc, -1)
	if len(cmds) == 0 {
		t.Error("CONTRIBUTING.md names no command that rewrites golden files")
	}
	for _, c := range cmds {
		files := goFiles(t, filepath.Join("..", c[1]))
		var all strings.Builder
		for _, f := range files {
			all.Write(mustRead(t, f))
		}
		if !strings.Contains(all.String(), `flag.Bool("update"`) && !strings.Contains(all.String(), "testutil.Update()") && !strings.Contains(all.String(), "testutil.Golden(") {
			t.Errorf("%s: no -update flag in %s", c[0], c[1])
		}
		if c[2] != "" && !declares(t, files, c[2]) {
			t.Errorf("%s: no test %s in %s", c[0], c[2], c[1])
		}
	}

	// The example check, dropped into a copy of the bundle, is a check.
	m := regexp.MustCompile("(?s)```rego\n(.*?)```").FindStringSubmatch(section)
	if m == nil {
		t.Fatal("CONTRIBUTING.md has no example check")
	}
	dir := t.TempDir()
	copyBundle(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "bundle", "login_banner.rego"), []byte(m[1]), 0o644); err != nil {
		t.Fatal(err)
	}
	restore := policies.UseBundleDir(dir)
	defer restore()
	cs, err := policies.Checks()
	if err != nil {
		t.Fatalf("the example check: %v", err)
	}
	if !slices.ContainsFunc(cs, func(c policies.Check) bool { return c.ID == "login_banner" && c.Title == "Login banner set" }) {
		t.Errorf("the example check is not in the catalogue: %+v", cs)
	}
	ev, err := policies.New(context.Background(), policies.Options{})
	if err != nil {
		t.Fatalf("the example check does not compile: %v", err)
	}
	d, err := ev.Decide(context.Background(), []byte(`{"schema": "factorgate/facts/v1", "host": {"name": "h"}, "reachable": true, "os": {"family": "linux"}, "sshd": {"banner": ""}}`))
	if err != nil || !hasCheck(d.Violations, "login_banner") {
		t.Errorf("the example check gives no violation: %+v, %v", d.Violations, err)
	}
}

func goFiles(t *testing.T, dir string) []string {
	t.Helper()
	fs, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(fs) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	return fs
}

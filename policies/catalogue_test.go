package policies_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/policies"
	"github.com/factorgate/factorgate/report"
)

// bundleChecks are the check files of the embedded bundle, by ID.
func bundleChecks(t *testing.T) []string {
	t.Helper()
	var ids []string
	for _, name := range policies.BundleFiles() {
		base := strings.TrimSuffix(filepath.Base(name), ".rego")
		if strings.HasSuffix(base, "_test") || base == "decision" || base == "lib" {
			continue
		}
		ids = append(ids, base)
	}
	return ids
}

// TestChecksCatalogue checks that every check of the bundle describes
// itself in its METADATA, and that Checks hands out copies.
func TestChecksCatalogue(t *testing.T) {
	cs, err := policies.Checks()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
		if c.Title == "" || c.Description == "" || len(c.Sources) == 0 || c.Severity != "high" || c.SARIFLevel != "error" || len(c.Platforms) == 0 {
			t.Errorf("check %s: incomplete %+v", c.ID, c)
		}
		for _, s := range c.Sources {
			if !strings.HasPrefix(s, "hss_01_") {
				t.Errorf("check %s: source %q is not an HSS user guide page", c.ID, s)
			}
		}
	}
	if want := bundleChecks(t); !slices.Equal(ids, want) {
		t.Errorf("catalogue = %v, want the bundle's check files %v", ids, want)
	}
	cs[0].Sources[0] = "changed"
	again, _ := policies.Checks()
	if again[0].Sources[0] == "changed" {
		t.Error("Checks shares its slices with callers")
	}
}

// readmeChecks reads the table of README.md's "What it checks" section:
// check ID, platforms (the Linux and Windows columns) and source pages.
func readmeChecks(t *testing.T) map[string][2][]string {
	t.Helper()
	src, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(src), "\n## What it checks\n")
	if !ok {
		t.Fatal(`README.md has no "## What it checks" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	out := map[string][2][]string{}
	var header []string
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if header == nil {
			header = cells
			continue
		}
		if strings.HasPrefix(cells[0], "---") {
			continue
		}
		col := func(name string) string {
			i := slices.Index(header, name)
			if i < 0 || i >= len(cells) {
				t.Fatalf("README check table: no column %q in %v", name, header)
			}
			return cells[i]
		}
		id := strings.Trim(col("check"), "`")
		var plats []string
		if col("Linux") == "x" {
			plats = append(plats, "linux")
		}
		if col("Windows") == "x" {
			plats = append(plats, "windows")
		}
		var sources []string
		for _, s := range strings.Split(col("source page"), ",") {
			sources = append(sources, strings.TrimSpace(s))
		}
		out[id] = [2][]string{plats, sources}
	}
	return out
}

// TestReadmeTableMatchesCatalogue checks that README.md's check table
// lists the catalogue's checks, with their platforms and source pages.
func TestReadmeTableMatchesCatalogue(t *testing.T) {
	cs, err := policies.Checks()
	if err != nil {
		t.Fatal(err)
	}
	readme := readmeChecks(t)
	for _, c := range cs {
		row, ok := readme[c.ID]
		if !ok {
			t.Errorf("README's check table lacks %s", c.ID)
			continue
		}
		if !slices.Equal(row[0], c.Platforms) {
			t.Errorf("README: %s on %v, METADATA says %v", c.ID, row[0], c.Platforms)
		}
		if !slices.Equal(row[1], c.Sources) {
			t.Errorf("README: %s sources %v, METADATA says %v", c.ID, row[1], c.Sources)
		}
		delete(readme, c.ID)
	}
	for id := range readme {
		t.Errorf("README's check table lists %s, which the bundle does not have", id)
	}
}

// newCheck is a check dropped into a copy of the bundle: one file, with
// its METADATA and rules, as CONTRIBUTING.md describes.
const newCheck = `# METADATA
# title: Login banner set
# description: |
#   Linux only: sshd shows a login banner.
# custom:
#   sources: [hss_01_9999]
#   severity: high
#   sarif_level: warning
#   platforms: [linux]
package factorgate.checks.login_banner

violations contains {
	"check": "login_banner",
	"message": "sshd shows no login banner",
	"remediation": "Set Banner in sshd_config",
	"severity": "high",
} if {
	input.os.family == "linux"
	not input.sshd.banner
}

warnings contains {
	"check": "login_banner",
	"message": "the banner is short",
	"remediation": "Say more",
	"severity": "low",
} if {
	input.os.family == "linux"
	count(input.sshd.banner) < 5
}
`

// copyBundle copies the embedded bundle into dir/bundle.
func copyBundle(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "bundle"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range policies.BundleFiles() {
		src, err := os.ReadFile(name) // the package directory holds bundle/
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestNewCheckIsOneFile drops one new check file into a copy of the
// bundle and checks, touching nothing else, that the check is in the
// catalogue, that its findings reach the decision (violations and
// warnings) and that the SARIF log lists its rule with its title and
// level.
func TestNewCheckIsOneFile(t *testing.T) {
	dir := t.TempDir()
	copyBundle(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "bundle", "login_banner.rego"), []byte(newCheck), 0o644); err != nil {
		t.Fatal(err)
	}
	restore := policies.UseBundleDir(dir)
	defer restore()

	cs, err := policies.Checks()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(cs, func(c policies.Check) bool { return c.ID == "login_banner" })
	if i < 0 {
		t.Fatalf("login_banner not in the catalogue: %+v", cs)
	}
	if c := cs[i]; c.Title != "Login banner set" || c.SARIFLevel != "warning" || !slices.Equal(c.Platforms, []string{"linux"}) || !slices.Equal(c.Sources, []string{"hss_01_9999"}) {
		t.Errorf("login_banner = %+v", c)
	}

	ev, err := policies.New(context.Background(), policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	facts := map[string]any{}
	for _, line := range bytes.Split(mustRead(t, "../testdata/facts/sample.jsonl"), []byte("\n")) {
		var f map[string]any
		if json.Unmarshal(line, &f) == nil && f["host"].(map[string]any)["name"] == "web-01" {
			facts = f
		}
	}
	facts["sshd"].(map[string]any)["banner"] = "hi"
	raw, _ := json.Marshal(facts)
	d, err := ev.Decide(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != contract.StatusEligible || !hasCheck(d.Warnings, "login_banner") {
		t.Errorf("web-01 with a short banner: %s, warnings %+v", d.Status, d.Warnings)
	}
	delete(facts["sshd"].(map[string]any), "banner")
	raw, _ = json.Marshal(facts)
	if d, err = ev.Decide(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	if d.Status != contract.StatusIneligible || !hasCheck(d.Violations, "login_banner") {
		t.Errorf("web-01 without a banner: %s, violations %+v", d.Status, d.Violations)
	}

	var buf bytes.Buffer
	r := contract.NewReport(time.Time{}, []contract.Decision{{Host: "x", Status: contract.StatusEligible}})
	if err := report.RenderReport(&buf, "sarif", r); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID                   string
						ShortDescription     struct{ Text string }
						DefaultConfiguration struct{ Level string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, rule := range log.Runs[0].Tool.Driver.Rules {
		if rule.ID == "login_banner" {
			found = rule.ShortDescription.Text == "Login banner set" && rule.DefaultConfiguration.Level == "warning"
		}
	}
	if !found {
		t.Errorf("SARIF rules lack login_banner with its title and level:\n%s", buf.String())
	}

	// Only the new file differs from the embedded bundle.
	err = fs.WalkDir(os.DirFS(dir), "bundle", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || p == "bundle/login_banner.rego" {
			return err
		}
		if !bytes.Equal(mustRead(t, filepath.Join(dir, p)), mustRead(t, p)) {
			t.Errorf("%s was changed", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCatalogueErrors checks that a check without its METADATA fields is
// refused with the file and the field at fault.
func TestCatalogueErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"no metadata", "package factorgate.checks.bare\n\nviolations contains 1 if false\n", "bundle/bare.rego:1: package factorgate.checks.bare: no METADATA"},
		{"bad level", strings.Replace(newCheck, "sarif_level: warning", "sarif_level: loud", 1), "bundle/bare.rego:1: METADATA custom.sarif_level: loud, want one of none, note, warning, error"},
		{"no sources", strings.Replace(newCheck, "#   sources: [hss_01_9999]\n", "", 1), "bundle/bare.rego:1: METADATA custom.sources: <nil>, want a list"},
		{"bad platform", strings.Replace(newCheck, "platforms: [linux]", "platforms: [aix]", 1), "custom.platforms: aix, want names among linux, windows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			copyBundle(t, dir)
			src := strings.Replace(tc.src, "factorgate.checks.login_banner", "factorgate.checks.bare", 1)
			if err := os.WriteFile(filepath.Join(dir, "bundle", "bare.rego"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			restore := policies.UseBundleDir(dir)
			defer restore()
			_, err := policies.Checks()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func hasCheck(fs []contract.Finding, id string) bool {
	return slices.ContainsFunc(fs, func(f contract.Finding) bool { return f.Check == id })
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

package waiver

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

const knownSrc = `waivers:
  - host: "web-*"
    check: selinux
    justification: j
    expires: 2027-01-31
  - selector: {env: prod}
    justification: j
    check: selinx
    expires: 2027-01-31
  - host: db-01
    check: nonsense
    justification: old
    expires: 2026-11-01
`

var bundled = []string{"must_change_password", "openssh_version", "os_supported", "password_login", "protection", "rdp", "reachable", "selinux", "topic"}

func TestCheckKnown(t *testing.T) {
	f, err := ParseFile("w.yaml", []byte(knownSrc), now)
	if err != nil {
		t.Fatal(err)
	}
	err = f.CheckKnown(bundled)
	const want = `w.yaml:8: check: no loaded policy defines check "selinx" (did you mean selinux?)`
	if err == nil || err.Error() != want {
		t.Errorf("CheckKnown = %v, want %s", err, want)
	}
	// An expired entry is dropped before it is checked.
	if err := f.CheckKnown(append(bundled, "selinx")); err != nil {
		t.Errorf("CheckKnown with every live check known = %v, want nil", err)
	}
	// A user policy's check.
	g, err := ParseFile("u.yaml", []byte("waivers:\n  - host: a\n    check: acme.rack\n    justification: j\n    expires: 2027-01-31\n"), now)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing known is near enough to suggest.
	if err := g.CheckKnown(bundled); err == nil || err.Error() != `u.yaml:3: check: no loaded policy defines check "acme.rack"` {
		t.Errorf("CheckKnown(bundle only) = %v", err)
	}
	if err := g.CheckKnown(append(bundled, "acme.rack")); err != nil {
		t.Errorf("CheckKnown(with acme.rack) = %v", err)
	}
}

func TestCoverage(t *testing.T) {
	src := `waivers:
  - host: "web-*"
    check: selinux
    justification: j
    expires: 2027-01-31
  - selector: {env: prod, tier: db}
    check: selinux
    justification: j
    expires: 2027-01-31
  - host: "wbe-01"
    check: selinux
    justification: j
    expires: 2027-01-31
  - selector: {env: staging}
    check: rdp
    justification: j
    expires: 2027-01-31
`
	path := filepath.Join(t.TempDir(), "w.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := LoadFile(path, now)
	if err != nil {
		t.Fatal(err)
	}
	c := f.Coverage()
	c.Host("web-01", map[string]string{"env": "prod"})
	c.Host("db-01", map[string]string{"env": "prod", "tier": "db"})
	c.Host("win-02", map[string]string{"env": "staging"})
	if got, want := c.Unmatched(), []string{path + ":10: waiver for selinux on wbe-01 matches no host of this run"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Unmatched = %q, want %q", got, want)
	}
	c = f.Coverage()
	c.Host("web-01", map[string]string{"env": "prod"})
	c.Host("db-01", map[string]string{"env": "prod"})
	want := []string{
		path + ":6: waiver for selinux on hosts with env=prod,tier=db matches no host of this run",
		path + ":10: waiver for selinux on wbe-01 matches no host of this run",
		path + ":14: waiver for rdp on hosts with env=staging matches no host of this run",
	}
	if got := c.Unmatched(); !reflect.DeepEqual(got, want) {
		t.Errorf("Unmatched =\n%q\nwant\n%q", got, want)
	}
}

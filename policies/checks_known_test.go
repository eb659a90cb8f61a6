package policies

import (
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

func TestKnownChecksOfTheBundle(t *testing.T) {
	ids, complete, err := KnownChecks(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"must_change_password", "openssh_version", "os_supported", "password_login", "protection", "rdp", "reachable", "selinux", "topic"}
	if !reflect.DeepEqual(ids, want) || !complete {
		t.Errorf("KnownChecks(nil) = %q, %v; want %q, true", ids, complete, want)
	}
}

func TestKnownChecksOfUserPolicies(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "rack.rego", "package factorgate.acme\n\nviolations contains sprintf(\"%s has no rack label\", [input.host.name]) if not input.host.labels.rack\n")
	writeFile(t, dir, "banner.rego", "package factorgate.acme.ssh\n\nwarnings contains {\"check\": \"acme.banner\", \"message\": \"no legal banner\"} if not input.sshd.banner\n")
	writeFile(t, dir, "helper.rego", "package acme.util\n\nx := 1\n")
	ids, complete, err := KnownChecks([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"acme", "acme.ssh", "acme.banner", "selinux"} {
		if !slices.Contains(ids, id) {
			t.Errorf("KnownChecks = %q: want %s among them", ids, id)
		}
	}
	if slices.Contains(ids, "acme.util") || slices.Contains(ids, "util") {
		t.Errorf("KnownChecks = %q: a package without findings is no check", ids)
	}
	if !complete {
		t.Error("complete = false, want true: every check ID is a literal")
	}

	writeFile(t, dir, "computed.rego", "package factorgate.acme.dyn\n\nviolations contains {\"check\": concat(\".\", [\"acme\", k]), \"message\": k} if some k in input.host.labels\n")
	if _, complete, err = KnownChecks([]string{dir}); err != nil || complete {
		t.Errorf("with a computed check: complete = %v, err %v; want false, nil", complete, err)
	}

	bad := filepath.Join(t.TempDir(), "bad.rego")
	writeFile(t, filepath.Dir(bad), "bad.rego", "package factorgate.bad\n\nviolations contains x if {\n")
	if _, _, err := KnownChecks([]string{bad}); err == nil {
		t.Error("a policy that does not parse: no error")
	}
}

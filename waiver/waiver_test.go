package waiver

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"
)

var now = time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "waivers.yaml")
	src := `# accepted risks
waivers:
  - host: "web-*"
    check: selinux
    justification: "Vendor agent needs SELinux until the Q1 migration, CHG-1042"
    expires: 2027-01-31
  - selector: {env: prod, tier: "1"}
    check: password_login
    justification: >
      Bastion logins only
    expires: "2026-11-27"
  - host: db-01
    check: topic
    justification: old
    expires: 2026-11-26
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	entries, warnings, err := Load(path, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"host": "web-*", "selector": nil, "check": "selinux", "justification": "Vendor agent needs SELinux until the Q1 migration, CHG-1042", "expires": "2027-01-31"},
		{"host": "", "selector": map[string]any{"env": "prod", "tier": "1"}, "check": "password_login", "justification": "Bastion logins only", "expires": "2026-11-27"},
	}
	if !reflect.DeepEqual(entries, want) {
		t.Errorf("entries =\n%v\nwant\n%v", entries, want)
	}
	wantWarn := []string{path + ":12: waiver for topic on db-01 expired on 2026-11-26; ignored"}
	if !reflect.DeepEqual(warnings, wantWarn) {
		t.Errorf("warnings = %q, want %q", warnings, wantWarn)
	}
	// The entries are what the bundle gets as data: plain JSON.
	b, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"selector":null`) || !strings.Contains(string(b), `"host":""`) {
		t.Errorf("JSON = %s", b)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, _, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), now)
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("err = %v", err)
	}
}

func TestParseExpiredSelectorWarning(t *testing.T) {
	_, warnings, err := Parse("w.yaml", []byte("waivers:\n- selector: {tier: 1, env: prod}\n  check: rdp\n  justification: x\n  expires: 2020-01-01\n"), now)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"w.yaml:2: waiver for rdp on hosts with env=prod,tier=1 expired on 2020-01-01; ignored"}; !reflect.DeepEqual(warnings, want) {
		t.Errorf("warnings = %q, want %q", warnings, want)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "# nothing\n", "waivers:\n", "waivers: []\n"} {
		entries, warnings, err := Parse("w.yaml", []byte(src), now)
		if err != nil || len(entries) != 0 || entries == nil || warnings != nil {
			t.Errorf("Parse(%q) = %v, %v, %v; want an empty list", src, entries, warnings, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	const ok = "    check: selinux\n    justification: j\n    expires: 2027-01-31\n"
	for _, tc := range []struct{ name, src, want string }{
		{"unknown top field", "waiver:\n  - host: a\n", `w.yaml:1: unknown field "waiver" (want waivers)`},
		{"unknown entry field", "waivers:\n  - host: a\n    hosts: b\n" + ok, `w.yaml:3: unknown field "hosts" (want one of host, selector, check, justification, expires)`},
		{"missing check", "waivers:\n  - host: a\n    justification: j\n    expires: 2027-01-31\n", "w.yaml:2: waiver: missing check"},
		{"missing justification", "waivers:\n  - host: a\n    check: c\n    expires: 2027-01-31\n", "w.yaml:2: waiver: missing justification"},
		{"empty justification", "waivers:\n  - host: a\n    check: c\n    justification: \"  \"\n    expires: 2027-01-31\n", "w.yaml:4: justification: empty"},
		{"missing expires", "waivers:\n  - host: a\n    check: c\n    justification: j\n", "w.yaml:2: waiver: missing expires"},
		{"bad date", "waivers:\n  - host: a\n    check: c\n    justification: j\n    expires: 2027-02-30\n", `w.yaml:5: expires: "2027-02-30" is not a date YYYY-MM-DD`},
		{"timestamp", "waivers:\n  - host: a\n    check: c\n    justification: j\n    expires: 2027-01-31T00:00:00Z\n", `w.yaml:5: expires: "2027-01-31T00:00:00Z" is not a date YYYY-MM-DD`},
		{"neither", "waivers:\n  -\n" + ok, "w.yaml:3: waiver: missing host or selector"},
		{"both", "waivers:\n  - host: a\n    selector: {env: prod}\n" + ok, "w.yaml:3: waiver: give host or selector, not both"},
		{"empty selector", "waivers:\n  - selector: {}\n" + ok, `w.yaml:2: selector: empty (it would cover every host: use host: "*" to mean that)`},
		{"selector list", "waivers:\n  - selector: [env]\n" + ok, "w.yaml:2: selector: want a mapping of label to value"},
		{"selector null value", "waivers:\n  - selector: {env: }\n" + ok, "w.yaml:2: selector: label env: want a value"},
		{"bracket glob", "waivers:\n  - host: \"web-[12]\"\n" + ok, `w.yaml:2: host: "web-[12]": "[" is not allowed in a host glob (use * and ? only)`},
		{"brace glob", "waivers:\n  - host: \"{a,b}\"\n" + ok, `w.yaml:2: host: "{a,b}": "{" is not allowed in a host glob (use * and ? only)`},
		{"empty host", "waivers:\n  - host: \"\"\n" + ok, "w.yaml:2: host: empty"},
		{"check list", "waivers:\n  - host: a\n    check: [a]\n    justification: j\n    expires: 2027-01-31\n", "w.yaml:3: check: want a string"},
		{"reachable", "waivers:\n  - host: a\n    check: reachable\n    justification: j\n    expires: 2027-01-31\n", "w.yaml:3: check: reachable cannot be waived (whether a host was reached is a fact)"},
		{"duplicate field", "waivers:\n  - host: a\n    host: b\n" + ok, `w.yaml:3: field "host" given twice`},
		{"not a list", "waivers: {host: a}\n", "w.yaml:1: waivers: want a list of waivers"},
		{"entry not a mapping", "waivers:\n  - web-01\n", "w.yaml:2: waiver: want a mapping with host, selector, check, justification, expires"},
		{"top list", "- host: a\n", "w.yaml:1: want a mapping with the key waivers"},
		{"bad yaml", "waivers:\n  - host: a\n   check: b\n", "w.yaml:1: did not find expected '-' indicator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse("w.yaml", []byte(tc.src), now)
			if err == nil || err.Error() != tc.want {
				t.Errorf("err = %v\nwant  %s", err, tc.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	prod := map[string]string{"env": "prod", "tier": "1"}
	for _, tc := range []struct {
		name   string
		entry  map[string]any
		host   string
		labels map[string]string
		want   bool
	}{
		{"glob", map[string]any{"host": "web-*", "selector": nil}, "web-01", nil, true},
		{"glob other", map[string]any{"host": "web-*", "selector": nil}, "db-01", nil, false},
		{"glob whole name", map[string]any{"host": "web", "selector": nil}, "web-01", nil, false},
		{"question mark", map[string]any{"host": "web-0?", "selector": nil}, "web-01", nil, true},
		{"question mark one char", map[string]any{"host": "web-0?", "selector": nil}, "web-011", nil, false},
		{"star any", map[string]any{"host": "*", "selector": nil}, "anything.example.com", nil, true},
		{"selector", map[string]any{"host": "", "selector": map[string]any{"env": "prod"}}, "x", prod, true},
		{"selector all labels", map[string]any{"host": "", "selector": map[string]any{"env": "prod", "tier": "2"}}, "x", prod, false},
		{"selector missing label", map[string]any{"host": "", "selector": map[string]any{"zone": "a"}}, "x", prod, false},
		{"selector no labels", map[string]any{"host": "", "selector": map[string]any{"env": "prod"}}, "x", nil, false},
		{"selector string map", map[string]any{"host": "", "selector": map[string]string{"env": "prod"}}, "x", prod, true},
		{"selector empty value", map[string]any{"host": "", "selector": map[string]any{"env": ""}}, "x", nil, false},
		{"selector wrong type", map[string]any{"host": "", "selector": "env=prod"}, "x", prod, false},
		{"neither", map[string]any{"host": "", "selector": nil}, "x", nil, true},
		{"bad glob", map[string]any{"host": "[", "selector": nil}, "[", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Match(tc.entry, tc.host, tc.labels); got != tc.want {
				t.Errorf("Match(%v, %q, %v) = %v, want %v", tc.entry, tc.host, tc.labels, got, tc.want)
			}
		})
	}
}

// TestMatchAgreesWithRego checks the host globs that Load accepts against
// OPA's glob.match with no delimiters, which the bundle uses: Go and Rego
// must cover the same hosts.
func TestMatchAgreesWithRego(t *testing.T) {
	ctx := context.Background()
	pq, err := rego.New(rego.Query("x := glob.match(input.p, null, input.h)")).PrepareForEval(ctx)
	if err != nil {
		t.Fatal(err)
	}
	patterns := []string{"web-*", "*", "web-0?", "*.example.com", "db-01", "*-01", "w*b*", "?", "a.b", "web-*-prod"}
	hosts := []string{"web-01", "web-", "db-01", "web-011", "a.example.com", "example.com", "a.b.example.com", "web-1-prod", "web-prod", "w", "a.b", "axb", "WEB-01", ""}
	for _, p := range patterns {
		if err := checkGlob(p); err != nil {
			t.Fatalf("checkGlob(%q): %v", p, err)
		}
		for _, h := range hosts {
			rs, err := pq.Eval(ctx, rego.EvalInput(map[string]any{"p": p, "h": h}))
			if err != nil {
				t.Fatal(err)
			}
			want := rs[0].Bindings["x"].(bool)
			if got := Match(map[string]any{"host": p, "selector": nil}, h, nil); got != want {
				t.Errorf("pattern %q host %q: Match %v, glob.match %v", p, h, got, want)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("waivers:\n  - host: \"web-*\"\n    check: selinux\n    justification: j\n    expires: 2027-01-31\n"))
	f.Add([]byte("waivers:\n  - selector: {env: prod}\n    check: rdp\n    justification: j\n    expires: 2020-01-31\n"))
	f.Add([]byte("waivers: [{host: a, check: b, justification: c, expires: 2030-12-31}]"))
	f.Add([]byte("waivers:\n  - &a {host: a}\n  - *a\n"))
	f.Add([]byte("x: [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, warnings, err := Parse("w.yaml", data, now)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "w.yaml") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q does not name the file on one line", msg)
			}
			return
		}
		for _, w := range warnings {
			if !strings.HasPrefix(w, "w.yaml:") || !strings.HasSuffix(w, "; ignored") {
				t.Fatalf("warning %q", w)
			}
		}
		for _, e := range entries {
			h, _ := e["host"].(string)
			sel, _ := e["selector"].(map[string]any)
			if (h == "") == (sel == nil) {
				t.Fatalf("entry %v: want exactly one of host and selector", e)
			}
			for _, k := range []string{"check", "justification", "expires"} {
				if s, _ := e[k].(string); s == "" {
					t.Fatalf("entry %v: empty %s", e, k)
				}
			}
			if e["expires"].(string) < now.Format(DateLayout) {
				t.Fatalf("expired entry %v kept", e)
			}
			if _, err := json.Marshal(e); err != nil {
				t.Fatalf("entry %v is not JSON: %v", e, err)
			}
		}
	})
}

func ExampleMatch() {
	entries, _, err := Parse("waivers.yaml", []byte(`
waivers:
  - host: "web-*"
    check: selinux
    justification: "Vendor agent needs SELinux until the Q1 migration"
    expires: 2027-01-31
`), time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(Match(entries[0], "web-01", nil), Match(entries[0], "db-01", nil))
	// Output: true false
}

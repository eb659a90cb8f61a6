package policies

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// countingServer is a loopback HTTP server that serves a schema and
// counts the requests that reach it.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"type": "string"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// schemaFile writes a schema on disk that a file:// reference would read:
// it wants a string, so a host (an object) would not match it.
func schemaFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "string.json")
	if err := os.WriteFile(p, []byte(`{"type": "string"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPoliciesCannotFetch checks that a user policy reaches neither the
// network nor files: http.send and net.lookup_ip_addr do not compile, nor
// does a constant schema referring to a URL or a file; a schema built while
// judging stops the judging with an error naming the policy line. The
// server counts zero requests.
func TestPoliciesCannotFetch(t *testing.T) {
	srv, requests := countingServer(t)
	file := schemaFile(t)
	compileErrors := []struct{ name, body, want string }{
		{"http.send", fmt.Sprintf(`r := http.send({"method": "get", "url": %q})
	x := r.body`, srv.URL), "undefined function http.send"},
		{"net.lookup_ip_addr", `x := net.lookup_ip_addr("localhost")`, "undefined function net.lookup_ip_addr"},
		{"constant http ref", fmt.Sprintf(`x := json.match_schema(input, {"$ref": %q})`, srv.URL+"/s.json"),
			"json.match_schema: schema reference \"" + srv.URL + "/s.json\" refused: policies cannot read files or the network"},
		{"constant file ref in a string", fmt.Sprintf(`x := json.verify_schema(%q)`, `{"properties": {"a": {"$ref": "file://`+file+`"}}}`),
			"json.verify_schema: schema reference \"file://" + file + "\" refused"},
		{"constant relative ref", `x := json.match_schema(input, {"items": [{"$ref": "other.json#/a"}]})`, `schema reference "other.json#/a" refused`},
	}
	for _, tc := range compileErrors {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "fetch.rego", "package factorgate.acme.fetch\n\nviolations contains sprintf(\"%v\", [x]) if {\n\t"+tc.body+"\n}\n")
			_, err := New(context.Background(), Options{PolicyDirs: []string{dir}})
			var ce *CompileError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "fetch.rego:4:") {
				t.Errorf("New: err = %v\nwant a *CompileError at fetch.rego:4 containing %q", err, tc.want)
			}
			_, err = RunTests(context.Background(), []string{dir})
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("RunTests: err = %v\nwant a *CompileError containing %q", err, tc.want)
			}
		})
	}

	// Built while judging: the URL comes from data, the file from input.
	dir := t.TempDir()
	writeFile(t, dir, "fetch.rego", `package factorgate.acme.fetch

violations contains "remote schema" if {
	input.host.labels.fetch == "http"
	not json.match_schema(input, {"$ref": data.acme.schema_url})[0]
}

violations contains "file schema" if {
	input.host.labels.fetch == "file"
	not json.match_schema(input, {"$ref": concat("", ["file://", input.host.labels.path])})[0]
}

violations contains "inside" if {
	input.host.labels.fetch == "inside"
	json.match_schema(input, {"definitions": {"o": {"type": "object"}}, "$ref": "#/definitions/o"})[0]
}
`)
	data := writeFile(t, dir, "data.json", fmt.Sprintf(`{"acme": {"schema_url": %q}}`, srv.URL+"/s.json"))
	ev := newEval(t, Options{PolicyDirs: []string{dir}, DataFiles: []string{data}})
	host := func(labels string) []byte {
		return []byte(`{"schema": "factorgate/facts/v1", "reachable": true, "host": {"name": "h", "labels": ` + labels + `}}`)
	}
	for _, tc := range []struct{ name, labels, ref string }{
		{"http", `{"fetch": "http"}`, srv.URL + "/s.json"},
		{"file", fmt.Sprintf(`{"fetch": "file", "path": %q}`, file), "file://" + file},
	} {
		_, err := ev.Decide(context.Background(), host(tc.labels))
		want := fmt.Sprintf("fetch.rego:%d:", map[string]int{"http": 5, "file": 10}[tc.name])
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("json.match_schema: schema reference %q refused", tc.ref)) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: Decide err = %v\nwant the reference refused at %s", tc.name, err, want)
		}
	}
	// A reference inside the schema still works.
	d, err := ev.Decide(context.Background(), host(`{"fetch": "inside"}`))
	if err != nil || !slices.Contains(checks(d.Violations), "acme.fetch") {
		t.Errorf("local $ref: %+v, %v", d.Violations, err)
	}

	// The same in `policy test`.
	writeFile(t, dir, "fetch_test.rego", fmt.Sprintf(`package factorgate.acme.fetch_test

import data.factorgate.acme.fetch

test_remote if {
	fetch.violations with input as {"host": {"labels": {"fetch": "http"}}} with data.acme.schema_url as %q
}
`, srv.URL+"/s.json"))
	rs, err := RunTests(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, r := range rs {
		if strings.HasSuffix(r.Name, "test_remote") {
			found = true
			if r.Pass || r.Err == nil || !strings.Contains(r.Err.Error(), "refused") {
				t.Errorf("policy test with a remote schema: pass=%v err=%v", r.Pass, r.Err)
			}
		}
	}
	if !found {
		t.Error("test_remote did not run")
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("the policies sent %d requests to %s", n, srv.URL)
	}
}

// TestPoliciesSeeNoEnvironment checks that a policy cannot read the
// process environment or other state of the machine.
func TestPoliciesSeeNoEnvironment(t *testing.T) {
	t.Setenv("FACTORGATE_TEST_SECRET", "s3cret")
	for _, tc := range []struct{ name, body, want string }{
		{"opa.runtime", `x := opa.runtime().env.FACTORGATE_TEST_SECRET`, "undefined function opa.runtime"},
		{"allowed hosts", `x := net.lookup_ip_addr("127.0.0.1")`, "undefined function net.lookup_ip_addr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "env.rego", "package factorgate.acme.env\n\nviolations contains x if {\n\t"+tc.body+"\n}\n")
			for _, run := range []func() error{
				func() error { _, err := New(context.Background(), Options{PolicyDirs: []string{dir}}); return err },
				func() error { _, err := RunTests(context.Background(), []string{dir}); return err },
			} {
				if err := run(); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "env.rego:4:") {
					t.Errorf("err = %v, want %q at env.rego:4", err, tc.want)
				}
			}
		})
	}
	if caps := capabilities(); caps.AllowNet == nil || len(caps.AllowNet) != 0 {
		t.Errorf("AllowNet = %#v, want empty (nil allows every host)", caps.AllowNet)
	}
}

// TestNoOtherIOBuiltins goes through every built-in a policy may call and
// checks that each one OPA marks non-deterministic (its result depends on
// something besides its arguments: the network, files, the clock, chance)
// is one whose reach is known: none reads the network, files or the
// environment. A new such built-in in OPA fails this test until it is
// judged and denied or listed here.
func TestNoOtherIOBuiltins(t *testing.T) {
	known := map[string]string{
		"json.match_schema":      "schema references outside the schema are refused (guardSchemaBuiltins)",
		"json.verify_schema":     "schema references outside the schema are refused (guardSchemaBuiltins)",
		"io.jwt.decode_verify":   "checks a token against keys given as arguments, and the clock",
		"io.jwt.encode_sign":     "signs with a key given as argument; random nonces",
		"io.jwt.encode_sign_raw": "signs with a key given as argument; random nonces",
		"rand.intn":              "chance",
		"time.now_ns":            "the clock",
		"uuid.rfc4122":           "chance",
	}
	for _, b := range capabilities().Builtins {
		if slices.Contains(denied, b.Name) {
			t.Errorf("%s is denied but still offered", b.Name)
		}
		if !b.Nondeterministic {
			continue
		}
		if _, ok := known[b.Name]; !ok {
			t.Errorf("%s may reach outside the policy: deny it (denied in sandbox.go) or say here why it cannot", b.Name)
		}
	}
	for _, name := range denied {
		if _, ok := ast.BuiltinMap[name]; !ok {
			t.Errorf("denied built-in %s is not an OPA built-in: renamed?", name)
		}
	}
}

// TestLoopingSchemaRefsRefused refuses local references the schema
// validator would follow for ever (the process would die of a stack
// overflow), and keeps those that lead somewhere.
func TestLoopingSchemaRefsRefused(t *testing.T) {
	for _, tc := range []struct {
		schema  string
		refused bool
	}{
		{`{"$ref": "#"}`, true},
		{`{"allOf": [{"$ref": "#"}]}`, true},
		{`{"definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}}, "$ref": "#/definitions/a"}`, true},
		{`{"definitions": {"a": {"not": {"$ref": "#/definitions/a"}}}, "$ref": "#/definitions/a"}`, true},
		{`{"definitions": {"o": {"type": "object"}}, "$ref": "#/definitions/o"}`, false},
		{`{"definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"type": "string"}}, "properties": {"x": {"$ref": "#/definitions/a"}}}`, false},
	} {
		got := externalRef(ast.String(tc.schema))
		if (got != "") != tc.refused {
			t.Errorf("%s: refused %q, want refused %v", tc.schema, got, tc.refused)
		}
	}
	_, err := New(context.Background(), Options{PolicyDirs: []string{writeFile(t, t.TempDir(), "loop.rego",
		"package factorgate.loop\n\nviolations contains \"x\" if not json.match_schema(input, {\"$ref\": \"#\"})[0]\n")}})
	if err == nil || !strings.Contains(err.Error(), "refers to itself") {
		t.Errorf("a policy with a self-referring schema: err = %v, want it refused at compile time", err)
	}
}

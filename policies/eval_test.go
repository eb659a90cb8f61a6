package policies

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/testutil"
	"github.com/open-policy-agent/opa/v1/rego"
)

const sampleFacts = "../testdata/facts/sample.jsonl"

func newEval(t testing.TB, opts Options) *Evaluator {
	t.Helper()
	ev, err := New(context.Background(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return ev
}

// judgeFile judges every host of a Facts file and returns the decisions
// sorted by host.
func judgeFile(t testing.TB, ev *Evaluator, path string) []contract.Decision {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := contract.NewReader(f, path)
	var ds []contract.Decision
	err = ev.Judge(context.Background(), r.Next, func(d contract.Decision) error {
		ds = append(ds, d)
		return nil
	})
	if err != nil {
		t.Fatalf("Judge: %v", err)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].Host < ds[j].Host })
	return ds
}

func byHost(ds []contract.Decision) map[string]contract.Decision {
	m := map[string]contract.Decision{}
	for _, d := range ds {
		m[d.Host] = d
	}
	return m
}

func checks(fs []contract.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Check)
	}
	return out
}

// TestSampleGolden judges the sample fleet and compares every decision
// with testdata/sample.decisions.golden.
func TestSampleGolden(t *testing.T) {
	ds := judgeFile(t, newEval(t, Options{}), sampleFacts)
	var buf bytes.Buffer
	for _, d := range ds {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	testutil.Golden(t, filepath.Join("testdata", "sample.decisions.golden"), buf.Bytes())
}

func TestSampleStatuses(t *testing.T) {
	got := map[string]contract.Status{}
	for _, d := range judgeFile(t, newEval(t, Options{}), sampleFacts) {
		got[d.Host] = d.Status
		if d.Eligible != (d.Status == contract.StatusEligible || d.Status == contract.StatusEnabled) {
			t.Errorf("%s: eligible=%v with status %s", d.Host, d.Eligible, d.Status)
		}
	}
	want := map[string]contract.Status{
		"app-01":    contract.StatusIneligible,        // OpenSSH 8.2
		"build-01":  contract.StatusEligible,          // no cloud facts: warning only
		"db-01":     contract.StatusIneligible,        // SELinux permissive
		"legacy-01": contract.StatusUnreachable,       // i/o timeout
		"web-01":    contract.StatusEligible,          // CentOS 7, all set
		"web-02":    contract.StatusEnabled,           // 2FA on and eligible
		"web-03":    contract.StatusEnabledIneligible, // 2FA on, SELinux back at boot
		"win-01":    contract.StatusIneligible,        // must change password
		"win-02":    contract.StatusEligible,          // conflicting product: warning
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("statuses:\n got %v\nwant %v", got, want)
	}
}

// TestDecideMatchesPlainOPA checks the fast path (parsed input, AST
// result) against OPA's ordinary one: JSON input, JSON result, decoded.
func TestDecideMatchesPlainOPA(t *testing.T) {
	ctx := context.Background()
	ev := newEval(t, Options{})
	mods, err := allModules(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	opts := []func(*rego.Rego){rego.Query(Query)}
	for name, m := range mods {
		opts = append(opts, rego.ParsedModule(m))
		_ = name
	}
	pq, err := rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(sampleFacts)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range bytes.Split(bytes.TrimSpace(src), []byte("\n")) {
		var in any
		if err := json.Unmarshal(line, &in); err != nil {
			t.Fatal(err)
		}
		rs, err := pq.Eval(ctx, rego.EvalInput(in))
		if err != nil || len(rs) != 1 {
			t.Fatalf("plain eval: %v %v", rs, err)
		}
		b, _ := json.Marshal(rs[0].Expressions[0].Value)
		var want contract.Decision
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		got, err := ev.Decide(ctx, line)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normalizeDecision(got), normalizeDecision(want)) {
			t.Errorf("%s:\n got %+v\nwant %+v", want.Host, got, want)
		}
	}
}

// normalizeDecision makes empty and nil slices and maps alike.
func normalizeDecision(d contract.Decision) contract.Decision {
	for _, p := range []*[]contract.Finding{&d.Violations, &d.Warnings, &d.Waived} {
		if len(*p) == 0 {
			*p = nil
		}
	}
	if len(d.Labels) == 0 {
		d.Labels = nil
	}
	return d
}

func TestDecideFacts(t *testing.T) {
	ev := newEval(t, Options{})
	f := &contract.Facts{
		Schema:    contract.FactsSchema,
		Host:      contract.Host{Name: "gone-01", Address: "10.0.0.1"},
		Reachable: false,
		Error:     contract.Ptr("connection refused"),
	}
	d, err := ev.DecideFacts(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != contract.StatusUnreachable || len(d.Violations) != 1 || !strings.Contains(d.Violations[0].Message, "connection refused") {
		t.Errorf("got %+v", d)
	}
	if d.Address == nil || *d.Address != "10.0.0.1" || d.OS != nil {
		t.Errorf("address/os: %+v", d)
	}
}

func TestDecideBadInput(t *testing.T) {
	ev := newEval(t, Options{})
	for _, tc := range []struct{ name, in, want string }{
		{"not json", `{"host":`, "not valid JSON"},
		{"array", `[1,2]`, "not a JSON object"},
		{"no host", `{"schema":"factorgate/facts/v1","reachable":true}`, ErrNoDecision.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ev.Decide(context.Background(), []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUserPolicies(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "banner.rego", `package factorgate.acme.banner

violations contains {"check": "login_banner", "message": sprintf("%s has no login banner", [input.host.name]), "remediation": "set Banner in sshd_config"} if {
	input.host.labels.env == "prod"
	input.os.family == "linux"
}

warnings contains "staging hosts are reviewed monthly" if input.host.labels.env == "staging"
`)
	writeFile(t, dir, "helpers/lib.rego", "package acme.lib\n\nprod if input.host.labels.env == \"prod\"\n")
	writeFile(t, dir, "banner_test.rego", "package factorgate.acme.banner_test\n\ntest_x if true\n")
	ev := newEval(t, Options{PolicyDirs: []string{dir}})
	ds := byHost(judgeFile(t, ev, sampleFacts))

	web := ds["web-01"]
	if web.Status != contract.StatusIneligible || !reflect.DeepEqual(checks(web.Violations), []string{"login_banner"}) {
		t.Errorf("web-01: user violation must make it ineligible: %+v", web)
	}
	if web.Violations[0].Severity != "high" || web.Violations[0].Message != "web-01 has no login banner" {
		t.Errorf("web-01 finding: %+v", web.Violations[0])
	}
	if got := ds["web-02"].Status; got != contract.StatusEnabledIneligible {
		t.Errorf("web-02 (2FA on) = %s, want enabled_ineligible", got)
	}
	win := ds["win-02"]
	if win.Status != contract.StatusEligible || !reflect.DeepEqual(checks(win.Warnings), []string{"acme.banner", "rdp", "rdp"}) {
		t.Errorf("win-02: user warning: %+v", win)
	}
	if got := ds["legacy-01"]; !reflect.DeepEqual(checks(got.Violations), []string{"reachable"}) {
		t.Errorf("unreachable host got user findings: %+v", got.Violations)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"parse", "package factorgate.bad\n\nviolations contains x if {\n\tx := \n}\n", "bad.rego:5:1: rego_parse_error"},
		{"unsafe", "package factorgate.bad\n\nviolations contains x if {\n\tinput.a == 1\n}\n", "bad.rego:3:21: rego_unsafe_var_error: var x is unsafe"},
		{"denied builtin", "package factorgate.bad\n\nviolations contains r.body if {\n\tr := http.send({\"method\": \"get\", \"url\": \"http://127.0.0.1:1\"})\n}\n", "bad.rego:4:7: rego_type_error: undefined function http.send"},
		{"environment", "package factorgate.bad\n\nviolations contains x if {\n\tx := opa.runtime().env.HOME\n}\n", "undefined function opa.runtime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "bad.rego", tc.src)
			_, err := New(context.Background(), Options{PolicyDirs: []string{dir}})
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T), want *CompileError", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestMissingPolicyDir(t *testing.T) {
	_, err := New(context.Background(), Options{PolicyDirs: []string{"no/such/dir"}})
	if err == nil || err.Error() != "policy no/such/dir: no such file or directory" {
		t.Errorf("err = %v", err)
	}
}

func TestDataFiles(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, file, content, host string
		status                    contract.Status
	}{
		{"yaml raises openssh limit", "p.yaml", "factorgate:\n  params:\n    openssh_max_major: 8\n", "app-01", contract.StatusEligible},
		{"json raises openssh limit", "p.json", `{"factorgate": {"params": {"openssh_max_major": 8}}}`, "app-01", contract.StatusEligible},
		{"default limit", "empty.yaml", "", "app-01", contract.StatusIneligible},
		{"sms mode needs a topic", "sms.yaml", "factorgate: {params: {auth_mode: sms}}\n", "web-01", contract.StatusIneligible},
		{"own data outside factorgate", "own.yaml", "acme: {approved: [a]}\n", "db-01", contract.StatusIneligible},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, dir, tc.file, tc.content)
			ds := byHost(judgeFile(t, newEval(t, Options{DataFiles: []string{p}}), sampleFacts))
			if got := ds[tc.host].Status; got != tc.status {
				t.Errorf("%s = %s, want %s: %+v", tc.host, got, tc.status, ds[tc.host])
			}
		})
	}
}

// TestRaisedLimitWarns checks that a parameter loosening the seed's
// OpenSSH limit shows on the hosts that pass only because of it.
func TestRaisedLimitWarns(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "p.yaml", "factorgate: {params: {openssh_max_major: 8}}\n")
	ds := byHost(judgeFile(t, newEval(t, Options{DataFiles: []string{p}}), sampleFacts))
	const msg = "passes only because openssh_max_major is 8 (HSS 2FA works with OpenSSH earlier than 8)"
	for host, want := range map[string]bool{"app-01": true, "web-01": false, "win-01": false} {
		got := false
		for _, w := range ds[host].Warnings {
			if w.Check == "openssh_version" && w.Message == msg {
				got = true
			}
		}
		if got != want {
			t.Errorf("%s: warning %q present = %v, want %v: %+v", host, msg, got, want, ds[host].Warnings)
		}
	}
}

// TestKnownParams checks that the parameters Go accepts are exactly the
// bundle's defaults.
func TestKnownParams(t *testing.T) {
	ev := newEval(t, Options{})
	var got []string
	for k := range ev.Params() {
		got = append(got, k)
	}
	sort.Strings(got)
	if !reflect.DeepEqual(got, knownParams) {
		t.Errorf("bundle parameters %q, knownParams %q", got, knownParams)
	}
}

func TestBadDataFiles(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, file, content, want string }{
		{"yaml syntax", "bad.yaml", "factorgate:\n  params: [\n", "bad.yaml: line 2: did not find expected node content"},
		{"json syntax", "bad.json", "{\n  \"factorgate\": {,\n}", "bad.json: line 2, column 18: invalid character ','"},
		{"not a mapping", "list.yaml", "- a\n- b\n", "list.yaml: the document must be a mapping"},
		{"params type", "p.yaml", "factorgate:\n  params:\n    openssh_max_major: eight\n", `p.yaml: factorgate.params.openssh_max_major: want a whole number (e.g. 7), got "eight"`},
		{"auth mode", "m.yaml", "factorgate: {params: {auth_mode: email}}\n", `m.yaml: factorgate.params.auth_mode: want "sms" or "code", got "email"`},
		{"waivers", "w.yaml", "factorgate:\n  waivers:\n    - {host: '*', check: selinux, expires: 2020-01-01}\n", "w.yaml: factorgate.waivers: waivers are not taken from --data; put them in a --waivers FILE"},
		{"bundle data", "x.yaml", "factorgate: {params: {}, extensions: {violations: []}}\n", "x.yaml: factorgate.extensions: only factorgate.params may be set from --data"},
		{"unknown param", "u.yaml", "factorgate: {params: {openssh_max_majr: 9}}\n", "u.yaml: factorgate.params.openssh_max_majr: unknown parameter; the known ones are auth_mode, openssh_max_major, packaged_sshd_paths"},
		{"sshd paths", "s.yaml", "factorgate: {params: {packaged_sshd_paths: [sbin/sshd]}}\n", `s.yaml: factorgate.params.packaged_sshd_paths: [0]: want an absolute path, got "sbin/sshd"`},
		{"missing", "none.yaml", "", "none.yaml: no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.file)
			if tc.name != "missing" {
				writeFile(t, dir, tc.file, tc.content)
			}
			_, err := New(context.Background(), Options{DataFiles: []string{p}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant it to contain %q", err, tc.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), p+": ") {
				t.Errorf("err = %v, want it to start with the file name", err)
			}
		})
	}
}

func TestParamsOption(t *testing.T) {
	ev := newEval(t, Options{Params: map[string]any{"auth_mode": "sms"}})
	if got := ev.Params(); got["auth_mode"] != "sms" || got["openssh_max_major"] == nil {
		t.Errorf("Params() = %v", got)
	}
	d := byHost(judgeFile(t, ev, sampleFacts))["web-01"]
	if !reflect.DeepEqual(checks(d.Violations), []string{"topic"}) {
		t.Errorf("web-01 in sms mode without topic facts: %+v", d.Violations)
	}
	if _, err := New(context.Background(), Options{Params: map[string]any{"auth_mode": "fax"}}); err == nil || !strings.Contains(err.Error(), "params.auth_mode") {
		t.Errorf("bad auth_mode: err = %v", err)
	}
}

func TestWaiversOption(t *testing.T) {
	ev := newEval(t, Options{Waivers: []map[string]any{
		{"host": "", "selector": map[string]any{"tier": "db"}, "check": "selinux", "justification": "CHG-7", "expires": "2027-02-01"},
		{"host": "win-*", "selector": nil, "check": "must_change_password", "justification": "image rebuild", "expires": "2027-03-01"},
	}})
	ds := byHost(judgeFile(t, ev, sampleFacts))
	for _, h := range []string{"db-01", "win-01"} {
		if d := ds[h]; d.Status != contract.StatusEligible || len(d.Waived) != 1 || len(d.Violations) != 0 {
			t.Errorf("%s: %+v", h, d)
		}
	}
	if d := ds["app-01"]; d.Status != contract.StatusIneligible || len(d.Waived) != 0 {
		t.Errorf("app-01 must not be waived: %+v", d)
	}
}

func TestJudgeStopsOnError(t *testing.T) {
	ev := newEval(t, Options{})
	src, _ := os.ReadFile(sampleFacts)
	bad := append(append([]byte{}, src...), []byte("{\"schema\": 1}\n")...)
	r := contract.NewReader(bytes.NewReader(bad), "facts.jsonl")
	err := ev.Judge(context.Background(), r.Next, func(contract.Decision) error { return nil })
	var le *contract.LineError
	if !errors.As(err, &le) || le.Line != 10 {
		t.Errorf("err = %v, want a line error on line 10", err)
	}

	boom := errors.New("disk full")
	var n atomic.Int32
	r = contract.NewReader(bytes.NewReader(src), "facts.jsonl")
	err = ev.Judge(context.Background(), r.Next, func(contract.Decision) error {
		n.Add(1)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("emit error = %v, want %v", err, boom)
	}
}

func TestJudgeCanceled(t *testing.T) {
	ev := newEval(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := ev.Judge(ctx, func() (*contract.Facts, []byte, error) { return nil, nil, io.EOF }, func(contract.Decision) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func TestRunTestsBundle(t *testing.T) {
	rs, err := RunTests(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) < 50 {
		t.Fatalf("only %d bundle tests", len(rs))
	}
	for _, r := range rs {
		if !r.Pass {
			t.Errorf("%s (%s:%d) failed: %v", r.Name, r.File, r.Line, r.Err)
		}
	}
}

func TestRunTestsUser(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "mine.rego", "package factorgate.mine\n\nviolations contains \"always\" if input.host.name == \"x\"\n")
	writeFile(t, dir, "mine_test.rego", `package factorgate.mine_test

import data.factorgate.decision

test_user_violation_reaches_the_decision if {
	d := decision.decision with input as data.factorgate.fixtures_test.linux
	d.status == "eligible"
	d2 := decision.decision with input as object.union(data.factorgate.fixtures_test.linux, {"host": {"name": "x"}})
	d2.status == "ineligible"
}

test_fails if {
	1 == 2
}
`)
	rs, err := RunTests(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	res := map[string]TestResult{}
	for _, r := range rs {
		res[r.Name] = r
	}
	if r := res["data.factorgate.mine_test.test_user_violation_reaches_the_decision"]; !r.Pass {
		t.Errorf("user test failed: %+v", r)
	}
	r := res["data.factorgate.mine_test.test_fails"]
	if r.Pass || r.File != filepath.Join(dir, "mine_test.rego") || r.Line != 12 {
		t.Errorf("failing test: %+v", r)
	}
}

// TestBundlePackagesRefused checks that a user module cannot add rules to
// the bundle's packages, below or above them, nor define its data.
func TestBundlePackagesRefused(t *testing.T) {
	for _, tc := range []struct{ name, pkg, owner string }{
		{"inside a bundled check", "factorgate.checks.selinux", "the bundled policies"},
		{"beside the bundled checks", "factorgate.checks.mine", "the bundled policies"},
		{"the checks root", "factorgate.checks", "the bundled policies"},
		{"the decision", "factorgate.decision", "the bundled policies"},
		{"below the decision", "factorgate.decision.more", "the bundled policies"},
		{"the helpers", "factorgate.lib", "the bundled policies"},
		{"the wiring", "factorgate.extensions", "the bundled policies"},
		{"a bundled test package", "factorgate.decision_test", "the bundled policies"},
		{"above the bundle", "factorgate", "the bundled policies"},
		{"parameters", "factorgate.params", "the policies' data (--data, --waivers)"},
		{"waivers", "factorgate.waivers", "the policies' data (--data, --waivers)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "ok.rego", "package factorgate.acme\n\nviolations contains \"x\" if false\n")
			f := writeFile(t, dir, "z/weak.rego", "# weakens a check\npackage "+tc.pkg+"\n\n_ok if true\n")
			for _, withTests := range []bool{false, true} {
				var err error
				if withTests {
					_, err = RunTests(context.Background(), []string{dir})
				} else {
					_, err = New(context.Background(), Options{PolicyDirs: []string{dir}})
				}
				want := f + ":2: package data." + tc.pkg + " belongs to " + tc.owner + "; put your checks in a package of your own, e.g. data.factorgate.acme"
				var ce *CompileError
				if !errors.As(err, &ce) || err.Error() != want {
					t.Errorf("tests %v: err = %v\nwant %s", withTests, err, want)
				}
			}
		})
	}
}

// TestUserPackagesBesideTheBundle checks that user packages anywhere else
// under data.factorgate are wired in.
func TestUserPackagesBesideTheBundle(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "mine.rego", "package factorgate.checksmine\n\nviolations contains \"mine fires\" if input.host.name == \"web-01\"\n")
	writeFile(t, dir, "deep.rego", "package factorgate.acme.checks.selinux\n\nwarnings contains \"deep\" if input.host.name == \"db-01\"\n")
	ds := byHost(judgeFile(t, newEval(t, Options{PolicyDirs: []string{dir}}), sampleFacts))
	if got := ds["web-01"]; got.Status != contract.StatusIneligible || !reflect.DeepEqual(checks(got.Violations), []string{"checksmine"}) {
		t.Errorf("web-01: %+v", got.Violations)
	}
	if got := ds["db-01"]; got.Status != contract.StatusIneligible || !slices.Contains(checks(got.Warnings), "acme.checks.selinux") {
		t.Errorf("db-01: %+v", got)
	}
}

// TestJudgeCanceledMidway checks that canceling the context stops a run
// under way, evaluations included, with an error.
func TestJudgeCanceledMidway(t *testing.T) {
	ev := newEval(t, Options{Workers: 2})
	src, err := os.ReadFile(sampleFacts)
	if err != nil {
		t.Fatal(err)
	}
	line := bytes.SplitN(src, []byte("\n"), 2)[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sent, judged := 0, 0
	err = ev.Judge(ctx, func() (*contract.Facts, []byte, error) {
		if sent == 10_000 {
			return nil, nil, io.EOF
		}
		sent++
		return nil, line, nil
	}, func(contract.Decision) error {
		if judged++; judged == 5 {
			cancel()
		}
		return nil
	})
	if err == nil || judged >= 10_000 {
		t.Errorf("err = %v after %d decisions, want an error well before 10000", err, judged)
	}
}

// TestJudgeReturnsOnFailureWithoutWaitingForInput judges through a user
// policy whose rule conflicts for every host, with a source that yields one
// host and then blocks, as a pipe on stdin does while its writer is idle:
// Judge must return the judgement's error without waiting for more input.
func TestJudgeReturnsOnFailureWithoutWaitingForInput(t *testing.T) {
	dir := t.TempDir()
	pol := "package factorgate.clash\n\nviolations := {\"a\"} if true\n\nviolations := {\"b\"} if true\n"
	if err := os.WriteFile(filepath.Join(dir, "clash.rego"), []byte(pol), 0o644); err != nil {
		t.Fatal(err)
	}
	ev, err := New(context.Background(), Options{PolicyDirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../testdata/facts/sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := bytes.Cut(raw, []byte("\n"))
	block := make(chan struct{})
	defer close(block)
	sent := false
	next := func() (*contract.Facts, []byte, error) {
		if !sent {
			sent = true
			return nil, first, nil
		}
		<-block
		return nil, nil, io.EOF
	}
	done := make(chan error, 1)
	go func() { done <- ev.Judge(context.Background(), next, func(contract.Decision) error { return nil }) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "judge") {
			t.Errorf("Judge = %v, want the judgement's error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Judge still waits for input after a judgement failed")
	}
}

package policies

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestResult is the outcome of one Rego test rule.
type TestResult struct {
	// Name is the full rule path, e.g. data.factorgate.checks.selinux_test.test_enforcing_fails.
	Name string
	// File and Line locate the test rule.
	File string
	Line int
	// Pass is true when the test passed; Skip when it was skipped (todo_ prefix).
	Pass, Skip bool
	// Err is set when the test could not be evaluated (e.g. a conflict).
	Err error
	// Output is what the test printed.
	Output   []byte
	Duration time.Duration
}

// RunTests runs every test rule through OPA's tester, as `opa test`
// would: first the bundle's own tests against the bundle alone, then, when
// dirs are given, their tests against the bundle with their policies wired
// in (user findings change decisions, so the bundle's tests hold only
// without them). Results are sorted by file and line. A policy that does
// not compile is a *[CompileError].
func RunTests(ctx context.Context, dirs []string) ([]TestResult, error) {
	bundled := func(file string) bool { return slices.Contains(BundleFiles(), file) }
	out, err := runTests(ctx, nil, bundled)
	if err != nil || len(dirs) == 0 {
		return out, err
	}
	// The bundle's test files stay compiled (user tests may use their
	// fixtures), but only the users' results count in this run.
	user, err := runTests(ctx, dirs, func(file string) bool { return !bundled(file) })
	return append(out, user...), err
}

// runTests compiles the bundle and the policies of dirs, with all their
// tests, runs the tests and keeps the results of the files keep accepts.
func runTests(ctx context.Context, dirs []string, keep func(file string) bool) ([]TestResult, error) {
	mods, err := allModules(dirs, true)
	if err != nil {
		return nil, err
	}
	runner := tester.NewRunner().
		SetCompiler(newCompiler()).
		SetStore(inmem.NewWithOpts(inmem.OptRoundTripOnWrite(false))).
		SetModules(mods).
		SetTimeout(30 * time.Second).
		CapturePrintOutput(true)
	ch, err := runner.RunTests(ctx, nil)
	if err != nil {
		return nil, compileError(err)
	}
	var out []TestResult
	for r := range ch {
		tr := TestResult{
			Name:     r.Package + "." + r.Name,
			Pass:     r.Pass(),
			Skip:     r.Skip,
			Err:      r.Error,
			Output:   r.Output,
			Duration: r.Duration,
		}
		if r.Location != nil {
			tr.File, tr.Line = r.Location.File, r.Location.Row
		}
		if !keep(tr.File) {
			continue
		}
		out = append(out, tr)
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

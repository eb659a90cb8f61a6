// Package policies judges [contract.Facts] against the factorgate Rego
// bundle and user policies, and gives one [contract.Decision] per host.
//
// # Judging
//
// Build an [Evaluator] once with [New]: it loads the embedded bundle, the
// user policy directories and data files of [Options], compiles them once
// and prepares one query that every host shares. Then call
// [Evaluator.Decide] for one host, or [Evaluator.Judge] to judge a stream
// of Facts in parallel. Go only runs the query: the Rego bundle computes
// the whole Decision, status included.
//
// # The bundle
//
// The bundle (bundle/*.rego) has one package per check under
// data.factorgate.checks (reachable, os_supported, openssh_version,
// password_login, selinux, rdp, must_change_password, protection, topic),
// each defining the sets violations and warnings of findings
// {check, message, remediation, severity}. data.factorgate.decision
// gathers them, applies the waivers of data.factorgate.waivers and sets
// the status. Parameters have defaults in data.factorgate.lib and are
// overridden key by key by data.factorgate.params.
//
// # The check catalogue
//
// Each check file opens with a METADATA comment: title, description and,
// under custom, its source pages, severity, SARIF level and platforms.
// [Checks] reads them from the compiled bundle; the SARIF report's rules
// and README's check table follow it. A new check is one new file below
// bundle/: the decision gathers every package under
// data.factorgate.checks (see CONTRIBUTING.md).
//
// # Speed
//
// Hosts whose Facts differ only in their identity (name, address, labels,
// HSS host ID, scan time) get the same verdict: the evaluator judges the
// first with Rego and copies the verdict to the others, with their own
// identity, unless the policies read that identity (see cache.go and
// [Options.CacheBytes]). Decisions are the same with the cache and
// without it.
//
// # User policies
//
// Any package under data.factorgate that defines violations or warnings
// adds its findings to every Decision; a user violation makes the host
// ineligible. A finding may be a string (the message) or an object; a
// missing "check" is the package path below data.factorgate. The bundle
// itself must stay the same: a user module whose package is one of the
// bundle's, below one (data.factorgate.checks.*), above one
// (data.factorgate) or where the policies' data lives
// (data.factorgate.params, data.factorgate.waivers) is refused, so no
// user rule can weaken a bundled check. Policies cannot reach the network,
// files or the process environment: http.send, net.lookup_ip_addr and
// opa.runtime are not available, no host is allowed, and a JSON schema
// may only refer inside itself.
//
// # Tests
//
// [RunTests] runs the *_test.rego files of the bundle and of user
// directories through OPA's tester, as `factorgate policy test` does.
package policies

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

//go:embed bundle/*.rego
var embedded embed.FS

// bundleFS holds the bundle as bundle/*.rego: the embedded files, or a
// copy on disk in tests.
var bundleFS fs.FS = embedded

// Query is the Rego query whose single result is the Decision on input.
const Query = "data.factorgate.decision.decision"

// extensionsFile names the module generated to wire user packages in.
const extensionsFile = "factorgate-extensions.rego"

var factorgateRef = ast.MustParseRef("data.factorgate")

// parseOpts are the parser options of every module: Rego v1.
var parseOpts = ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true}

// BundleFiles lists the file names of the embedded bundle, tests included,
// as they appear in errors and test output ("bundle/selinux.rego").
func BundleFiles() []string {
	names, _ := fs.Glob(bundleFS, "bundle/*.rego")
	return names
}

// isTest reports whether name is a Rego test file.
func isTest(name string) bool { return strings.HasSuffix(name, "_test.rego") }

// loadBundle parses the embedded bundle, with or without its tests.
func loadBundle(withTests bool) (map[string]*ast.Module, error) {
	mods := map[string]*ast.Module{}
	for _, name := range BundleFiles() {
		if isTest(name) && !withTests {
			continue
		}
		src, err := fs.ReadFile(bundleFS, name)
		if err != nil {
			return nil, err
		}
		m, err := ast.ParseModuleWithOpts(name, string(src), parseOpts)
		if err != nil {
			return nil, compileError(err)
		}
		mods[name] = m
	}
	return mods, nil
}

// loadDirs parses every .rego file below each of dirs (a directory or a
// single file), with or without tests. Files are named by their path.
func loadDirs(dirs []string, withTests bool) (map[string]*ast.Module, error) {
	mods := map[string]*ast.Module{}
	for _, dir := range dirs {
		info, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", dir, unwrapPathError(err))
		}
		var files []string
		if !info.IsDir() {
			files = []string{dir}
		} else {
			err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.IsDir() && p != dir && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				if !d.IsDir() && strings.HasSuffix(p, ".rego") {
					files = append(files, p)
				}
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("policy %s: %w", dir, unwrapPathError(err))
			}
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("policy %s: no .rego files", dir)
		}
		for _, f := range files {
			if isTest(f) && !withTests {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("policy %s: %w", f, unwrapPathError(err))
			}
			m, err := ast.ParseModuleWithOpts(f, string(src), parseOpts)
			if err != nil {
				return nil, compileError(err)
			}
			mods[f] = m
		}
	}
	return mods, nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// userPackages lists the packages of mods, below data.factorgate and
// other than the bundle's own (reserved), that define violations or
// warnings, with the rule names each defines. Rules a user adds to a
// bundled package are part of that package already.
func userPackages(mods map[string]*ast.Module, reserved map[string]bool) map[string]map[string]bool {
	pkgs := map[string]map[string]bool{}
	for name, m := range mods {
		if isTest(name) {
			continue
		}
		p := m.Package.Path
		if !p.HasPrefix(factorgateRef) || reserved[p.String()] {
			continue
		}
		for _, r := range m.Rules {
			ref := r.Head.Ref()
			if len(ref) == 0 {
				continue
			}
			v, ok := ref[0].Value.(ast.Var)
			if !ok || (v != "violations" && v != "warnings") {
				continue
			}
			key := p.String()
			if pkgs[key] == nil {
				pkgs[key] = map[string]bool{}
			}
			pkgs[key][string(v)] = true
		}
	}
	return pkgs
}

// extensionsModule generates data.factorgate.extensions, which hands the
// findings of every user package to the bundle as [package, finding]
// pairs. It returns nil when there is no user package.
func extensionsModule(mods map[string]*ast.Module, reserved map[string]bool) (*ast.Module, error) {
	pkgs := userPackages(mods, reserved)
	if len(pkgs) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(pkgs))
	for k := range pkgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Generated by factorgate: wires user packages into data.factorgate.decision.\npackage factorgate.extensions\n")
	for _, k := range keys {
		ref := ast.MustParseRef(k)
		name := checkName(ref)
		for _, rule := range []string{"violations", "warnings"} {
			if pkgs[k][rule] {
				fmt.Fprintf(&b, "\n%s contains [%q, f] if {\n\tsome f in %s.%s\n}\n", rule, name, k, rule)
			}
		}
	}
	return ast.ParseModuleWithOpts(extensionsFile, b.String(), parseOpts)
}

// checkName is the default check ID of a user package: its path below
// data.factorgate, dot-separated ("acme.banner"), or "factorgate" for
// data.factorgate itself.
func checkName(pkg ast.Ref) string {
	var parts []string
	for _, t := range pkg[len(factorgateRef):] {
		if s, ok := t.Value.(ast.String); ok {
			parts = append(parts, string(s))
		} else {
			parts = append(parts, t.Value.String())
		}
	}
	if len(parts) == 0 {
		return "factorgate"
	}
	return strings.Join(parts, ".")
}

// newCompiler returns a compiler with factorgate's capabilities.
func newCompiler() *ast.Compiler {
	return ast.NewCompiler().WithCapabilities(capabilities()).WithDefaultRegoVersion(ast.RegoV1)
}

// CompileError is returned by [New] and [RunTests] when a policy does not
// parse or compile. Each entry reads FILE:LINE:COL: message.
type CompileError struct {
	Errors []string
}

func (e *CompileError) Error() string {
	if len(e.Errors) == 1 {
		return e.Errors[0]
	}
	return fmt.Sprintf("%s (and %d more: %s)", e.Errors[0], len(e.Errors)-1, strings.Join(e.Errors[1:], "; "))
}

// compileError turns OPA's parse or compile errors into a [CompileError].
func compileError(err error) error {
	var errs ast.Errors
	if !errors.As(err, &errs) {
		var one *ast.Error
		if !errors.As(err, &one) {
			return err
		}
		errs = ast.Errors{one}
	}
	ce := &CompileError{}
	for _, e := range errs {
		msg := e.Message
		if e.Code != "" {
			msg = e.Code + ": " + msg
		}
		if e.Location != nil {
			file := e.Location.File
			if file == "" {
				file = "(query)"
			}
			msg = fmt.Sprintf("%s:%d:%d: %s", file, e.Location.Row, e.Location.Col, msg)
		}
		ce.Errors = append(ce.Errors, msg)
	}
	if len(ce.Errors) == 0 {
		return err
	}
	return ce
}

// allModules gathers the bundle, the user directories and the generated
// extensions module.
func allModules(dirs []string, withTests bool) (map[string]*ast.Module, error) {
	mods, err := loadBundle(withTests)
	if err != nil {
		return nil, err
	}
	reserved := map[string]bool{"data.factorgate.extensions": true}
	for _, m := range mods {
		reserved[m.Package.Path.String()] = true
	}
	user, err := loadDirs(dirs, withTests)
	if err != nil {
		return nil, err
	}
	if err := checkUserPackages(user); err != nil {
		return nil, err
	}
	for name, m := range user {
		if _, clash := mods[name]; clash {
			name = path.Join("user", name)
		}
		mods[name] = m
	}
	ext, err := extensionsModule(user, reserved)
	if err != nil {
		return nil, fmt.Errorf("wire user policies: %w", err)
	}
	if ext != nil {
		mods[extensionsFile] = ext
	}
	if err := checkSchemas(mods); err != nil {
		return nil, err
	}
	return mods, nil
}

// bundleRoots are the packages the bundle owns with everything below
// them, and where the policies' data lives: user modules stay out.
var bundleRoots = []ast.Ref{
	ast.MustParseRef("data.factorgate.checks"),
	ast.MustParseRef("data.factorgate.decision"),
	ast.MustParseRef("data.factorgate.lib"),
	ast.MustParseRef("data.factorgate.extensions"),
	ast.MustParseRef("data.factorgate.fixtures_test"),
}

// dataRoots are where --data and --waivers put the policies' data.
var dataRoots = []ast.Ref{
	ast.MustParseRef("data.factorgate.params"),
	ast.MustParseRef("data.factorgate.waivers"),
}

// checkUserPackages refuses a user module whose package could change the
// bundle: one of the bundle's packages, one below or above them, or the
// home of the policies' data. The error names FILE:LINE of the first
// such package declaration, files in name order.
func checkUserPackages(user map[string]*ast.Module) error {
	if len(user) == 0 {
		return nil
	}
	names := make([]string, 0, len(user))
	for name := range user {
		names = append(names, name)
	}
	sort.Strings(names)
	bundled, err := loadBundle(true)
	if err != nil {
		return err
	}
	roots := slices.Clone(bundleRoots)
	for _, m := range bundled {
		roots = append(roots, m.Package.Path)
	}
	clash := func(p ast.Ref, roots []ast.Ref) bool {
		for _, r := range roots {
			if p.HasPrefix(r) || r.HasPrefix(p) {
				return true
			}
		}
		return false
	}
	for _, name := range names {
		m := user[name]
		p := m.Package.Path
		line := 0
		if m.Package.Location != nil {
			line = m.Package.Location.Row
		}
		var owner string
		switch {
		case clash(p, roots):
			owner = "the bundled policies"
		case clash(p, dataRoots):
			owner = "the policies' data (--data, --waivers)"
		default:
			continue
		}
		return &CompileError{Errors: []string{fmt.Sprintf(
			"%s:%d: package %s belongs to %s; put your checks in a package of your own, e.g. data.factorgate.acme",
			name, line, p, owner)}}
	}
	return nil
}

package policies

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Check is one check of the bundled policies, as the METADATA comment at
// the top of its Rego file describes it:
//
//	# METADATA
//	# title: SELinux permanently disabled
//	# description: |
//	#   Linux only: SELinux must be disabled permanently before 2FA ...
//	# custom:
//	#   sources: [hss_01_0568, hss_01_0472]
//	#   severity: high
//	#   sarif_level: error
//	#   platforms: [linux]
//	package factorgate.checks.selinux
type Check struct {
	// ID is the last part of the check's package name, and the "check"
	// field of its findings ("selinux").
	ID string
	// Title says in one line what the check requires of a host.
	Title string
	// Description explains the check, its unknowns and its warnings.
	Description string
	// Sources are the pages of the HSS user guide the check comes from
	// ("hss_01_0568").
	Sources []string
	// Severity is the severity of the check's violations: low, medium or
	// high.
	Severity string
	// SARIFLevel is the level of the check's rule in SARIF reports: error,
	// warning or note.
	SARIFLevel string
	// Platforms are the operating system families the check applies to:
	// linux, windows or both.
	Platforms []string
}

// checksRef is where the bundled checks live: one package each below it.
var checksRef = ast.MustParseRef("data.factorgate.checks")

var catalogue struct {
	sync.Mutex
	checks []Check
	err    error
	done   bool
}

// Checks returns the catalogue of the bundled checks, sorted by ID. It is
// read from the METADATA of the compiled bundle, once; every package
// below data.factorgate.checks is a check and must describe itself (an
// error names the file and the field at fault).
func Checks() ([]Check, error) {
	catalogue.Lock()
	defer catalogue.Unlock()
	if !catalogue.done {
		catalogue.checks, catalogue.err = readChecks()
		catalogue.done = true
	}
	if catalogue.err != nil {
		return nil, catalogue.err
	}
	out := make([]Check, len(catalogue.checks))
	for i, c := range catalogue.checks {
		c.Sources = slices.Clone(c.Sources)
		c.Platforms = slices.Clone(c.Platforms)
		out[i] = c
	}
	return out, nil
}

// readChecks compiles the bundle and reads the package annotations of its
// checks.
func readChecks() ([]Check, error) {
	mods, err := loadBundle(false)
	if err != nil {
		return nil, err
	}
	c := newCompiler()
	if c.Compile(mods); c.Failed() {
		return nil, compileError(c.Errors)
	}
	pkgs := map[string]string{} // check ID -> file of its package
	for name, m := range mods {
		p := m.Package.Path
		if len(p) == len(checksRef)+1 && p.HasPrefix(checksRef) {
			pkgs[checkID(p)] = name
		}
	}
	byID := map[string]Check{}
	for _, a := range c.GetAnnotationSet().Flatten() {
		p := a.Path
		if a.Annotations.Scope != "package" || len(p) != len(checksRef)+1 || !p.HasPrefix(checksRef) {
			continue
		}
		ch, err := checkOf(a.Annotations)
		if err != nil {
			return nil, err
		}
		ch.ID = checkID(p)
		byID[ch.ID] = ch
	}
	ids := make([]string, 0, len(pkgs))
	for id := range pkgs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]Check, 0, len(ids))
	for _, id := range ids {
		ch, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("%s:1: package factorgate.checks.%s: no METADATA (title, description and custom sources, severity, sarif_level, platforms)", pkgs[id], id)
		}
		out = append(out, ch)
	}
	return out, nil
}

// checkID is the ID of the check of package p, below data.factorgate.checks.
func checkID(p ast.Ref) string {
	if s, ok := p[len(checksRef)].Value.(ast.String); ok {
		return string(s)
	}
	return p[len(checksRef)].Value.String()
}

// Values the catalogue's fields may take.
var (
	severities  = []string{"low", "medium", "high"}
	sarifLevels = []string{"none", "note", "warning", "error"}
	platforms   = []string{"linux", "windows"}
)

// checkOf reads one check's package annotation.
func checkOf(a *ast.Annotations) (Check, error) {
	pos := "METADATA"
	if a.Location != nil {
		pos = fmt.Sprintf("%s:%d: METADATA", a.Location.File, a.Location.Row)
	}
	ch := Check{Title: strings.TrimSpace(a.Title), Description: strings.Join(strings.Fields(a.Description), " ")}
	if ch.Title == "" {
		return ch, fmt.Errorf("%s title: missing", pos)
	}
	if ch.Description == "" {
		return ch, fmt.Errorf("%s description: missing", pos)
	}
	str := func(field string, allowed []string) (string, error) {
		s, ok := a.Custom[field].(string)
		if !ok || !slices.Contains(allowed, s) {
			return "", fmt.Errorf("%s custom.%s: %v, want one of %s", pos, field, a.Custom[field], strings.Join(allowed, ", "))
		}
		return s, nil
	}
	list := func(field string, allowed []string) ([]string, error) {
		vs, ok := a.Custom[field].([]any)
		if !ok || len(vs) == 0 {
			return nil, fmt.Errorf("%s custom.%s: %v, want a list", pos, field, a.Custom[field])
		}
		out := make([]string, 0, len(vs))
		for _, v := range vs {
			s, ok := v.(string)
			if !ok || s == "" || (allowed != nil && !slices.Contains(allowed, s)) {
				return nil, fmt.Errorf("%s custom.%s: %v, want names%s", pos, field, v, oneOf(allowed))
			}
			out = append(out, s)
		}
		return out, nil
	}
	var err error
	if ch.Sources, err = list("sources", nil); err != nil {
		return ch, err
	}
	if ch.Severity, err = str("severity", severities); err != nil {
		return ch, err
	}
	if ch.SARIFLevel, err = str("sarif_level", sarifLevels); err != nil {
		return ch, err
	}
	if ch.Platforms, err = list("platforms", platforms); err != nil {
		return ch, err
	}
	return ch, nil
}

func oneOf(allowed []string) string {
	if allowed == nil {
		return ""
	}
	return " among " + strings.Join(allowed, ", ")
}

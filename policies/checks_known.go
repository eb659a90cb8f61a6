package policies

import (
	"sort"

	"github.com/open-policy-agent/opa/v1/ast"
)

// KnownChecks lists the check IDs that findings of the bundle and of the
// user policies of dirs can carry, sorted: each bundled check (the
// packages under data.factorgate.checks and every literal "check" of their
// findings), and for user packages their default ID (the package path
// below data.factorgate) and every literal "check" they write. complete is
// false when some user policy computes a "check" value, which no list can
// foresee. A policy that does not parse is an error, as in [New].
func KnownChecks(dirs []string) (ids []string, complete bool, err error) {
	bundle, err := loadBundle(false)
	if err != nil {
		return nil, false, err
	}
	user, err := loadDirs(dirs, false)
	if err != nil {
		return nil, false, err
	}
	set := map[string]bool{}
	for _, m := range bundle {
		p := m.Package.Path
		if p.HasPrefix(checksRef) && len(p) > len(checksRef) {
			if s, ok := p[len(checksRef)].Value.(ast.String); ok {
				set[string(s)] = true
			}
		}
		literalChecks(m, set)
	}
	complete = true
	reserved := map[string]bool{"data.factorgate.extensions": true}
	for _, m := range bundle {
		reserved[m.Package.Path.String()] = true
	}
	for pkg := range userPackages(user, reserved) {
		set[checkName(ast.MustParseRef(pkg))] = true
	}
	for _, m := range user {
		if !literalChecks(m, set) {
			complete = false
		}
	}
	ids = make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, complete, nil
}

// literalChecks adds to set the string value of every "check" key of the
// object literals of m. It returns false when some "check" value is not a
// string literal (computed, or taken from elsewhere).
func literalChecks(m *ast.Module, set map[string]bool) bool {
	all := true
	key := ast.StringTerm("check")
	ast.WalkTerms(m, func(t *ast.Term) bool {
		obj, ok := t.Value.(ast.Object)
		if !ok {
			return false
		}
		v := obj.Get(key)
		if v == nil {
			return false
		}
		if s, ok := v.Value.(ast.String); ok {
			set[string(s)] = true
		} else {
			all = false
		}
		return false
	})
	return all
}

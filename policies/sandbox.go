package policies

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Policies judge the facts they are given and nothing else: they never
// reach the network, files or the process environment. Three locks keep
// them there, for [New] and [RunTests] alike:
//
//   - the capabilities leave out http.send, net.lookup_ip_addr and
//     opa.runtime, so a policy calling one does not compile, and allow no
//     host at all (AllowNet empty, not nil: nil would allow every host);
//   - a JSON schema given to json.verify_schema or json.match_schema may
//     only refer inside itself ("$ref": "#/..."): OPA's schema loader would
//     otherwise fetch an http(s):// reference and read a file:// or relative
//     one from the disk. A constant schema is refused when the policy
//     compiles ([checkSchemas]); a schema built while judging is refused
//     when the built-in is called ([guardSchemaBuiltins]), which stops the
//     evaluation with an error naming the policy line.
//   - the type checker never loads schemas from METADATA annotations
//     (factorgate does not turn on annotation type checks).

// denied are the built-ins user policies may not call: policies judge the
// facts they are given and never reach the network or the environment.
var denied = []string{"http.send", "net.lookup_ip_addr", "opa.runtime"}

// schemaBuiltins name the built-ins taking a JSON schema, with the index
// of the schema among their arguments.
var schemaBuiltins = map[string]int{
	ast.JSONSchemaVerify.Name: 0,
	ast.JSONMatchSchema.Name:  1,
}

// capabilities are OPA's built-ins less the denied ones, with no host the
// network built-ins may reach.
func capabilities() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion()
	caps.Builtins = slices.DeleteFunc(slices.Clone(caps.Builtins), func(b *ast.Builtin) bool {
		return slices.Contains(denied, b.Name)
	})
	caps.AllowNet = []string{}
	return caps
}

func init() { guardSchemaBuiltins() }

// guardSchemaBuiltins wraps OPA's schema built-ins so that a schema
// referring outside itself stops the evaluation with an error instead of
// being fetched or read. OPA looks built-ins up in one process-wide table,
// ahead of any per-query function, so the wrapper goes there.
func guardSchemaBuiltins() {
	for name, arg := range schemaBuiltins {
		orig := topdown.GetBuiltin(name)
		if orig == nil {
			continue
		}
		topdown.RegisterBuiltinFunc(name, func(bctx topdown.BuiltinContext, operands []*ast.Term, iter func(*ast.Term) error) error {
			if arg < len(operands) {
				if ref := externalRef(operands[arg].Value); ref != "" {
					return topdown.Halt{Err: &topdown.Error{
						Code:     topdown.BuiltinErr,
						Message:  name + ": " + refusedRef(ref),
						Location: bctx.Location,
					}}
				}
			}
			return orig(bctx, operands, iter)
		})
	}
}

// refusedRef is the message for a schema that refers to ref.
func refusedRef(ref string) string {
	if strings.HasPrefix(strings.TrimSpace(ref), "#") {
		return fmt.Sprintf("schema reference %q refused: it refers to itself, to a schema around it, or to a chain of references that comes back to it, which the validator would follow for ever", ref)
	}
	return fmt.Sprintf("schema reference %q refused: policies cannot read files or the network; keep the schema whole in the policy and refer inside it (\"#/definitions/...\")", ref)
}

// externalRef returns the first "$ref" of schema v (an object, or a string
// of JSON as the schema built-ins take) that points outside the schema,
// or "" when there is none. Only "#..." stays inside: anything else is a
// URL or a path OPA's loader would fetch or open.
func externalRef(v ast.Value) string {
	var doc any
	switch x := v.(type) {
	case ast.String:
		if err := json.Unmarshal([]byte(x), &doc); err != nil {
			return "" // not JSON: the built-in itself says so
		}
	case ast.Object, *ast.Array:
		var err error
		if doc, err = ast.JSON(x); err != nil {
			return ""
		}
	default:
		return ""
	}
	if r := findExternalRef(doc); r != "" {
		return r
	}
	return findLoopingRef(doc, doc, "")
}

// findLoopingRef returns the first local "$ref" of root that refers to the
// object holding it or to one of that object's ancestors, or that starts a
// chain of references that comes back to itself: the schema validator
// follows such a reference for ever and the process dies of it (a stack
// overflow cannot be recovered). at is doc's JSON pointer in root.
func findLoopingRef(root, doc any, at string) string {
	switch x := doc.(type) {
	case map[string]any:
		if s, ok := x["$ref"].(string); ok {
			if target, ok := strings.CutPrefix(strings.TrimSpace(s), "#"); ok {
				if target == "" || target == at || strings.HasPrefix(at, target+"/") || refChainLoops(root, target) {
					return s
				}
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if r := findLoopingRef(root, x[k], at+"/"+escapePointer(k)); r != "" {
				return r
			}
		}
	case []any:
		for i, e := range x {
			if r := findLoopingRef(root, e, fmt.Sprintf("%s/%d", at, i)); r != "" {
				return r
			}
		}
	}
	return ""
}

// refChainLoops follows the local references from the object at pointer
// target (each object that is itself a "$ref") and reports whether the
// chain comes back to a pointer it has seen.
func refChainLoops(root any, target string) bool {
	seen := map[string]bool{}
	for !seen[target] {
		seen[target] = true
		obj, ok := resolvePointer(root, target).(map[string]any)
		if !ok {
			return false
		}
		s, ok := obj["$ref"].(string)
		if !ok {
			return false
		}
		next, local := strings.CutPrefix(strings.TrimSpace(s), "#")
		if !local {
			return false
		}
		target = next
	}
	return true
}

// resolvePointer returns what the JSON pointer p ("/a/b", "" for the root)
// names in doc, or nil.
func resolvePointer(doc any, p string) any {
	if p == "" {
		return doc
	}
	for _, tok := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch x := doc.(type) {
		case map[string]any:
			doc = x[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			doc = x[i]
		default:
			return nil
		}
	}
	return doc
}

// escapePointer escapes a key for a JSON pointer.
func escapePointer(k string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
}

func findExternalRef(doc any) string {
	switch x := doc.(type) {
	case map[string]any:
		if s, ok := x["$ref"].(string); ok && !strings.HasPrefix(strings.TrimSpace(s), "#") {
			return s
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if r := findExternalRef(x[k]); r != "" {
				return r
			}
		}
	case []any:
		for _, e := range x {
			if r := findExternalRef(e); r != "" {
				return r
			}
		}
	}
	return ""
}

// checkSchemas refuses, at compile time, a call of a schema built-in
// whose schema is a constant that refers outside itself. Errors name
// FILE:LINE:COL of the call, files in name order.
func checkSchemas(mods map[string]*ast.Module) error {
	names := make([]string, 0, len(mods))
	for name := range mods {
		names = append(names, name)
	}
	sort.Strings(names)
	ce := &CompileError{}
	for _, name := range names {
		check := func(op ast.Ref, args []*ast.Term, loc *ast.Location) {
			arg, ok := schemaBuiltins[op.String()]
			if !ok || arg >= len(args) || !args[arg].IsGround() {
				return
			}
			ref := externalRef(args[arg].Value)
			if ref == "" {
				return
			}
			if args[arg].Location != nil {
				loc = args[arg].Location
			}
			pos := name
			if loc != nil {
				pos = fmt.Sprintf("%s:%d:%d", name, loc.Row, loc.Col)
			}
			ce.Errors = append(ce.Errors, fmt.Sprintf("%s: %s: %s", pos, op, refusedRef(ref)))
		}
		ast.WalkExprs(mods[name], func(e *ast.Expr) bool {
			if e.IsCall() {
				terms := e.Terms.([]*ast.Term)
				if op, ok := terms[0].Value.(ast.Ref); ok {
					check(op, terms[1:], e.Location)
				}
			}
			return false
		})
		ast.WalkTerms(mods[name], func(t *ast.Term) bool {
			if call, ok := t.Value.(ast.Call); ok && len(call) > 0 {
				if op, ok := call[0].Value.(ast.Ref); ok {
					check(op, call[1:], t.Location)
				}
			}
			return false
		})
	}
	if len(ce.Errors) > 0 {
		return ce
	}
	return nil
}

package policies

import (
	"container/list"
	"encoding/binary"
	"slices"
	"strings"
	"sync"

	"github.com/factorgate/factorgate/contract"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/valyala/fastjson"
)

// # The verdict cache
//
// A fleet holds a few hundred distinct configurations across thousands of
// hosts: hosts whose Facts differ only in their identity (name, address,
// port, labels, HSS host ID, when and how long they were scanned) get the
// same verdict. The evaluator judges the first of them with Rego and
// remembers its verdict (status, findings, waivers); the others get a copy
// with their own identity attached.
//
// That is exact only when nothing but the copying reads the identity, so
// the key is made from what the compiled policies read (see planCache):
//
//   - every field of the Facts but the identity fields, as it is;
//   - an identity field that some rule reads, other than the rules of
//     data.factorgate.decision that copy the identity into the Decision or
//     match waivers: as it is when its value is read, only the keys read
//     when some keys of it are (input.host.labels.env), or only its JSON
//     type when only its type is (is_string(input.hss[k])); a user policy
//     that writes input.host.name into a message makes the name part of
//     the key;
//   - when a waiver names hosts or labels, the waivers covering the host
//     (data.factorgate.decision.covering_waivers, evaluated on the host's
//     name and labels alone, and remembered by labels when no waiver names
//     hosts).
//
// Nothing is cached when a policy calls a non-deterministic built-in
// (time.now_ns, rand.intn...) or reads data.factorgate.decision, whose
// rules hold the identity. The cache holds at most [Options.CacheBytes] of
// keys and verdicts, the least recently used out first.

// DefaultCacheBytes is the memory the verdict cache may hold when
// [Options.CacheBytes] is 0: some thousands of configurations.
const DefaultCacheBytes = 8 << 20

// readKind is how the policies read a part of the input.
type readKind uint8

const (
	readNone  readKind = iota // never read
	readType                  // only its type (is_string, is_object...)
	readKeys                  // its type and some keys of it (labels.env)
	readValue                 // its value
)

// fieldRead is how the policies read an identity field: kind, and for
// readKeys the keys read.
type fieldRead struct {
	kind readKind
	keys []string
}

// identityFields are the parts of the Facts that identify a host rather
// than describe its configuration.
var identityFields = [][]string{
	{"host", "name"},
	{"host", "address"},
	{"host", "port"},
	{"host", "labels"},
	{"host", "hss_host_id"},
	{"hss", "host_id"},
	{"collected_at"},
	{"duration_ms"},
}

// identityRules are the rules of data.factorgate.decision that read the
// identity to copy it into the Decision or to match waivers: the cache
// attaches the identity itself, and keys on covering_waivers.
var identityRules = map[string]bool{
	"decision":          true,
	"_hss_host_id":      true,
	"_host_matches":     true,
	"_selector_matches": true,
	"_covers":           true,
	"covering_waivers":  true,
}

var decisionRef = ast.MustParseRef("data.factorgate.decision")

// typePredicates read only the type of their argument.
var typePredicates = map[string]bool{
	"is_string": true, "is_number": true, "is_boolean": true, "is_array": true,
	"is_set": true, "is_object": true, "is_null": true, "type_name": true,
}

// deterministic are built-ins OPA flags non-deterministic that factorgate
// makes deterministic: schema references outside the schema are refused.
var deterministic = map[string]bool{
	ast.JSONSchemaVerify.Name: true,
	ast.JSONMatchSchema.Name:  true,
}

// cachePlan says how to key a host's verdict.
type cachePlan struct {
	// kinds are how the policies read each identity field, by path
	// ("host.name").
	kinds map[string]fieldRead
	// covering is set when the waivers covering a host depend on its
	// name or labels; byLabels when they depend on its labels alone (no
	// waiver names hosts), so that they may be remembered by labels.
	covering, byLabels bool
}

// inputRead is one read of the input by a rule: the path below input
// ("" for a key not known before evaluation) and how it is read.
type inputRead struct {
	path []string
	kind readKind
}

// planCache reads the compiled policies and returns the plan of the
// verdict cache, or "" and the reason no verdict may be cached.
func planCache(c *ast.Compiler, waivers []map[string]any) (*cachePlan, string) {
	var reads []inputRead
	nondet := ""
	for _, m := range c.Modules {
		identity := m.Package.Path.Equal(decisionRef)
		for _, r := range m.Rules {
			ast.WalkTerms(r, func(t *ast.Term) bool {
				if nondet != "" {
					return true
				}
				var op ast.Ref
				switch v := t.Value.(type) {
				case ast.Call:
					op, _ = v[0].Value.(ast.Ref)
				case ast.Ref:
					op = v
				}
				if op != nil {
					if b, ok := ast.BuiltinMap[op.String()]; ok && b.Nondeterministic && !deterministic[b.Name] {
						nondet = b.Name
					}
				}
				return false
			})
			if !identity && nondet == "" && readsDecision(r) {
				// The identity rules' results reach it other than through
				// the Decision the cache rebuilds.
				nondet = "data.factorgate.decision"
			}
			if identity && identityRules[r.Head.Ref()[0].Value.(ast.Var).String()] {
				continue
			}
			reads = append(reads, ruleReads(r)...)
		}
	}
	switch {
	case nondet == "data.factorgate.decision":
		return nil, "a policy reads data.factorgate.decision, which holds the host's identity"
	case nondet != "":
		return nil, "the policies call " + nondet + ", whose result may change from host to host"
	}
	p := &cachePlan{kinds: map[string]fieldRead{}}
	for _, f := range identityFields {
		var fr fieldRead
		for _, r := range reads {
			k, key := affects(r, f)
			fr.kind = max(fr.kind, k)
			if k == readKeys && !slices.Contains(fr.keys, key) {
				fr.keys = append(fr.keys, key)
			}
		}
		if fr.kind != readKeys {
			fr.keys = nil
		}
		p.kinds[strings.Join(f, ".")] = fr
	}
	byName := false
	for _, w := range waivers {
		if h, ok := w["host"]; ok && h != "" {
			p.covering, byName = true, true
		}
		if s, ok := w["selector"]; ok && s != nil {
			p.covering = true
		}
	}
	p.byLabels = p.covering && !byName
	return p, ""
}

// readsDecision reports whether rule r may read data.factorgate.decision
// (or all of data.factorgate, or all of data).
func readsDecision(r *ast.Rule) bool {
	found := false
	ast.WalkRefs(r, func(ref ast.Ref) bool {
		if found || !ref.HasPrefix(ast.DefaultRootRef) {
			return found
		}
		n := 1
		for n < len(ref) && n < len(decisionRef) {
			if _, ok := ref[n].Value.(ast.String); !ok {
				break
			}
			n++
		}
		// The ground prefix of ref and the decision's path agree as far
		// as both go: ref may reach the decision or sit inside it.
		found = ref[:n].Equal(decisionRef[:n]) || (n < len(decisionRef) && decisionRef[:n].Equal(ref[:n]))
		return found
	})
	return found
}

// affects is how read r reads identity field f, and for readKeys which
// key of it.
func affects(r inputRead, f []string) (readKind, string) {
	n := min(len(r.path), len(f))
	for i := range n {
		if r.path[i] != "" && r.path[i] != f[i] {
			return readNone, ""
		}
	}
	switch {
	case len(r.path) == len(f):
		return r.kind, ""
	case len(r.path) < len(f) && r.kind == readType:
		return readNone, "" // the type of a parent says nothing of f
	case len(r.path) == len(f)+1 && r.path[len(f)] != "":
		return readKeys, r.path[len(f)] // one key of f: labels.env
	default:
		return readValue, "" // all of a parent, or deep in f
	}
}

// ruleReads lists the reads of the input by rule r. The compiler binds a
// ref passed to a built-in to a local first (__local1__ = input.hss[k];
// is_string(__local1__)): such a binding reads whether the path is
// defined, and so its type; a local used only by type predicates reads no
// more. Any other use of the local, and any other input ref, reads the
// value. (The compiler may share one term between the uses of a local, so
// uses are told apart by where they are, not by term.)
func ruleReads(r *ast.Rule) []inputRead {
	defs := map[ast.Var][][]string{} // local -> input paths bound to it
	ast.WalkExprs(r, func(e *ast.Expr) bool {
		if v, ref, ok := inputBinding(e); ok {
			defs[v] = append(defs[v], inputPath(ref))
		}
		return false
	})
	uses := map[ast.Var]readKind{}
	for v, paths := range defs {
		uses[v] = readType
		if len(paths) > 1 {
			uses[v] = readValue // unified with each other
		}
	}
	var reads []inputRead
	// anyTerm records every input ref and local in x as a value read: for
	// what the walk below does not know.
	anyTerm := func(x any) {
		ast.WalkTerms(x, func(t *ast.Term) bool {
			switch v := t.Value.(type) {
			case ast.Ref:
				if v.HasPrefix(ast.InputRootRef) {
					reads = append(reads, inputRead{inputPath(v), readValue})
				}
			case ast.Var:
				if _, ok := defs[v]; ok {
					uses[v] = readValue
				}
			}
			return false
		})
	}
	var term func(t *ast.Term)
	var body func(b ast.Body)
	term = func(t *ast.Term) {
		if t == nil {
			return
		}
		switch v := t.Value.(type) {
		case ast.Ref:
			if v.HasPrefix(ast.InputRootRef) {
				reads = append(reads, inputRead{inputPath(v), readValue})
			}
			for _, p := range v {
				term(p)
			}
		case ast.Var:
			if _, ok := defs[v]; ok {
				uses[v] = readValue
			}
		case ast.Call:
			for _, a := range v {
				term(a)
			}
		case *ast.Array:
			v.Foreach(term)
		case ast.Set:
			v.Foreach(term)
		case ast.Object:
			v.Foreach(func(k, e *ast.Term) { term(k); term(e) })
		case *ast.ArrayComprehension:
			term(v.Term)
			body(v.Body)
		case *ast.SetComprehension:
			term(v.Term)
			body(v.Body)
		case *ast.ObjectComprehension:
			term(v.Key)
			term(v.Value)
			body(v.Body)
		case ast.String, ast.Number, ast.Boolean, ast.Null:
		default:
			anyTerm(t)
		}
	}
	expr := func(e *ast.Expr) {
		for _, w := range e.With {
			term(w.Target)
			term(w.Value)
		}
		if _, ref, ok := inputBinding(e); ok {
			for _, p := range ref[1:] {
				term(p)
			}
			return
		}
		if e.IsCall() && typePredicates[e.Operator().String()] {
			if args := e.Operands(); len(args) == 1 {
				if v, ok := args[0].Value.(ast.Var); ok {
					if _, ok := defs[v]; ok {
						return // a type use: uses[v] is readType already
					}
				}
			}
		}
		switch ts := e.Terms.(type) {
		case *ast.Term:
			term(ts)
		case []*ast.Term:
			for _, t := range ts {
				term(t)
			}
		case *ast.SomeDecl:
			for _, t := range ts.Symbols {
				term(t)
			}
		case *ast.Every:
			term(ts.Key)
			term(ts.Value)
			term(ts.Domain)
			body(ts.Body)
		case *ast.Not:
			body(ts.Body)
		default:
			anyTerm(e)
		}
	}
	body = func(b ast.Body) {
		for _, e := range b {
			expr(e)
		}
	}
	for rr := r; rr != nil; rr = rr.Else {
		h := rr.Head
		for _, t := range h.Reference {
			term(t)
		}
		for _, t := range h.Args {
			term(t)
		}
		term(h.Key)
		term(h.Value)
		body(rr.Body)
	}
	for v, k := range uses {
		for _, p := range defs[v] {
			reads = append(reads, inputRead{p, k})
		}
	}
	return reads
}

// inputBinding reports whether e binds a local the compiler made to an
// input ref: __local1__ = input.hss[k].
func inputBinding(e *ast.Expr) (ast.Var, ast.Ref, bool) {
	if e.Negated || len(e.With) > 0 || (!e.IsEquality() && !e.IsAssignment()) {
		return "", nil, false
	}
	ops := e.Operands()
	if len(ops) != 2 {
		return "", nil, false
	}
	for i, o := range ops {
		v, ok := o.Value.(ast.Var)
		if !ok || !v.IsGenerated() {
			continue
		}
		if ref, ok := ops[1-i].Value.(ast.Ref); ok && ref.HasPrefix(ast.InputRootRef) {
			return v, ref, true
		}
	}
	return "", nil, false
}

// inputPath is the path of ref below input: its leading constant string
// keys, then "" for the first key not known before evaluation.
func inputPath(ref ast.Ref) []string {
	var p []string
	for _, t := range ref[1:] {
		s, ok := t.Value.(ast.String)
		if !ok {
			return append(p, "")
		}
		p = append(p, string(s))
	}
	return p
}

// hostIdentity is what the cache copies into the Decision of a host, read
// as data.factorgate.decision.decision reads it.
type hostIdentity struct {
	name      string
	address   *string
	hssHostID *string
	labels    map[string]string
	host      *fastjson.Value // the host object, for covering_waivers
}

// keyOf appends the cache key of the Facts object v to buf. ok is false
// when v may not be cached: no host object with a string name, or a key
// that the identity reads given twice (OPA keeps the last, a lookup the
// first).
func (p *cachePlan) keyOf(buf []byte, v *fastjson.Value) (key []byte, id hostIdentity, ok bool) {
	top, err := v.Object()
	if err != nil {
		return buf, id, false
	}
	ok = true
	var seenHost, seenHSS bool
	var hss *fastjson.Value
	top.Visit(func(k []byte, e *fastjson.Value) {
		if !ok {
			return
		}
		switch string(k) {
		case "host":
			if seenHost {
				ok = false
				return
			}
			seenHost = true
			id.host = e
			buf = appendKey(buf, k)
			buf, ok = p.appendSection(buf, "host.", e, []string{"name", "address", "labels", "hss_host_id"})
			return
		case "hss":
			if seenHSS {
				ok = false
				return
			}
			seenHSS = true
			hss = e
			buf = appendKey(buf, k)
			buf, ok = p.appendSection(buf, "hss.", e, []string{"host_id"})
			return
		}
		var fieldOK bool
		buf, fieldOK = p.appendField(buf, string(k), k, e)
		ok = ok && fieldOK
	})
	if !ok || id.host == nil || id.host.Type() != fastjson.TypeObject {
		return buf, id, false
	}
	name := id.host.Get("name")
	if name == nil || name.Type() != fastjson.TypeString {
		return buf, id, false
	}
	id.name = string(name.GetStringBytes())
	id.address = nonEmpty(id.host.Get("address"))
	if id.hssHostID = nonEmpty(id.host.Get("hss_host_id")); id.hssHostID == nil && hss != nil {
		id.hssHostID = nonEmpty(hss.Get("host_id"))
	}
	if l := id.host.Get("labels"); l != nil && l.Type() == fastjson.TypeObject {
		o, _ := l.Object()
		if o.Len() > 0 {
			id.labels = make(map[string]string, o.Len())
			o.Visit(func(k []byte, e *fastjson.Value) {
				if e.Type() == fastjson.TypeString {
					id.labels[string(k)] = string(e.GetStringBytes())
				} else {
					id.labels[string(k)] = toAST(e).String()
				}
			})
		}
	}
	return buf, id, true
}

// appendSection appends object e (host or hss) field by field, refusing
// duplicates of the keys the identity reads.
func (p *cachePlan) appendSection(buf []byte, prefix string, e *fastjson.Value, unique []string) ([]byte, bool) {
	o, err := e.Object()
	if err != nil {
		buf = append(buf, 'v')
		return e.MarshalTo(buf), true
	}
	buf = append(buf, '{')
	ok := true
	var seen uint32
	o.Visit(func(k []byte, f *fastjson.Value) {
		for i, u := range unique {
			if string(k) == u {
				if seen&(1<<i) != 0 {
					ok = false
				}
				seen |= 1 << i
			}
		}
		var fieldOK bool
		buf, fieldOK = p.appendField(buf, prefix+string(k), k, f)
		ok = ok && fieldOK
	})
	return append(buf, '}'), ok
}

// appendField appends field k (at path) with value e, as the plan says.
// ok is false when e repeats a key the policies read (OPA keeps the last
// of them, a lookup here the first).
func (p *cachePlan) appendField(buf []byte, path string, k []byte, e *fastjson.Value) (_ []byte, ok bool) {
	fr, identity := p.kinds[path]
	if !identity {
		fr.kind = readValue
	}
	switch fr.kind {
	case readNone:
		return buf, true
	case readType:
		buf = appendKey(buf, k)
		return append(buf, 't', byte(e.Type())), true
	case readKeys:
		buf = appendKey(buf, k)
		buf = append(buf, 't', byte(e.Type()))
		if o, err := e.Object(); err == nil {
			seen := map[string]bool{}
			ok = true
			o.Visit(func(k []byte, _ *fastjson.Value) {
				if slices.Contains(fr.keys, string(k)) {
					ok = ok && !seen[string(k)]
					seen[string(k)] = true
				}
			})
			if !ok {
				return buf, false
			}
		}
		for _, key := range fr.keys {
			if v := e.Get(key); v != nil && e.Type() == fastjson.TypeObject {
				buf = append(buf, 'v')
				buf = v.MarshalTo(buf)
			} else {
				buf = append(buf, 'a')
			}
		}
		return buf, true
	}
	buf = appendKey(buf, k)
	buf = append(buf, 'v')
	return e.MarshalTo(buf), true
}

func appendKey(buf, k []byte) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(k)))
	return append(buf, k...)
}

// nonEmpty is v as a string when it is a non-empty string, else nil.
func nonEmpty(v *fastjson.Value) *string {
	if v == nil || v.Type() != fastjson.TypeString {
		return nil
	}
	s := string(v.GetStringBytes())
	if s == "" {
		return nil
	}
	return &s
}

// verdictCache remembers verdicts by key, least recently used out first
// once it holds more than max bytes.
type verdictCache struct {
	mu           sync.Mutex
	max, size    int
	ll           *list.List
	m            map[string]*list.Element
	hits, misses int64
}

type cacheEntry struct {
	key  string
	d    contract.Decision // the verdict: identity fields empty
	size int
}

func newVerdictCache(max int) *verdictCache {
	return &verdictCache{max: max, ll: list.New(), m: map[string]*list.Element{}}
}

// get returns a copy of the verdict of key.
func (c *verdictCache) get(key []byte) (contract.Decision, bool) {
	c.mu.Lock()
	el, ok := c.m[string(key)]
	if !ok {
		c.misses++
		c.mu.Unlock()
		return contract.Decision{}, false
	}
	c.hits++
	c.ll.MoveToFront(el)
	d := el.Value.(*cacheEntry).d
	c.mu.Unlock()
	return copyVerdict(d), true
}

// put remembers the verdict of d under key.
func (c *verdictCache) put(key []byte, d contract.Decision) {
	e := &cacheEntry{key: string(key), d: copyVerdict(d)}
	e.d.Host, e.d.Address, e.d.HSSHostID, e.d.Labels = "", nil, nil, nil
	e.size = len(e.key) + verdictSize(e.d)
	if e.size > c.max/4 {
		return // one huge verdict would evict everything
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[e.key]; ok {
		return
	}
	c.m[e.key] = c.ll.PushFront(e)
	c.size += e.size
	for c.size > c.max {
		old := c.ll.Back()
		oe := old.Value.(*cacheEntry)
		c.ll.Remove(old)
		delete(c.m, oe.key)
		c.size -= oe.size
	}
}

// verdictSize estimates the memory a verdict holds.
func verdictSize(d contract.Decision) int {
	n := 256
	for _, fs := range [][]contract.Finding{d.Violations, d.Warnings, d.Waived} {
		for _, f := range fs {
			n += 96 + len(f.Check) + len(f.Message) + len(f.Remediation) + len(f.Severity)
			if f.Waiver != nil {
				n += 48 + len(f.Waiver.Justification) + len(f.Waiver.Expires)
			}
		}
	}
	return n
}

// copyVerdict copies d deeply enough that callers may change the copy.
func copyVerdict(d contract.Decision) contract.Decision {
	d.Violations = copyFindings(d.Violations)
	d.Warnings = copyFindings(d.Warnings)
	d.Waived = copyFindings(d.Waived)
	if d.Auth != nil {
		s := *d.Auth
		d.Auth = &s
	}
	if d.OS != nil {
		s := *d.OS
		d.OS = &s
	}
	return d
}

func copyFindings(fs []contract.Finding) []contract.Finding {
	if fs == nil {
		return nil
	}
	out := make([]contract.Finding, len(fs))
	copy(out, fs)
	for i := range out {
		if w := out[i].Waiver; w != nil {
			c := *w
			out[i].Waiver = &c
		}
	}
	return out
}

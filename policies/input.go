package policies

import (
	"errors"
	"fmt"

	"github.com/factorgate/factorgate/contract"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/valyala/fastjson"
)

var parsers fastjson.ParserPool

// parseInput turns one raw JSON Facts object into the AST value OPA
// evaluates, in one pass and without an intermediate map: this is the
// input OPA would otherwise build for every host by decoding JSON and
// converting the result.
func parseInput(raw []byte) (ast.Value, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.ParseBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if v.Type() != fastjson.TypeObject {
		return nil, errors.New("not a JSON object")
	}
	return toAST(v), nil
}

// toAST converts a parsed JSON value. Strings are copied, so the value
// outlives the parser and the raw bytes.
func toAST(v *fastjson.Value) ast.Value {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		kvs := make([][2]*ast.Term, 0, o.Len())
		o.Visit(func(k []byte, e *fastjson.Value) {
			kvs = append(kvs, [2]*ast.Term{ast.StringTerm(string(k)), ast.NewTerm(toAST(e))})
		})
		return ast.NewObject(kvs...)
	case fastjson.TypeArray:
		a, _ := v.Array()
		ts := make([]*ast.Term, len(a))
		for i, e := range a {
			ts[i] = ast.NewTerm(toAST(e))
		}
		return ast.NewArray(ts...)
	case fastjson.TypeString:
		return ast.String(v.GetStringBytes())
	case fastjson.TypeNumber:
		return ast.Number(v.String())
	case fastjson.TypeTrue:
		return ast.Boolean(true)
	case fastjson.TypeFalse:
		return ast.Boolean(false)
	}
	return ast.Null{}
}

// factsJSON encodes f for [parseInput] when no raw line is at hand.
func factsJSON(f *contract.Facts) ([]byte, error) {
	if f == nil {
		return nil, errors.New("no facts")
	}
	return jsonMarshal(f)
}

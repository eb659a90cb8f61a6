package remediate

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// jsonProblem says in factorgate's words what is wrong with JSON that
// encoding/json refused: `field "host": want a string, got an object`
// rather than Go's "cannot unmarshal object into Go struct field
// Entry.host of type string".
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return fmt.Sprintf("want %s, got %s", kindWords(te.Type), article(te.Value))
		}
		return fmt.Sprintf("field %q: want %s, got %s", field, kindWords(te.Type), article(te.Value))
	case errors.As(err, &se):
		return fmt.Sprintf("not valid JSON (at byte %d)", se.Offset)
	case strings.Contains(err.Error(), "unexpected end of JSON input"):
		return "not valid JSON (it ends midway)"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// kindWords names what a Go type holds in JSON's words.
func kindWords(t reflect.Type) string {
	if t == nil {
		return "another value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return kindWords(t.Elem())
	}
	return "another value"
}

// article puts "a" or "an" before a JSON value kind as encoding/json names
// it ("object", "string", "number", "bool", "array").
func article(v string) string {
	switch v {
	case "object", "array":
		if v == "array" {
			v = "list"
		}
		return "an " + v
	case "bool":
		return "true or false"
	case "":
		return "another value"
	}
	if strings.HasPrefix(v, "number") {
		return "a number"
	}
	return "a " + v
}

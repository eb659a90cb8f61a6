package policies

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// LoadData reads a data document for the policies from a YAML or JSON file
// (by extension: .json is JSON, anything else YAML, which also reads
// JSON). The document is merged at the root of data, as `opa eval --data`
// does, so parameters go under factorgate.params:
//
//	factorgate:
//	  params:
//	    openssh_max_major: 8
//
// Nothing else may go under factorgate (waivers come from --waivers, see
// [Options.Waivers]), and a parameter the bundle does not know is an
// error; data of the user's own policies goes beside factorgate.
// Errors name the file and, where the parser knows it, the line.
func LoadData(path string) (map[string]any, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, unwrapPathError(err))
	}
	var doc any
	if strings.HasSuffix(strings.ToLower(path), ".json") {
		dec := json.NewDecoder(bytes.NewReader(src))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("%s: %s", path, jsonErrorText(src, err))
		}
		if dec.More() {
			return nil, fmt.Errorf("%s: more than one JSON value", path)
		}
	} else {
		if err := yaml.Unmarshal(src, &doc); err != nil {
			return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
		}
	}
	if doc == nil {
		return map[string]any{}, nil
	}
	norm, err := normalize(doc, "")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m, ok := norm.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: the document must be a mapping (e.g. factorgate: {params: {...}}), not %s", path, kindOf(norm))
	}
	if err := validateData(m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// jsonErrorText adds the line and column to a JSON syntax error.
func jsonErrorText(src []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(src, se.Offset)
		return fmt.Sprintf("line %d, column %d: %s", line, col, se.Error())
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "empty or truncated JSON"
	}
	return err.Error()
}

func lineCol(src []byte, off int64) (int, int) {
	if off > int64(len(src)) {
		off = int64(len(src))
	}
	before := src[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, col
}

// normalize turns a decoded YAML or JSON document into values OPA takes:
// maps with string keys, slices, strings, numbers, booleans and nil.
func normalize(v any, at string) (any, error) {
	switch x := v.(type) {
	case nil, bool, string, json.Number, int, int64, uint64, float64:
		if f, ok := x.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return nil, fmt.Errorf("%s: %v is not a JSON number", where(at), f)
		}
		return x, nil
	case int8, int16, int32, uint, uint8, uint16, uint32:
		return json.Number(fmt.Sprint(x)), nil
	case float32:
		return float64(x), nil
	case time.Time:
		if x.Equal(x.Truncate(24*time.Hour)) && x.Location() == time.UTC {
			return x.Format(time.DateOnly), nil
		}
		return x.Format(time.RFC3339Nano), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e, fmt.Sprintf("%s[%d]", at, i))
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e, join(at, k))
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("%s: key %v is not a string", where(at), k)
			}
			n, err := normalize(e, join(at, ks))
			if err != nil {
				return nil, err
			}
			out[ks] = n
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: unsupported value of type %T", where(at), v)
}

func join(at, k string) string {
	if at == "" {
		return k
	}
	return at + "." + k
}

func where(at string) string {
	if at == "" {
		return "top level"
	}
	return at
}

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case string:
		return "a string"
	case nil:
		return "null"
	case bool:
		return "a boolean"
	}
	return "a number"
}

// validateData checks the parts of a data document the bundle reads. Under
// factorgate only params may be set, a mapping of known parameters of the
// right types: waivers come from --waivers, which checks their expiry,
// justification and hosts, and the rest of data.factorgate belongs to the
// bundle. Data of the user's own policies goes outside factorgate.
func validateData(m map[string]any) error {
	fg, ok := m["factorgate"]
	if !ok {
		return nil
	}
	fgm, ok := fg.(map[string]any)
	if !ok {
		return fmt.Errorf("factorgate: want a mapping, got %s", kindOf(fg))
	}
	keys := make([]string, 0, len(fgm))
	for k := range fgm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch k {
		case "params":
		case "waivers":
			return errors.New("factorgate.waivers: waivers are not taken from --data; put them in a --waivers FILE, which checks their expiry, justification and hosts")
		default:
			return fmt.Errorf("factorgate.%s: only factorgate.params may be set from --data; put the data of your own policies outside factorgate (e.g. acme: {...}, read as data.acme)", k)
		}
	}
	if p, ok := fgm["params"]; ok {
		pm, ok := p.(map[string]any)
		if !ok {
			return fmt.Errorf("factorgate.params: want a mapping, got %s", kindOf(p))
		}
		if err := ValidateParams(pm); err != nil {
			return fmt.Errorf("factorgate.params.%w", err)
		}
	}
	return nil
}

// knownParams are the names of the bundle's parameters, as
// data.factorgate.lib.default_params defines them.
var knownParams = []string{"auth_mode", "openssh_max_major", "packaged_sshd_paths"}

// ValidateParams checks the names, types and values of the bundle's
// parameters in params. A name the bundle does not know is an error (a
// typo would otherwise leave the default in force). An error starts with
// the parameter's name.
func ValidateParams(params map[string]any) error {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := params[k]
		switch k {
		case "openssh_max_major":
			if !isWholeNumber(v) {
				return fmt.Errorf("%s: want a whole number (e.g. 7), got %v", k, jsonText(v))
			}
		case "auth_mode":
			if s, ok := v.(string); !ok || (s != "sms" && s != "code") {
				return fmt.Errorf(`%s: want "sms" or "code", got %v`, k, jsonText(v))
			}
		case "packaged_sshd_paths":
			if err := checkPaths(v); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		default:
			return fmt.Errorf("%s: unknown parameter; the known ones are %s", k, strings.Join(knownParams, ", "))
		}
	}
	return nil
}

// checkPaths accepts a list of absolute paths (the sshd binaries the
// OpenSSH packages install).
func checkPaths(v any) error {
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("want a list of absolute paths (e.g. [/usr/sbin/sshd]), got %v", jsonText(v))
	}
	for i, e := range list {
		if s, ok := e.(string); !ok || !strings.HasPrefix(s, "/") {
			return fmt.Errorf("[%d]: want an absolute path, got %v", i, jsonText(e))
		}
	}
	return nil
}

func isWholeNumber(v any) bool {
	switch x := v.(type) {
	case int, int64, uint64, int32:
		return true
	case float64:
		return x == math.Trunc(x)
	case json.Number:
		_, err := x.Int64()
		return err == nil
	}
	return false
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// mergeData merges src into dst: mappings merge key by key, anything else
// in src replaces what dst holds.
func mergeData(dst, src map[string]any) {
	for k, v := range src {
		dm, dok := dst[k].(map[string]any)
		sm, sok := v.(map[string]any)
		if dok && sok {
			mergeData(dm, sm)
			continue
		}
		dst[k] = v
	}
}

package contract

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxLine bounds one JSON line of Facts.
const maxLine = 16 << 20

// LineError is returned by [Reader.Next] when a line is not valid Facts.
type LineError struct {
	File string
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Reader streams Facts from JSON lines, one host per line. Blank lines are
// skipped. It never holds more than one line in memory.
type Reader struct {
	name string
	br   *bufio.Reader
	line int
}

// NewReader returns a Reader of r; name is used in errors (a file name, or "-").
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{name: name, br: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next Facts and the raw JSON line it came from (valid until
// the next call), or io.EOF at the end. A bad line is a *LineError.
func (r *Reader) Next() (*Facts, []byte, error) {
	for {
		raw, err := r.readLine()
		if err != nil {
			return nil, nil, err
		}
		r.line++
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		f, err := ParseFacts(raw)
		if err != nil {
			return nil, nil, &LineError{File: r.name, Line: r.line, Msg: err.Error()}
		}
		return f, raw, nil
	}
}

// Line is the number of the line last read.
func (r *Reader) Line() int { return r.line }

func (r *Reader) readLine() ([]byte, error) {
	var buf []byte
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(buf)+len(chunk) > maxLine {
			return nil, &LineError{File: r.name, Line: r.line + 1, Msg: fmt.Sprintf("line longer than %d bytes", maxLine)}
		}
		switch {
		case err == nil:
			if buf == nil {
				return chunk, nil
			}
			return append(buf, chunk...), nil
		case errors.Is(err, bufio.ErrBufferFull):
			buf = append(buf, chunk...)
		case errors.Is(err, io.EOF):
			buf = append(buf, chunk...)
			if len(buf) == 0 {
				return nil, io.EOF
			}
			return buf, nil
		default:
			return nil, fmt.Errorf("%s: %w", r.name, err)
		}
	}
}

// ParseFacts decodes and validates one Facts object.
func ParseFacts(raw []byte) (*Facts, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	var f Facts
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, describeJSONError(err)
	}
	switch {
	case f.Schema == "":
		return nil, errors.New(`missing "schema" (want "` + FactsSchema + `")`)
	case f.Schema != FactsSchema:
		return nil, fmt.Errorf("unknown schema %q (this factorgate reads %q)", f.Schema, FactsSchema)
	case f.Host.Name == "":
		return nil, errors.New(`missing "host.name"`)
	}
	return &f, nil
}

func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "(top level)"
		}
		return fmt.Errorf("field %q: got JSON %s, want %s", field, te.Value, goTypeName(te.Type.String()))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not valid JSON at byte %d: %s", se.Offset, se.Error())
	}
	return fmt.Errorf("not valid Facts: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func goTypeName(t string) string {
	t = strings.TrimLeft(t, "*")
	switch {
	case t == "string":
		return "a string"
	case t == "bool":
		return "a boolean"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "[]"):
		return "an array"
	case strings.HasPrefix(t, "map"), strings.HasPrefix(t, "contract."):
		return "an object"
	case t == "time.Time":
		return "an RFC 3339 time string"
	}
	return t
}

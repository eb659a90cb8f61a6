package remediate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/factorgate/factorgate/contract"
)

// ReadDecisions reads saved Decisions: either a report (`check --format
// json`, an object with a "decisions" array) or JSON lines of Decisions
// (`check --format jsonl`). name is used in errors, which name the line.
func ReadDecisions(r io.Reader, name string) ([]contract.Decision, error) {
	br := bufio.NewReader(r)
	data, err := io.ReadAll(br)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%s: empty: want a report or JSON lines of decisions", name)
	}
	// A report is one object with "decisions"; try it first.
	var rep struct {
		Schema    string               `json:"schema"`
		Decisions *[]contract.Decision `json:"decisions"`
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(&rep); err == nil && rep.Decisions != nil && !dec.More() {
		if rep.Schema != "" && rep.Schema != contract.ReportSchema {
			return nil, fmt.Errorf("%s:1: unknown schema %q (this factorgate reads %q)", name, rep.Schema, contract.ReportSchema)
		}
		if err := validate(*rep.Decisions, name, 0); err != nil {
			return nil, err
		}
		return *rep.Decisions, nil
	}
	var out []contract.Decision
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var d contract.Decision
		if err := json.Unmarshal(line, &d); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("%s:%d: not valid JSON: %v", name, i+1, err)
			}
			return nil, fmt.Errorf("%s:%d: not a decision: %v", name, i+1, err)
		}
		if err := validate([]contract.Decision{d}, name, i+1); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func validate(ds []contract.Decision, name string, line int) error {
	for i, d := range ds {
		where := fmt.Sprintf("%s:%d", name, line)
		if line == 0 {
			where = fmt.Sprintf("%s: decisions[%d]", name, i)
		}
		if d.Host == "" {
			return fmt.Errorf(`%s: missing "host"`, where)
		}
		if d.Status == "" {
			return fmt.Errorf(`%s: host %s: missing "status"`, where, d.Host)
		}
	}
	return nil
}

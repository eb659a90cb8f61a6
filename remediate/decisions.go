package remediate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/factorgate/factorgate/contract"
)

// Saved are decisions read from a file by [ReadSaved].
type Saved struct {
	Decisions []contract.Decision
	// GeneratedAt is when the report was made (its generated_at); zero
	// for JSON lines, which carry no date.
	GeneratedAt time.Time
}

// ReadDecisions reads saved Decisions: either a report (`check --format
// json`, an object with a "decisions" array) or JSON lines of Decisions
// (`check --format jsonl`). name is used in errors, which name the line.
// A host decided twice is an error naming both places.
func ReadDecisions(r io.Reader, name string) ([]contract.Decision, error) {
	s, err := ReadSaved(r, name)
	if err != nil {
		return nil, err
	}
	return s.Decisions, nil
}

// ReadSaved is [ReadDecisions] that also returns when a report was made.
// Facts (scan's output) are refused with a word on how to judge them.
func ReadSaved(r io.Reader, name string) (*Saved, error) {
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
		Schema      string               `json:"schema"`
		GeneratedAt time.Time            `json:"generated_at"`
		Decisions   *[]contract.Decision `json:"decisions"`
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(&rep); err == nil && rep.Decisions != nil && !dec.More() {
		if rep.Schema != "" && rep.Schema != contract.ReportSchema {
			return nil, fmt.Errorf("%s:1: unknown schema %q (this factorgate reads %q)", name, rep.Schema, contract.ReportSchema)
		}
		seen := map[string]string{}
		for i, d := range *rep.Decisions {
			if err := validate(d, fmt.Sprintf("%s: decisions[%d]", name, i), seen); err != nil {
				return nil, err
			}
		}
		return &Saved{Decisions: *rep.Decisions, GeneratedAt: rep.GeneratedAt}, nil
	}
	var out []contract.Decision
	seen := map[string]string{}
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var head struct {
			Schema string `json:"schema"`
		}
		if json.Unmarshal(line, &head) == nil && head.Schema == contract.FactsSchema {
			return nil, fmt.Errorf("%s:%d: holds facts (scan's output), not decisions: judge them first with check --facts %s --format json -o report.json, then pass --decisions report.json", name, i+1, name)
		}
		var d contract.Decision
		if err := json.Unmarshal(line, &d); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("%s:%d: %s", name, i+1, jsonProblem(err))
			}
			return nil, fmt.Errorf("%s:%d: not a decision: %s", name, i+1, jsonProblem(err))
		}
		if err := validate(d, fmt.Sprintf("%s:%d", name, i+1), seen); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return &Saved{Decisions: out}, nil
}

// validate checks one decision found at where; seen maps the hosts met so
// far to where they were.
func validate(d contract.Decision, where string, seen map[string]string) error {
	if d.Host == "" {
		return fmt.Errorf(`%s: missing "host"`, where)
	}
	if d.Status == "" {
		return fmt.Errorf(`%s: host %s: missing "status"`, where, d.Host)
	}
	if first, dup := seen[d.Host]; dup {
		return fmt.Errorf("%s: host %s is decided twice (first at %s): keep one decision per host", where, d.Host, first)
	}
	seen[d.Host] = where
	return nil
}

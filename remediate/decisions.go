package remediate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/factorgate/factorgate/contract"
)

// Saved are decisions read from a file by [ReadSaved].
type Saved struct {
	Decisions []contract.Decision
	// GeneratedAt is when the report was made (its generated_at); zero
	// for JSON lines, which carry no date.
	GeneratedAt time.Time
	// Written is when the file was last written, for [ReadSavedFile].
	Written time.Time
}

// ReadSaved reads saved Decisions: either a report (`check --format
// json`, an object with a "decisions" array) or JSON lines of Decisions
// (`check --format jsonl`), and when a report was made. name is used in
// errors, which name the line. A host decided twice, or a status that is
// not one of [contract.Statuses], is an error naming its place. Facts
// (scan's output) are refused with a word on how to judge them.
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
	if _, err := contract.ParseStatus(string(d.Status)); err != nil {
		return fmt.Errorf("%s: host %s: %w", where, d.Host, err)
	}
	if first, dup := seen[d.Host]; dup {
		return fmt.Errorf("%s: host %s is decided twice (first at %s): keep one decision per host", where, d.Host, first)
	}
	seen[d.Host] = where
	return nil
}

// ReadSavedFile is [ReadSaved] on a file; the file's modification time is
// kept in [Saved.Written], to date JSON lines.
func ReadSavedFile(path string) (*Saved, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := ReadSaved(f, path)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil {
		s.Written = st.ModTime()
	}
	return s, nil
}

// StaleError is returned by [Saved.Fresh] when decisions are older than
// allowed: a plan made from them would act on a fleet as it was, not as it
// is.
type StaleError struct {
	// At is when the decisions were made (a report's generated_at), or
	// for JSON lines, which carry no date, when their file was written.
	At time.Time
	// Written is true when At is the file's time.
	Written bool
	Age     time.Duration
}

func (e *StaleError) Error() string {
	how := "made"
	if e.Written {
		how = "written"
	}
	return fmt.Sprintf("%s %s ago (%s)", how, roundAge(e.Age), e.At.UTC().Format(time.RFC3339))
}

// Fresh returns a [*StaleError] when the decisions are older than maxAge
// at now. Decisions of unknown date (JSON lines read from a pipe), and a
// maxAge of zero or less, pass.
func (s *Saved) Fresh(maxAge time.Duration, now time.Time) error {
	at, written := s.GeneratedAt, false
	if at.IsZero() {
		at, written = s.Written, true
	}
	if maxAge <= 0 || at.IsZero() {
		return nil
	}
	if age := now.Sub(at); age > maxAge {
		return &StaleError{At: at, Written: written, Age: age}
	}
	return nil
}

// roundAge says an age in the largest units that fit: 3d4h, 5h12m0s, 40s.
func roundAge(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		days := int(d / (24 * time.Hour))
		return fmt.Sprintf("%dd%dh", days, int((d-time.Duration(days)*24*time.Hour)/time.Hour))
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Second).String()
}

package remediate

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// actionPlan and actionVerify are the journal actions beside enable and
// disable.
const (
	actionPlan   = "plan"
	actionVerify = "verify"
)

// Entry is one line of a journal.
type Entry struct {
	Time      time.Time `json:"time"`
	Host      string    `json:"host,omitempty"`
	HostID    string    `json:"host_id,omitempty"`
	Action    string    `json:"action"` // plan, enable, disable, verify
	RequestID string    `json:"request_id,omitempty"`
	Outcome   Step      `json:"outcome,omitempty"`
	Error     string    `json:"error,omitempty"`
	Note      string    `json:"note,omitempty"`
	// Plan is set on the first line only.
	Plan *Plan `json:"plan,omitempty"`
}

// Journal is an append-only record of an apply, one JSON line per event,
// each written and synced to disk before the next API call.
type Journal struct {
	mu   sync.Mutex
	f    *os.File
	path string
}

// CreateJournal creates a new journal file; it refuses to overwrite one.
func CreateJournal(path string) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("journal %s already exists: resume it with --resume %s, or choose another --journal", path, path)
		}
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &Journal{f: f, path: path}, nil
}

// appendJournal opens an existing journal to add to it.
func appendJournal(path string) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &Journal{f: f, path: path}, nil
}

// Close closes the journal file.
func (j *Journal) Close() error { return j.f.Close() }

// write appends entries and syncs the file.
func (j *Journal) write(es ...Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	var buf []byte
	for _, e := range es {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		buf = append(append(buf, b...), '\n')
	}
	if _, err := j.f.Write(buf); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	return nil
}

// ReadJournal reads every entry of a journal. A last line cut short by a
// crash is ignored; any other bad line is an error naming it.
func ReadJournal(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var out []Entry
	for line := 1; ; line++ {
		raw, err := br.ReadBytes('\n')
		if len(raw) > 0 {
			var e Entry
			if jerr := json.Unmarshal(raw, &e); jerr != nil {
				if errors.Is(err, io.EOF) && line > 1 {
					break // a torn last line: the write it records never completed
				}
				if line == 1 {
					return nil, fmt.Errorf("%s:1: not a factorgate journal (its first line must be the plan): %s", path, jsonProblem(jerr))
				}
				return nil, fmt.Errorf("%s:%d: not a journal entry: %s", path, line, jsonProblem(jerr))
			}
			out = append(out, e)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("journal %s: %w", path, err)
		}
	}
	if len(out) == 0 || out[0].Action != actionPlan || out[0].Plan == nil {
		return nil, fmt.Errorf("%s:1: not a factorgate journal (its first line must be the plan)", path)
	}
	return out, nil
}

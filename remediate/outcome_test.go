package remediate_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/factorgate/factorgate/remediate"
)

// TestOutcomes checks the typed outcomes: each parses back from its JSON
// form, reads as words, and an unknown one is refused.
func TestOutcomes(t *testing.T) {
	for _, o := range []remediate.Outcome{remediate.ResultOK, remediate.ResultFailed, remediate.ResultUnverified, remediate.ResultNotAttempted} {
		got, err := remediate.ParseOutcome(string(o))
		if err != nil || got != o {
			t.Errorf("ParseOutcome(%q) = %q, %v", o, got, err)
		}
		b, _ := json.Marshal(remediate.HostResult{Outcome: o})
		var back remediate.HostResult
		if err := json.Unmarshal(b, &back); err != nil || back.Outcome != o {
			t.Errorf("JSON round trip of %q = %q, %v (%s)", o, back.Outcome, err, b)
		}
	}
	if s := remediate.ResultNotAttempted.String(); s != "not attempted" {
		t.Errorf("not_attempted reads %q, want words", s)
	}
	if _, err := remediate.ParseOutcome("done"); err == nil || !strings.Contains(err.Error(), `unknown outcome "done"`) {
		t.Errorf("ParseOutcome(done) err = %v", err)
	}
	for _, s := range []string{"pending", "ok", "failed"} {
		if st, err := remediate.ParseStep(s); err != nil || string(st) != s {
			t.Errorf("ParseStep(%q) = %q, %v", s, st, err)
		}
	}
}

// TestReadJournalUnknownOutcome checks that a journal entry whose outcome
// is none of pending, ok or failed is refused, naming its line.
func TestReadJournalUnknownOutcome(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	body := `{"time":"2026-11-27T07:00:00Z","action":"plan","plan":{"action":"enable","auth_type":"code","changes":[],"skipped":[],"warnings":[]}}
{"time":"2026-11-27T07:00:01Z","host":"a","host_id":"id-a","action":"enable","outcome":"maybe"}
{"time":"2026-11-27T07:00:02Z","host":"a","host_id":"id-a","action":"enable","outcome":"ok"}
`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := remediate.ReadJournal(path)
	if err == nil || !strings.Contains(err.Error(), "j.jsonl:2: not a journal entry: unknown outcome \"maybe\"") {
		t.Errorf("err = %v", err)
	}
}

// TestSavedFresh checks the age of saved decisions: a report by its
// generated_at, JSON lines by their file's time, unknown dates pass.
func TestSavedFresh(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	old := now.Add(-75 * time.Hour)
	for _, tt := range []struct {
		name  string
		saved remediate.Saved
		max   time.Duration
		want  string
	}{
		{"report", remediate.Saved{GeneratedAt: old}, 24 * time.Hour, "made 3d3h ago (2026-11-27T09:00:00Z)"},
		{"report within", remediate.Saved{GeneratedAt: old}, 80 * time.Hour, ""},
		{"lines", remediate.Saved{Written: now.Add(-90 * time.Minute)}, time.Hour, "written 1h30m0s ago"},
		{"no limit", remediate.Saved{GeneratedAt: old}, 0, ""},
		{"no date", remediate.Saved{}, time.Second, ""},
	} {
		err := tt.saved.Fresh(tt.max, now)
		var se *remediate.StaleError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: err = %v", tt.name, err)
		case tt.want != "" && (!errors.As(err, &se) || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

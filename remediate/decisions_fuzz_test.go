package remediate_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/factorgate/factorgate/remediate"
)

// FuzzReadSaved checks that no input makes the reader panic, and that
// what it accepts makes a plan.
func FuzzReadSaved(f *testing.F) {
	for _, name := range []string{"fleet.json", "fleet.jsonl"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "decisions", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"host":"a","status":"eligible","eligible":true,"hss_host_id":"x","auth":"password","os":"windows"}`))
	f.Add([]byte(`{"decisions":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := remediate.ReadSaved(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		ds := s.Decisions
		p, err := remediate.NewPlan(ds, remediate.Options{Action: remediate.Enable, AuthType: "code"})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Changes)+len(p.Skipped) != len(ds) {
			t.Fatalf("plan covers %d of %d hosts", len(p.Changes)+len(p.Skipped), len(ds))
		}
		var out bytes.Buffer
		if err := p.Render(&out); err != nil {
			t.Fatal(err)
		}
	})
}

package remediate_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/remediate"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func loadDecisions(t *testing.T, name string) []contract.Decision {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "decisions", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ds, err := remediate.ReadDecisions(f, name)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestPlanGolden(t *testing.T) {
	tests := []struct {
		golden string
		opts   remediate.Options
	}{
		{"enable_code.golden", remediate.Options{Action: remediate.Enable, AuthType: "code"}},
		{"enable_sms_force_waived.golden", remediate.Options{Action: remediate.Enable, AuthType: "sms",
			TopicURN: "urn:smn:ap-southeast-1:0123:ops-2fa", Force: true, IncludeWaived: true}},
		{"disable.golden", remediate.Options{Action: remediate.Disable}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			for _, src := range []string{"fleet.json", "fleet.jsonl"} {
				p, err := remediate.NewPlan(loadDecisions(t, src), tt.opts)
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				if err := p.Render(&b); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", tt.golden)
				if *update {
					if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if b.String() != string(want) {
					t.Errorf("plan from %s differs from %s:\n%s", src, path, b.String())
				}
			}
		})
	}
}

func TestPlanOptions(t *testing.T) {
	tests := []struct {
		opts remediate.Options
		want string
	}{
		{remediate.Options{Action: remediate.Enable, AuthType: "sms"}, "auth mode sms needs a topic URN"},
		{remediate.Options{Action: remediate.Enable, AuthType: "totp"}, `auth mode "totp": want sms or code`},
		{remediate.Options{Action: "toggle"}, `action "toggle"`},
	}
	for _, tt := range tests {
		_, err := remediate.NewPlan(nil, tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewPlan(%+v) err = %v, want %q", tt.opts, err, tt.want)
		}
	}
}

func TestPlanDuplicateHostID(t *testing.T) {
	id := "same"
	ds := []contract.Decision{
		{Host: "a", HSSHostID: &id, Status: contract.StatusEligible, Eligible: true},
		{Host: "b", HSSHostID: &id, Status: contract.StatusEligible, Eligible: true},
		{Host: "c", HSSHostID: &id, Status: "maybe", Eligible: true},
	}
	p, err := remediate.NewPlan(ds, remediate.Options{Action: remediate.Enable, AuthType: "code"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Skipped[0].Reason != "same HSS host id as a" || p.Skipped[1].Reason != `unknown status "maybe"` {
		t.Errorf("plan = %+v", p)
	}
}

func TestReadDecisionsErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", "d.json: empty"},
		{`{"host":"a","status":"eligible"}` + "\n" + `{"host":`, "d.json:2: not valid JSON"},
		{`{"host":"a","status":"eligible"}` + "\n" + `{"status":"eligible"}`, `d.json:2: missing "host"`},
		{`{"schema":"factorgate/report/v9","decisions":[]}`, `d.json:1: unknown schema "factorgate/report/v9"`},
		{`{"schema":"factorgate/report/v1","decisions":[{"host":"a"}]}`, `d.json: decisions[0]: host a: missing "status"`},
		{`{"host":"a","status":"eligible","eligible":"yes"}`, "d.json:1: not a decision"},
	}
	for _, tt := range tests {
		_, err := remediate.ReadDecisions(strings.NewReader(tt.in), "d.json")
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ReadDecisions(%q) err = %v, want prefix %q", tt.in, err, tt.want)
		}
	}
}

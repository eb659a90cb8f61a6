package policies

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/factorgate/factorgate/waiver"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// TestWaiverMatchAgreesWithBundle checks waiver.Match, which tells the
// operator that a waiver covers no host of a run, against the bundle's own
// rule (data.factorgate.decision.covering_waivers), which decides what a
// waiver waives: for every host below, the two name the same waivers.
func TestWaiverMatchAgreesWithBundle(t *testing.T) {
	ctx := context.Background()
	entries, _, err := waiver.Parse("w.yaml", []byte(`waivers:
  - {host: "web-*", check: selinux, justification: j, expires: 2099-01-01}
  - {host: "*", check: selinux, justification: j, expires: 2099-01-01}
  - {host: "web-0?", check: selinux, justification: j, expires: 2099-01-01}
  - {host: "*.example.com", check: selinux, justification: j, expires: 2099-01-01}
  - {host: "db-01", check: selinux, justification: j, expires: 2099-01-01}
  - {host: "w*b*-prod", check: selinux, justification: j, expires: 2099-01-01}
  - {selector: {env: prod}, check: selinux, justification: j, expires: 2099-01-01}
  - {selector: {env: prod, tier: "1"}, check: selinux, justification: j, expires: 2099-01-01}
  - {selector: {zone: a}, check: selinux, justification: j, expires: 2099-01-01}
  - {selector: {env: ""}, check: selinux, justification: j, expires: 2099-01-01}
`), time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := New(ctx, Options{Waivers: entries})
	if err != nil {
		t.Fatal(err)
	}
	if ev.plan == nil || !ev.plan.covering {
		t.Fatal("no covering_waivers query prepared")
	}
	labelSets := []map[string]string{nil, {}, {"env": "prod"}, {"env": "prod", "tier": "1"}, {"env": "prod", "tier": "2"},
		{"env": "staging", "zone": "a"}, {"env": ""}, {"ENV": "prod"}}
	hosts := []string{"web-01", "web-", "web-011", "db-01", "a.example.com", "example.com", "a.b.example.com", "web-1-prod", "WEB-01", "x"}
	for _, name := range hosts {
		for _, labels := range labelSets {
			var want []int
			for i, e := range entries {
				if waiver.Match(e, name, labels) {
					want = append(want, i)
				}
			}
			host := map[string]any{"name": name}
			if labels != nil {
				l := map[string]any{}
				for k, v := range labels {
					l[k] = v
				}
				host["labels"] = l
			}
			in, err := ast.InterfaceToValue(map[string]any{"host": host})
			if err != nil {
				t.Fatal(err)
			}
			rs, err := ev.cover.Eval(ctx, rego.EvalParsedInput(in))
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, v := range rs[0].Expressions[0].Value.([]any) {
				n, err := v.(interface{ Int64() (int64, error) }).Int64()
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, int(n))
			}
			if !slices.Equal(got, want) {
				t.Errorf("host %q labels %v: bundle covers with %v, waiver.Match with %v", name, labels, got, want)
			}
		}
	}
}

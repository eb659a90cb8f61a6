package remediate_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/testutil"
	"github.com/factorgate/factorgate/remediate"
)

func loadDecisions(t *testing.T, name string) []contract.Decision {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "decisions", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := remediate.ReadSaved(f, name)
	if err != nil {
		t.Fatal(err)
	}
	return s.Decisions
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
				// Both sources make the one plan of the golden file.
				testutil.Golden(t, filepath.Join("testdata", tt.golden), b.Bytes())
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

func TestReadSavedErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", "d.json: empty"},
		{`{"host":"a","status":"eligible"}` + "\n" + `{"host":`, "d.json:2: not valid JSON"},
		{`{"host":"a","status":"eligible"}` + "\n" + `{"status":"eligible"}`, `d.json:2: missing "host"`},
		{`{"schema":"factorgate/report/v9","decisions":[]}`, `d.json:1: unknown schema "factorgate/report/v9"`},
		{`{"schema":"factorgate/report/v1","decisions":[{"host":"a"}]}`, `d.json: decisions[0]: host a: missing "status"`},
		{`{"host":"a","status":"maybe"}`, `d.json:1: host a: unknown status "maybe": want one of eligible, enabled, ineligible, enabled_ineligible, unreachable`},
		{`{"schema":"factorgate/report/v1","decisions":[{"host":"a","status":"Eligible"}]}`, `d.json: decisions[0]: host a: unknown status "Eligible"`},
		{`{"host":"a","status":"eligible","eligible":"yes"}`, `d.json:1: not a decision: field "eligible": want true or false, got a string`},
		{`{"host":{"name":"a"},"status":"eligible"}`, `d.json:1: not a decision: field "host": want a string, got an object`},
		{`{"schema":"factorgate/facts/v1","host":{"name":"a"},"reachable":true}`, "d.json:1: holds facts (scan's output), not decisions: judge them first with check --facts d.json"},
		{`{"host":"a","status":"eligible"}` + "\n\n" + `{"host":"b","status":"eligible"}` + "\n" + `{"host":"a","status":"ineligible"}`,
			"d.json:4: host a is decided twice (first at d.json:1)"},
		{`{"schema":"factorgate/report/v1","decisions":[{"host":"a","status":"eligible"},{"host":"a","status":"eligible"}]}`,
			"d.json: decisions[1]: host a is decided twice (first at d.json: decisions[0])"},
	}
	for _, tt := range tests {
		_, err := remediate.ReadSaved(strings.NewReader(tt.in), "d.json")
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ReadSaved(%q) err = %v, want prefix %q", tt.in, err, tt.want)
		}
	}
}

func TestPlanDuplicateHost(t *testing.T) {
	ds := []contract.Decision{
		{Host: "web-1", HSSHostID: contract.Ptr("id-1"), Status: contract.StatusEligible, Eligible: true},
		{Host: "web-2", HSSHostID: contract.Ptr("id-2"), Status: contract.StatusEligible, Eligible: true},
		{Host: "web-1", HSSHostID: contract.Ptr("id-3"), Status: contract.StatusIneligible},
	}
	for _, opts := range []remediate.Options{{Action: remediate.Enable, AuthType: "code"}, {Action: remediate.Disable}} {
		_, err := remediate.NewPlan(ds, opts)
		if !errors.Is(err, remediate.ErrBadDecisions) || !strings.Contains(err.Error(), "host web-1 is decided more than once") {
			t.Errorf("%s: NewPlan err = %v, want ErrBadDecisions naming web-1", opts.Action, err)
		}
	}
}

// TestPlanInconsistentDecision checks that enable trusts no status that its
// own decision contradicts.
func TestPlanInconsistentDecision(t *testing.T) {
	v := []contract.Finding{{Check: "selinux", Message: "SELinux is enforcing"}}
	ds := []contract.Decision{
		{Host: "a", HSSHostID: contract.Ptr("id-a"), Status: contract.StatusEligible, Eligible: true, Violations: v},
		{Host: "b", HSSHostID: contract.Ptr("id-b"), Status: contract.StatusEligible, Eligible: false},
		{Host: "c", HSSHostID: contract.Ptr("id-c"), Status: contract.StatusEligible, Eligible: false, Violations: v},
		{Host: "d", HSSHostID: contract.Ptr("id-d"), Status: contract.StatusEligible, Eligible: true, Violations: []contract.Finding{}},
	}
	p, err := remediate.NewPlan(ds, remediate.Options{Action: remediate.Enable, AuthType: "code"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"a": "decision is inconsistent: status eligible with violations (selinux): re-run check",
		"b": "decision is inconsistent: status eligible with eligible false: re-run check",
		"c": "decision is inconsistent: status eligible with eligible false: re-run check",
	}
	if len(p.Changes) != 1 || p.Changes[0].Host != "d" {
		t.Errorf("changes = %+v, want d alone", p.Changes)
	}
	for _, s := range p.Skipped {
		if s.Reason != want[s.Host] {
			t.Errorf("%s skipped: %q, want %q", s.Host, s.Reason, want[s.Host])
		}
		delete(want, s.Host)
	}
	if len(want) > 0 {
		t.Errorf("not skipped: %v", want)
	}
}

// TestPlanLive checks plans made with the live 2FA host list: disable goes
// by each host's true 2FA state whatever its decision says, enable leaves
// alone hosts that already show the wanted setting; without the list,
// disable does not guess that an eligible host has 2FA off.
func TestPlanLive(t *testing.T) {
	const topic = "urn:smn:eu-de:p:ops"
	d := func(host, id string, status contract.Status) contract.Decision {
		dec := contract.Decision{Host: host, Status: status, Eligible: status == contract.StatusEligible || status == contract.StatusEnabled,
			Auth: contract.Ptr("publickey")}
		if id != "" {
			dec.HSSHostID = contract.Ptr(id)
		}
		return dec
	}
	ds := []contract.Decision{
		d("on-eligible", "id-1", contract.StatusEligible),
		d("off-ineligible", "id-2", contract.StatusIneligible),
		d("off-enabled", "id-3", contract.StatusEnabled),
		d("no-id", "", contract.StatusEnabled),
		d("on-unreachable", "id-5", contract.StatusUnreachable),
		d("not-listed", "id-6", contract.StatusEligible),
		d("on-other-topic", "id-7", contract.StatusEligible),
		d("off-eligible", "id-8", contract.StatusEligible),
	}
	live := remediate.LiveState([]cloud.TwoFactorHost{
		{HostID: "id-1", Enabled: true, AuthType: "sms", TopicURN: topic},
		{HostID: "id-2"},
		{HostID: "id-3"},
		{HostID: "id-5", Enabled: true, AuthType: "code"},
		{HostID: "id-7", Enabled: true, AuthType: "sms", TopicURN: "urn:smn:eu-de:p:old"},
		{HostID: "id-8"},
	})
	tests := []struct {
		name string
		opts remediate.Options
		want string // host: + change, = skip reason
	}{
		{"disable live", remediate.Options{Action: remediate.Disable, Live: live}, `
+ on-eligible
= no-id: HSS host id unknown: set hss_host_id in the inventory, or scan with cloud credentials
= not-listed: not in the HSS 2FA host list (no HSS agent): 2FA cannot be on
= off-eligible: 2FA is off (the HSS 2FA host list shows it)
= off-enabled: 2FA is off (the HSS 2FA host list shows it)
= off-ineligible: 2FA is off (the HSS 2FA host list shows it)
+ on-other-topic
+ on-unreachable`},
		{"disable without the list", remediate.Options{Action: remediate.Disable}, `
= no-id: unknown HSS host id: scan with cloud credentials, or set hss_host_id in the inventory
= not-listed: 2FA state unknown (decision says eligible): run with cloud credentials to read the HSS 2FA host list
= off-eligible: 2FA state unknown (decision says eligible): run with cloud credentials to read the HSS 2FA host list
+ off-enabled
= off-ineligible: 2FA state unknown (decision says ineligible): run with cloud credentials to read the HSS 2FA host list
= on-eligible: 2FA state unknown (decision says eligible): run with cloud credentials to read the HSS 2FA host list
= on-other-topic: 2FA state unknown (decision says eligible): run with cloud credentials to read the HSS 2FA host list
= on-unreachable: unreachable: its 2FA setting is unknown`},
		{"enable sms live", remediate.Options{Action: remediate.Enable, AuthType: "sms", TopicURN: topic, Live: live}, `
+ not-listed
+ off-eligible
+ on-other-topic (2FA is on now with auth type sms, topic urn:smn:eu-de:p:old: it will be replaced)
= no-id: 2FA already on (enabled)
= off-enabled: 2FA already on (enabled)
= off-ineligible: ineligible
= on-eligible: 2FA already on (the HSS 2FA host list shows it)
= on-unreachable: unreachable`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := remediate.NewPlan(ds, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, c := range p.Changes {
				l := "+ " + c.Host
				if c.Note != "" {
					l += " (" + c.Note + ")"
				}
				lines = append(lines, l)
			}
			for _, s := range p.Skipped {
				lines = append(lines, "= "+s.Host+": "+s.Reason)
			}
			got := strings.Join(lines, "\n")
			want := strings.Split(strings.TrimSpace(tt.want), "\n")
			// Changes first, then skips, each in host order.
			sortPlanLines(want)
			if got != strings.Join(want, "\n") {
				t.Errorf("plan:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
			}
		})
	}
}

func sortPlanLines(ls []string) {
	sort.SliceStable(ls, func(i, j int) bool {
		if ls[i][0] != ls[j][0] {
			return ls[i][0] == '+'
		}
		return ls[i] < ls[j]
	})
}

package remediate_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/remediate"
)

// checkTerminalText fails when a line of out is wider than 80 columns (all
// runes here are one column wide) or out holds a control character other
// than the line breaks, or a bidirectional control.
func checkTerminalText(t *testing.T, what, out string) {
	t.Helper()
	for i, line := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(line); n > 80 {
			t.Errorf("%s line %d is %d columns wide:\n%s", what, i+1, n, line)
		}
		for _, r := range line {
			if unicode.IsControl(r) || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') {
				t.Errorf("%s line %d holds the control %U: %q", what, i+1, r, line)
			}
		}
	}
}

// TestPlanTextWidth renders a plan of hosts whose names, ids and messages
// are long and carry terminal controls: every line fits 80 columns, and no
// control reaches the terminal.
func TestPlanTextWidth(t *testing.T) {
	long := "web-" + strings.Repeat("very-long-name-", 12) + "01"
	evil := "evil-\x1b]0;owned\x07\x1b[2J\u202ebew-\r\n01"
	ds := []contract.Decision{
		{Host: long, HSSHostID: contract.Ptr("7d1c3a52-0001-4c1e-9b7a-3f2a9e0c0001-" + strings.Repeat("x", 60)), Status: contract.StatusEligible, Eligible: true},
		{Host: "a", HSSHostID: contract.Ptr("id-a"), Status: contract.StatusEligible, Eligible: true},
		{Host: evil, HSSHostID: contract.Ptr("id-\x1b[31mred"), Status: contract.StatusEligible, Eligible: true},
		{Host: long + "-x", Status: contract.StatusIneligible, Violations: []contract.Finding{{Check: "selinux",
			Message: "SELinux is enforcing \x1b[2J now and in /etc/selinux/config, which sets it at boot; " + strings.Repeat("and more ", 20)}}},
		{Host: "db-" + strings.Repeat("z", 100), Status: contract.StatusUnreachable, Violations: []contract.Finding{{Check: "reachable", Message: "dial tcp: \u202eoops"}}},
	}
	for _, opts := range []remediate.Options{
		{Action: remediate.Enable, AuthType: cloud.AuthSMS, TopicURN: "urn:smn:ap-southeast-1:0123456789abcdef0123456789abcdef:" + strings.Repeat("t", 80)},
		{Action: remediate.Disable},
	} {
		p, err := remediate.NewPlan(ds, opts)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := p.Render(&b); err != nil {
			t.Fatal(err)
		}
		checkTerminalText(t, string(opts.Action)+" plan", b.String())
		if opts.Action == remediate.Enable && !strings.Contains(b.String(), "evil-bew-  01") {
			t.Errorf("the host name with controls is not shown with its escape sequences removed whole:\n%s", b.String())
		}
	}
}

// TestResultTextWidth renders a result with long names, ids and API errors
// that carry terminal controls: every line fits 80 columns, controls are
// gone, and outcomes read as words.
func TestResultTextWidth(t *testing.T) {
	r := &remediate.Result{Action: remediate.Enable, Hosts: []remediate.HostResult{
		{Host: "web-" + strings.Repeat("long-", 30), HostID: "7d1c3a52-0001-4c1e-9b7a-3f2a9e0c0001", Outcome: remediate.ResultOK,
			RequestID: "0123456789abcdef0123456789abcdef"},
		{Host: "b\x1b[2J", HostID: "id-b", Outcome: remediate.ResultFailed, RequestID: "fedcba9876543210fedcba9876543210",
			Error: "HSS.1001: the agent \x1b[31mis not installed\u202e; " + strings.Repeat("retry later ", 12)},
		{Host: "c", HostID: strings.Repeat("c", 100), Outcome: remediate.ResultNotAttempted,
			Error: "not attempted: the apply stopped after too many failures"},
	}}
	var b strings.Builder
	if err := r.Render(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	checkTerminalText(t, "result", out)
	for _, want := range []string{"not attempted;", "Enable: 1 ok, 1 failed, 1 not attempted."} {
		if !strings.Contains(out, want) {
			t.Errorf("result lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "not_attempted") {
		t.Errorf("result shows not_attempted, not words:\n%s", out)
	}
}

package policies

import (
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
	"github.com/open-policy-agent/opa/v1/ast"
)

// A decision is read with its status checked: a bundle that computed a
// status factorgate does not know fails the host's judgement rather than
// reaching the reports and the gate as an unknown word.
func TestDecodeDecisionStatus(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		status   contract.Status
	}{
		{in: `{"host": "a", "status": "enabled_ineligible"}`, status: contract.StatusEnabledIneligible},
		{in: `{"host": "a"}`, want: "decision on a has no status"},
		{in: `{"host": "a", "status": "fine"}`, want: `decision on a: unknown status "fine": want one of eligible, enabled, ineligible, enabled_ineligible, unreachable`},
	} {
		d, err := decodeDecision(ast.MustParseTerm(strings.TrimSuffix(tc.in, "}") + `, "eligible": false, "violations": [], "warnings": [], "waived": []}`).Value)
		if tc.want != "" {
			if err == nil || err.Error() != tc.want {
				t.Errorf("decode %s: err = %v, want %q", tc.in, err, tc.want)
			}
			continue
		}
		if err != nil || d.Status != tc.status {
			t.Errorf("decode %s = %q, %v; want %q", tc.in, d.Status, err, tc.status)
		}
	}
}

package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
)

// TestWaivedHostsSummary checks that the table, markdown and html
// summaries count the hosts with waived violations, which would otherwise
// blend in with the hosts that pass, and say nothing when there are none.
func TestWaivedHostsSummary(t *testing.T) {
	waived := []contract.Finding{{Check: "selinux", Message: "SELinux is permissive",
		Waiver: &contract.Waiver{Justification: "CHG-1", Expires: "2027-01-31"}}}
	fleet := func(nWaived int) *contract.Report {
		ds := []contract.Decision{{Host: "clean-01", Status: contract.StatusEligible, Eligible: true}}
		for i := 0; i < nWaived; i++ {
			ds = append(ds, contract.Decision{Host: "waived-0" + string(rune('1'+i)), Status: contract.StatusEligible, Eligible: true,
				Waived: append(waived, waived...)})
		}
		return contract.NewReport(fixtureCompliance().GeneratedAt, ds)
	}
	want := map[string]map[int]string{
		"table":    {1: "1 host with waived violations", 2: "2 hosts with waived violations"},
		"markdown": {1: "**1 host with waived violations**", 2: "**2 hosts with waived violations**"},
		"html":     {1: `<span class="count">1</span> <span class="label">host with waived violations</span>`, 2: `<span class="count">2</span> <span class="label">hosts with waived violations</span>`},
	}
	for _, format := range []string{"table", "markdown", "html"} {
		for _, n := range []int{0, 1, 2} {
			var buf bytes.Buffer
			if err := RenderReport(&buf, format, fleet(n)); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if n == 0 {
				if strings.Contains(out, "with waived violations") {
					t.Errorf("%s, no waiver: output speaks of waived hosts:\n%s", format, out)
				}
				continue
			}
			if got := strings.Count(out, want[format][n]); got != 1 {
				t.Errorf("%s, %d waived hosts: %q found %d times, want once:\n%s", format, n, want[format][n], got, out)
			}
		}
	}
	// The fixture has one host with a waived violation, web-02.
	for format, w := range map[string]string{"table": "1 host with waived violations", "markdown": "**1 host with waived violations**"} {
		if !strings.Contains(string(renderFixture(t, format)), w) {
			t.Errorf("%s of the fixture lacks %q", format, w)
		}
	}
}

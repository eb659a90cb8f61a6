package contract_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
)

func TestParseStatus(t *testing.T) {
	for _, st := range contract.Statuses {
		got, err := contract.ParseStatus(st.String())
		if err != nil || got != st {
			t.Errorf("ParseStatus(%q) = %q, %v", st, got, err)
		}
	}
	for _, in := range []string{"", "Eligible", " eligible", "enabled-ineligible", "none"} {
		_, err := contract.ParseStatus(in)
		want := `unknown status "` + in + `": want one of eligible, enabled, ineligible, enabled_ineligible, unreachable`
		if err == nil || err.Error() != want {
			t.Errorf("ParseStatus(%q) err = %v, want %q", in, err, want)
		}
	}
}

func TestStatusPasses(t *testing.T) {
	passes := map[contract.Status]bool{
		contract.StatusEligible: true, contract.StatusEnabled: true,
		contract.StatusIneligible: false, contract.StatusEnabledIneligible: false, contract.StatusUnreachable: false,
		"": false, "maybe": false,
	}
	for st, want := range passes {
		if got := st.Passes(); got != want {
			t.Errorf("%q.Passes() = %v, want %v", st, got, want)
		}
	}
}

// A status is written as its string: the report's JSON does not change
// with the type.
func TestStatusJSON(t *testing.T) {
	rep := contract.NewReport(time.Unix(0, 0), []contract.Decision{{Host: "a", Status: contract.StatusEnabledIneligible}})
	b, err := json.Marshal(struct {
		S contract.Status         `json:"s"`
		M map[contract.Status]int `json:"m"`
	}{contract.StatusEnabledIneligible, rep.Summary})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"s":"enabled_ineligible","m":{"eligible":0,"enabled":0,"enabled_ineligible":1,"ineligible":0,"unreachable":0}}`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
}

package main

import (
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
)

// The default gate fails exactly the statuses that do not pass: those the
// reports mark as failing.
func TestDefaultFailOnIsNotPassing(t *testing.T) {
	var want []string
	for _, st := range contract.Statuses {
		if !st.Passes() {
			want = append(want, st.String())
		}
	}
	if got := strings.Join(want, ","); got != defaultFailOn {
		t.Errorf("defaultFailOn = %q, want %q", defaultFailOn, got)
	}
}

package winprofiles

import (
	"slices"
	"testing"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/scanner/probe"
)

func TestProfiles(t *testing.T) {
	names := Names()
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Fatalf("names not sorted and unique: %v", names)
	}
	for _, want := range []string{Server2012R2, Server2016, Server2019, Server2022, RDPOff, RDPOffByPolicy, MustChange, MustChangeDisabled, AgentAbsent, ConflictingProduct, Slow, Garbage} {
		if _, ok := Get(want); !ok {
			t.Errorf("profile %s missing", want)
		}
	}
	for _, p := range All() {
		t.Run(p.Name, func(t *testing.T) {
			var f contract.Facts
			err := probe.ParseWindows(p.Stdout, &f)
			switch {
			case p.Slow:
				// Its output is fine; the answer comes too late.
				if err != nil {
					t.Fatal(err)
				}
			case p.Expect.Facts && err != nil:
				t.Fatalf("output does not parse: %v", err)
			case !p.Expect.Facts && err == nil:
				t.Fatalf("output parses, but the profile expects the probe to fail")
			}
			switch p.Expect.Status {
			case "eligible", "ineligible", "unreachable":
			default:
				t.Errorf("status %q", p.Expect.Status)
			}
			if (p.Expect.Status == "eligible") != (len(p.Expect.Violations) == 0) || !slices.IsSorted(p.Expect.Violations) {
				t.Errorf("status %s with violations %v", p.Expect.Status, p.Expect.Violations)
			}
		})
	}
}

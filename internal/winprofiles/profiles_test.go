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
	for _, want := range []string{Server2012R2, Server2016, Server2019, Server2022, RDPOff, RDPOffByPolicy, MustChange, MustChangeDisabled, AgentAbsent, ConflictingProduct, Slow, Garbage, TermServiceDisabled, WinStationOff, RDPFirewallOff, MustChangeExpired2, DomainController, BannerNoise} {
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

// TestProfileFacts states what the profiles made for one fact each must
// yield once parsed, apart from the verdict.
func TestProfileFacts(t *testing.T) {
	parse := func(name string) contract.Facts {
		t.Helper()
		p, ok := Get(name)
		if !ok {
			t.Fatalf("profile %s missing", name)
		}
		var f contract.Facts
		if err := probe.ParseWindows(p.Stdout, &f); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return f
	}
	if f := parse(TermServiceDisabled); *f.RDP.Enabled || *f.RDP.ServiceStartMode != "Disabled" {
		t.Errorf("%s: rdp %+v", TermServiceDisabled, f.RDP)
	}
	if f := parse(WinStationOff); *f.RDP.Enabled || *f.RDP.WinStationEnabled {
		t.Errorf("%s: rdp %+v", WinStationOff, f.RDP)
	}
	if f := parse(RDPFirewallOff); !*f.RDP.Enabled || *f.RDP.FirewallEnabled {
		t.Errorf("%s: rdp %+v", RDPFirewallOff, f.RDP)
	}
	if f := parse(MustChangeExpired2); f.Accounts[0].Name != "Administrator" || !*f.Accounts[0].MustChangePassword || !*f.Accounts[0].Enabled {
		t.Errorf("%s: accounts %+v", MustChangeExpired2, f.Accounts)
	}
	if f := parse(DomainController); f.Accounts != nil || f.OS.DomainRole == nil || *f.OS.DomainRole != 5 {
		t.Errorf("%s: accounts %+v, os %+v", DomainController, f.Accounts, f.OS)
	}
	if f := parse(BannerNoise); !*f.RDP.Enabled || *f.OS.DomainRole != 2 || len(f.Accounts) != 4 {
		t.Errorf("%s: facts %+v", BannerNoise, f)
	}
	if f := parse(Server2019); !*f.RDP.Enabled || !*f.RDP.FirewallEnabled || *f.RDP.ServiceStartMode != "Manual" || !*f.RDP.WinStationEnabled {
		t.Errorf("%s: rdp %+v", Server2019, f.RDP)
	}
}

package winrmsim_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/winprofiles"
	"github.com/factorgate/factorgate/internal/winrmsim"
	"github.com/factorgate/factorgate/policies"
	"github.com/factorgate/factorgate/scanner"
	"github.com/factorgate/factorgate/scanner/inventory"
)

// TestScanAndJudge scans every profile through scanner.Scan and the real
// winrm client over HTTPS, judges the facts with the default policy
// bundle, and checks each verdict against the profile's expectation. One
// more host refuses the scanner's password: it must be unreachable with a
// clear error while the others are scanned.
func TestScanAndJudge(t *testing.T) {
	var specs []winrmsim.HostSpec
	for _, p := range winrmsim.Profiles() {
		specs = append(specs, winrmsim.HostSpec{Name: "win-" + p.Name, Profile: p.Name})
	}
	specs = append(specs, winrmsim.HostSpec{Name: "win-wrong-password", Profile: winprofiles.Server2019})
	sim, err := winrmsim.Start(context.Background(), winrmsim.Config{
		Hosts: specs, TLS: true, User: "Administrator", Password: "right-one", SlowDelay: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()

	var hosts []inventory.Host
	for _, h := range sim.Hosts() {
		env := "WINRM_PASSWORD"
		if h.Name == "win-wrong-password" {
			env = "WINRM_OTHER_PASSWORD"
		}
		hosts = append(hosts, inventory.Host{
			Name: h.Name, Address: h.Address, Port: h.Port, Transport: inventory.TransportWinRM, OS: "windows",
			WinRM: inventory.WinRMConfig{User: "Administrator", HTTPS: true, CAFile: sim.CAFile(), Auth: "basic", Password: inventory.Secret{Env: env}},
		})
	}
	opts := scanner.Options{
		Concurrency: 4,
		Timeouts:    scanner.Timeouts{Dial: 5 * time.Second, Handshake: 5 * time.Second, Probe: 500 * time.Millisecond, Host: 10 * time.Second},
		Env: func(k string) string {
			return map[string]string{"WINRM_PASSWORD": "right-one", "WINRM_OTHER_PASSWORD": "stale"}[k]
		},
	}
	facts := map[string]*contract.Facts{}
	if err := scanner.Scan(context.Background(), hosts, opts, func(f *contract.Facts) { facts[f.Host.Name] = f }); err != nil {
		t.Fatal(err)
	}
	if len(facts) != len(hosts) {
		t.Fatalf("%d facts for %d hosts", len(facts), len(hosts))
	}

	ev, err := policies.New(context.Background(), policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range sim.Hosts() {
		t.Run(h.Name, func(t *testing.T) {
			f := facts[h.Name]
			d, err := ev.DecideFacts(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			var checks []string
			for _, v := range d.Violations {
				checks = append(checks, v.Check)
			}
			slices.Sort(checks)
			checks = slices.Compact(checks)
			var warns []string
			for _, w := range d.Warnings {
				warns = append(warns, w.Check)
			}
			slices.Sort(warns)
			warns = slices.Compact(warns)

			if h.Name == "win-wrong-password" {
				// The error names the inventory field, never its value.
				want := "authentication refused for user Administrator (check the variable named by winrm.password_env"
				if f.Reachable || f.Error == nil || !strings.Contains(*f.Error, want) || strings.Contains(*f.Error, "WINRM_OTHER_PASSWORD") || d.Status != "unreachable" {
					t.Fatalf("reachable %v, error %q, status %s; want unreachable with %q", f.Reachable, deref(f.Error), d.Status, want)
				}
				return
			}
			p, _ := winprofiles.Get(h.Profile)
			if d.Status != p.Expect.Status || !slices.Equal(checks, p.Expect.Violations) || !slices.Equal(warns, p.Expect.Warnings) {
				msg := ""
				if f.Error != nil {
					msg = *f.Error
				}
				t.Errorf("status %s violations %v warnings %v (error %q); want %s %v %v", d.Status, checks, warns, msg, p.Expect.Status, p.Expect.Violations, p.Expect.Warnings)
			}
			if p.Expect.Facts && (f.Error != nil || f.Host.Auth == nil || *f.Host.Auth != "basic" || f.Host.Transport != "winrm") {
				t.Errorf("error %v, auth %v, transport %s", f.Error, f.Host.Auth, f.Host.Transport)
			}
			if sim.OpenShells(h.Name) != 0 && !p.Slow {
				t.Errorf("%d shells left open", sim.OpenShells(h.Name))
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

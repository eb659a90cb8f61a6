package fleetsim_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/fleetsim"
	"github.com/factorgate/factorgate/policies"
	"github.com/factorgate/factorgate/scanner"
	"github.com/factorgate/factorgate/scanner/inventory"
)

// TestScanAndJudge writes the fleet's inventory, loads it with the
// scanner's own loader, scans one host of every profile with scanner.Scan
// (known_hosts checked, key from identity_file), judges the facts with the
// default policy bundle and checks each verdict against the profile's
// expectation.
func TestScanAndJudge(t *testing.T) {
	f := startAll(t, fleetsim.Config{})
	invPath := filepath.Join(t.TempDir(), "fleet.yaml")
	if err := f.WriteInventory(invPath); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(invPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Hosts) != len(f.Hosts()) {
		t.Fatalf("inventory has %d hosts, fleet %d", len(inv.Hosts), len(f.Hosts()))
	}
	opts := scanner.Options{
		Concurrency: 8,
		NoSSHConfig: true,
		// Short deadlines: the silent and stalling hosts only time out.
		Timeouts: scanner.Timeouts{Dial: 2 * time.Second, Handshake: 500 * time.Millisecond, Probe: 500 * time.Millisecond, Host: 5 * time.Second},
	}
	facts := map[string]*contract.Facts{}
	if err := scanner.Scan(context.Background(), inv.Hosts, opts, func(fa *contract.Facts) { facts[fa.Host.Name] = fa }); err != nil {
		t.Fatal(err)
	}
	ev, err := policies.New(context.Background(), policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range f.Hosts() {
		p, _ := fleetsim.Lookup(h.Profile)
		t.Run(p.Name, func(t *testing.T) {
			fa := facts[h.Name]
			if fa == nil {
				t.Fatal("no facts")
			}
			if p.Expect.Facts && fa.Error != nil {
				t.Errorf("scan error: %s", *fa.Error)
			}
			d, err := ev.DecideFacts(context.Background(), fa)
			if err != nil {
				t.Fatal(err)
			}
			var vs, ws []string
			for _, v := range d.Violations {
				vs = append(vs, v.Check)
			}
			for _, w := range d.Warnings {
				ws = append(ws, w.Check)
			}
			slices.Sort(vs)
			slices.Sort(ws)
			vs, ws = slices.Compact(vs), slices.Compact(ws)
			if d.Status != p.Expect.Status || !slices.Equal(vs, p.Expect.Violations) || !slices.Equal(ws, p.Expect.Warnings) {
				t.Errorf("verdict %s violations %v warnings %v; want %s %v %v (error %v)",
					d.Status, vs, ws, p.Expect.Status, p.Expect.Violations, p.Expect.Warnings, lxErr(fa))
			}
		})
	}
}

func lxErr(f *contract.Facts) string {
	if f.Error == nil {
		return "none"
	}
	return *f.Error
}

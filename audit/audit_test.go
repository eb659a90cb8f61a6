package audit_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/factorgate/factorgate/audit"
	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/fleetsim"
	"github.com/factorgate/factorgate/internal/hsssim"
	"github.com/factorgate/factorgate/internal/lab"
	"github.com/factorgate/factorgate/policies"
	"github.com/factorgate/factorgate/remediate"
	"github.com/factorgate/factorgate/scanner"
	"github.com/factorgate/factorgate/scanner/inventory"
)

// TestAuditEnableRescan runs the user's whole loop on a simulated estate:
// audit, plan (nothing changes), apply and verify, a rescan that shows the
// hosts enabled, and a host that stops qualifying afterwards.
func TestAuditEnableRescan(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := lab.Start(ctx, lab.Config{
		Hosts: []fleetsim.HostSpec{
			{Name: "centos7-a", Profile: fleetsim.CentOS7},
			{Name: "debian10-a", Profile: fleetsim.Debian10},
			{Name: "rhel8-a", Profile: fleetsim.RHEL8},
			{Name: "noagent-a", Profile: fleetsim.NoAgent},
			{Name: "refused-a", Profile: fleetsim.AuthRefused},
		},
		Windows:    2, // server-2019 (eligible), must-change
		Unmanaged:  1,
		ApplyDelay: 300 * time.Millisecond,
		Dir:        t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	inv, err := inventory.Load(l.InventoryPath)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := policies.New(ctx, policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	client, err := l.Cloud()
	if err != nil {
		t.Fatal(err)
	}
	cfg := audit.Config{Inventory: inv, Hosts: inv.Hosts, Evaluator: ev, Cloud: client,
		Topic: cloud.TopicOptions{AuthMode: cloud.AuthCode},
		Scan:  scanner.Options{Concurrency: 4, Env: l.Getenv, Retries: -1}}
	statuses := func() map[string]contract.Decision {
		t.Helper()
		res, err := audit.Run(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.NotScanned) != 1 || res.NotScanned[0].HostName != "legacy-01" {
			t.Errorf("not scanned = %+v, want legacy-01", res.NotScanned)
		}
		m := map[string]contract.Decision{}
		for _, d := range res.Decisions {
			m[d.Host] = d
		}
		return m
	}

	winOK, winMust := "win-"+lab.WindowsProfiles[0]+"-1", "win-"+lab.WindowsProfiles[1]+"-2"
	want := map[string]contract.Status{
		"centos7-a": contract.StatusEligible, "debian10-a": contract.StatusEligible,
		"rhel8-a": contract.StatusIneligible, "noagent-a": contract.StatusIneligible,
		"refused-a": contract.StatusUnreachable, winOK: contract.StatusEligible, winMust: contract.StatusIneligible,
	}
	got := statuses()
	for host, status := range want {
		if got[host].Status != status {
			t.Errorf("first audit: %s is %s, want %s (violations %+v)", host, got[host].Status, status, got[host].Violations)
		}
	}
	var ds []contract.Decision
	for _, d := range got {
		ds = append(ds, d)
	}

	// Plan: nothing changes.
	opts := remediate.Options{Action: remediate.Enable, AuthType: cloud.AuthCode, BatchSize: 2,
		VerifyTimeout: 20 * time.Second, PollInterval: 50 * time.Millisecond}
	plan, err := remediate.NewPlan(ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(plan.Changes); n != 3 {
		t.Fatalf("plan changes %d hosts, want 3 (the eligible ones): %+v", n, plan.Changes)
	}
	if l.HSS.SetCalls() != 0 {
		t.Fatalf("planning made %d set calls", l.HSS.SetCalls())
	}

	// Apply and verify.
	j, err := remediate.CreateJournal(filepath.Join(t.TempDir(), "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := remediate.Apply(ctx, client, plan, j, opts)
	j.Close()
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	for _, h := range res.Hosts {
		if h.Outcome != remediate.ResultOK {
			t.Errorf("apply %s: %+v", h.Host, h)
		}
	}
	for _, host := range []string{"centos7-a", "debian10-a", winOK} {
		if n := l.HSS.Calls(l.HostIDs[host]); n != 1 {
			t.Errorf("%s enabled %d times, want once", host, n)
		}
	}

	// Rescan: the hosts are enabled.
	got = statuses()
	for _, host := range []string{"centos7-a", "debian10-a", winOK} {
		if got[host].Status != contract.StatusEnabled {
			t.Errorf("after apply: %s is %s, want enabled", host, got[host].Status)
		}
	}
	if got["rhel8-a"].Status != contract.StatusIneligible {
		t.Errorf("after apply: rhel8-a is %s, want ineligible", got["rhel8-a"].Status)
	}

	// Protection switched off on an enabled host: the finding an audit is for.
	l.HSS.UpdateHost(l.HostIDs["centos7-a"], func(h *hsssim.Host) { h.ProtectStatus = "closed" })
	got = statuses()
	if d := got["centos7-a"]; d.Status != contract.StatusEnabledIneligible || d.Violations[0].Check != "protection" {
		t.Errorf("after protection off: centos7-a is %s with %+v, want enabled_ineligible on protection", d.Status, d.Violations)
	}
}

package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/factorgate/factorgate/audit"
	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/hsssim"
	"github.com/factorgate/factorgate/internal/winprofiles"
	"github.com/factorgate/factorgate/internal/winrmsim"
	"github.com/factorgate/factorgate/policies"
	"github.com/factorgate/factorgate/remediate"
	"github.com/factorgate/factorgate/scanner"
	"github.com/factorgate/factorgate/scanner/inventory"
)

// TestAuditCloudMatching audits three Windows hosts against the HSS
// emulator: two inventory hosts behind one private IP (127.0.0.1, as two
// hosts behind two bastions look) that HSS knows as one host, and a host
// already in SMS mode whose topic was deleted. The shared HSS host is
// nobody's: both fail protection with the reason, and enable leaves both
// alone. The SMS host's facts carry its own topic, looked up once.
func TestAuditCloudMatching(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const password = "audit-Secret-1"
	win, err := winrmsim.Start(ctx, winrmsim.Config{TLS: true, User: "Administrator", Password: password, Hosts: []winrmsim.HostSpec{
		{Name: "win-east", Profile: winprofiles.Server2019},
		{Name: "win-west", Profile: winprofiles.Server2019},
		{Name: "win-sms", Profile: winprofiles.Server2019},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer win.Close()
	const ak, sk, project = "AKAUDITFACTORGATE001", "audit-secret-key-0001", "0123456789abcdef0123456789abcdef"
	hss, err := hsssim.Start(ctx, hsssim.Config{AK: ak, SK: sk, ProjectID: project})
	if err != nil {
		t.Fatal(err)
	}
	defer hss.Close()
	shared := hss.AddHost(hsssim.Host{ID: "id-shared", Name: "win-01", PrivateIP: "127.0.0.1", OSType: "Windows"})
	hss.SetTwoFactor(shared, hsssim.TwoFactor{Enabled: true, AuthType: "code"})
	sms := hss.AddHost(hsssim.Host{ID: "id-sms", Name: "win-sms", PrivateIP: "10.0.0.9", OSType: "Windows"})
	gone := "urn:smn:eu-de:" + project + ":deleted"
	hss.SetTwoFactor(sms, hsssim.TwoFactor{Enabled: true, AuthType: "sms", TopicURN: gone})

	var hosts []inventory.Host
	for _, h := range win.Hosts() {
		addr := h.Address
		if h.Name == "win-sms" {
			addr = "localhost" // matched by name
		}
		hosts = append(hosts, inventory.Host{Name: h.Name, Address: addr, Port: h.Port, Transport: inventory.TransportWinRM, OS: "windows",
			WinRM: inventory.WinRMConfig{User: "Administrator", HTTPS: true, CAFile: win.CAFile(), Auth: "ntlm", Password: inventory.Secret{Env: "WINRM_PASSWORD"}}})
	}
	client, err := cloud.New(cloud.Credentials{AK: ak, SK: sk, ProjectID: project},
		cloud.Options{HSSEndpoint: hss.URL(), SMNEndpoint: hss.URL(), RetryWait: time.Millisecond, MaxRetryWait: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := policies.New(ctx, policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := audit.Run(ctx, audit.Config{Hosts: hosts, Evaluator: ev, Cloud: client, KeepFacts: true,
		Topic: cloud.TopicOptions{AuthMode: cloud.AuthCode},
		Scan: scanner.Options{Concurrency: 3, Retries: -1, Env: func(k string) string {
			if k == "WINRM_PASSWORD" {
				return password
			}
			return ""
		}}})
	if err != nil {
		t.Fatal(err)
	}
	facts := map[string]contract.Facts{}
	for _, f := range res.Facts {
		facts[f.Host.Name] = f
	}
	decisions := map[string]contract.Decision{}
	for _, d := range res.Decisions {
		decisions[d.Host] = d
	}

	for _, name := range []string{"win-east", "win-west"} {
		f, d := facts[name], decisions[name]
		if !f.Reachable {
			t.Fatalf("%s unreachable: %v", name, *f.Error)
		}
		if f.Host.HSSHostID != nil || f.HSS.HostID != nil || f.HSS.ProtectStatus != nil {
			t.Errorf("%s got the shared host's cloud facts: host %+v hss %+v", name, f.Host, f.HSS)
		}
		if f.HSS.CloudError == nil || !strings.Contains(*f.HSS.CloudError, "win-east, win-west") {
			t.Errorf("%s: cloud_error %v, want it to name both inventory hosts", name, f.HSS.CloudError)
		}
		protection := false
		for _, v := range d.Violations {
			protection = protection || (v.Check == "protection" && strings.Contains(v.Message, "win-east, win-west"))
		}
		if d.Status != contract.StatusIneligible || !protection {
			t.Errorf("%s: %s with %+v, want ineligible on protection naming both hosts", name, d.Status, d.Violations)
		}
	}

	// The host in SMS mode carries its own topic, which no longer exists.
	f := facts["win-sms"]
	if f.Topic == nil || f.Topic.URN != gone || f.Topic.Exists == nil || *f.Topic.Exists {
		t.Errorf("win-sms: topic %+v, want %s, not existing", f.Topic, gone)
	}
	if f.HSS.HostName != nil {
		t.Errorf("win-sms: hss.host_name %q, want none: HSS lists it under the inventory's name", *f.HSS.HostName)
	}
	if n := hss.Requests(hsssim.OpListTopics); n != 1 {
		t.Errorf("ListTopics called %d times, want once per audit", n)
	}

	// Enable leaves both shared hosts alone.
	var ds []contract.Decision
	for _, name := range []string{"win-east", "win-west"} {
		ds = append(ds, decisions[name])
	}
	plan, err := remediate.NewPlan(ds, remediate.Options{Action: remediate.Enable, AuthType: cloud.AuthCode})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Changes) != 0 || len(plan.Skipped) != 2 {
		t.Errorf("plan changes %+v, skips %+v; want both skipped", plan.Changes, plan.Skipped)
	}
	for _, s := range plan.Skipped {
		t.Logf("enable skips %s: %s", s.Host, s.Reason)
	}
	// So does disable, though HSS shows 2FA on for the shared host.
	tf, err := client.ListTwoFactor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	live := map[string]cloud.TwoFactorHost{}
	for _, h := range tf {
		live[h.HostID] = h
	}
	plan, err = remediate.NewPlan(ds, remediate.Options{Action: remediate.Disable, Live: live})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Changes) != 0 || len(plan.Skipped) != 2 {
		t.Errorf("disable plan changes %+v, skips %+v; want both skipped", plan.Changes, plan.Skipped)
	}
}

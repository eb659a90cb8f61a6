package remediate_test

import (
	"fmt"
	"os"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/remediate"
)

func ExampleNewPlan() {
	id := "3f2a9e0c-0001"
	ds := []contract.Decision{
		{Host: "web-01", HSSHostID: &id, Auth: contract.Ptr("publickey"), Status: contract.StatusEligible, Eligible: true},
		{Host: "db-01", Status: contract.StatusIneligible, Violations: []contract.Finding{
			{Check: "openssh_version", Message: "OpenSSH 9.2 is not earlier than 8"}}},
	}
	p, err := remediate.NewPlan(ds, remediate.Options{Action: remediate.Enable, AuthType: "code"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range p.Changes {
		fmt.Println("enable", c.Host, c.HostID)
	}
	for _, s := range p.Skipped {
		fmt.Println("skip", s.Host+":", s.Reason)
	}
	_ = p.Render(os.Stdout) // the full plan, as `factorgate enable` prints it
	// Output:
	// enable web-01 3f2a9e0c-0001
	// skip db-01: ineligible: openssh_version: OpenSSH 9.2 is not earlier than 8
	// factorgate will turn 2FA ON (auth type code) on 1 host:
	//
	//   + web-01  hss host 3f2a9e0c-0001
	//
	// Left alone (1):
	//
	//   = db-01  ineligible: openssh_version: OpenSSH 9.2 is not earlier than 8
	//
	// Warnings:
	//
	//   ! logins through CloudShell and through a bastion host (CBH) fail on a server
	//     with 2FA on: use an SSH client with Keyboard Interactive login, or RDP
	//   ! 2FA takes about 5 minutes to take effect after it is set
	//
	// Plan: 1 to enable, 1 left alone.
}

func ExampleNewReport() {
	id := "3f2a9e0c-0001"
	ds := []contract.Decision{{Host: "web-01", HSSHostID: &id, Auth: contract.Ptr("publickey"), Status: contract.StatusEligible, Eligible: true}}
	p, err := remediate.NewPlan(ds, remediate.Options{Action: remediate.Enable, AuthType: "code"})
	if err != nil {
		fmt.Println(err)
		return
	}
	// After an apply, its result; here, as Apply would return it.
	res := &remediate.Result{Action: remediate.Enable, Hosts: []remediate.HostResult{
		{Host: "web-01", HostID: id, Outcome: remediate.ResultOK, RequestID: "0f3c9a"}}}
	rep := remediate.NewReport(p, res, "enable.journal")
	fmt.Println(rep.Schema, rep.Applied, rep.Summary.OK, rep.AllOK)
	// Output:
	// factorgate/remediation/v1 true 1 true
}

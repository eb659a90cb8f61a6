package policies

import (
	"context"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
)

// The Rego unit tests write facts by hand; these build them with the Go
// contract, so a field the rules read under another name than the
// scanner writes fails here.

func linuxFacts() *contract.Facts {
	p := contract.Ptr[string]
	return &contract.Facts{
		Schema:    contract.FactsSchema,
		Host:      contract.Host{Name: "web-01", Address: "10.0.0.5", Port: 22, Transport: "ssh", Auth: p("publickey")},
		Reachable: true,
		OS:        &contract.OS{Family: p("linux"), ID: p("centos")},
		OpenSSH: &contract.OpenSSH{Banner: p("SSH-2.0-OpenSSH_7.4"), Version: p("7.4p1"), Major: contract.Ptr(7), Minor: contract.Ptr(4),
			Source: "banner", Software: p("OpenSSH_7.4"), PackageVersion: p("7.4p1-22.el7_9")},
		SSHD: &contract.SSHD{PasswordAuthentication: contract.Ptr(true), KbdInteractiveAuthentication: contract.Ptr(true),
			UsePAM: contract.Ptr(true), PermitEmptyPasswords: contract.Ptr(false), PermitRootLogin: p("yes"),
			AuthenticationMethods: p("any"), Source: "sshd -T", Binary: p("/usr/sbin/sshd"), Listener: "process"},
		SELinux: &contract.SELinux{Installed: contract.Ptr(false), Mode: p("disabled"), Source: "getenforce"},
		HSS: &contract.HSS{AgentInstalled: contract.Ptr(true), AgentRunning: contract.Ptr(true), HostID: p("a1"),
			AgentStatus: p("online"), ProtectStatus: p("opened"), HostStatus: p("ACTIVE"), CloudQueried: true},
	}
}

func windowsFacts() *contract.Facts {
	p := contract.Ptr[string]
	return &contract.Facts{
		Schema:    contract.FactsSchema,
		Host:      contract.Host{Name: "win-01", Address: "10.0.0.9", Port: 5986, Transport: "winrm", Auth: p("ntlm")},
		Reachable: true,
		OS:        &contract.OS{Family: p("windows"), DomainRole: contract.Ptr(3)},
		RDP: &contract.RDP{Enabled: contract.Ptr(true), Port: contract.Ptr(3389), ServiceStartMode: p("Manual"),
			WinStationEnabled: contract.Ptr(true), FirewallEnabled: contract.Ptr(true)},
		Accounts:         []contract.Account{{Name: "Administrator", Enabled: contract.Ptr(true), MustChangePassword: contract.Ptr(false)}},
		SecurityProducts: []string{},
		HSS: &contract.HSS{AgentInstalled: contract.Ptr(true), AgentRunning: contract.Ptr(true), HostID: p("w1"),
			AgentStatus: p("online"), ProtectStatus: p("opened"), HostStatus: p("ACTIVE"), CloudQueried: true},
	}
}

func TestContractFieldsReachTheRules(t *testing.T) {
	ev := newEval(t, Options{})
	for _, tc := range []struct {
		name   string
		facts  func() *contract.Facts
		change func(f *contract.Facts)
		want   string // a violation ("" for eligible)
		warn   string // a warning
	}{
		{"linux eligible", linuxFacts, func(*contract.Facts) {}, "", ""},
		{"windows eligible", windowsFacts, func(*contract.Facts) {}, "", "RDP logins from this server to another Windows server"},
		{"software", linuxFacts, func(f *contract.Facts) { f.OpenSSH.Software = contract.Ptr("dropbear_2019.78") },
			"the SSH server is dropbear_2019.78, not OpenSSH", ""},
		{"package version", linuxFacts, func(f *contract.Facts) { f.OpenSSH.PackageVersion = contract.Ptr("8.0p1-19.el8") },
			"OpenSSH 8.0p1 is installed and replaces the running 7.4 at the next sshd restart", ""},
		{"listener and binary", linuxFacts, func(f *contract.Facts) {
			f.OpenSSH.PackageVersion = contract.Ptr("8.0p1-19.el8")
			f.SSHD.Binary = contract.Ptr("/opt/sshd-7.4/sbin/sshd")
		}, "", ""},
		{"authentication methods", linuxFacts, func(f *contract.Facts) { f.SSHD.AuthenticationMethods = contract.Ptr("publickey") },
			"sshd has AuthenticationMethods publickey", ""},
		{"match block for all", linuxFacts, func(f *contract.Facts) {
			f.SSHD.MatchBlocks = []contract.MatchBlock{{Criteria: "all", File: "/etc/ssh/sshd_config", Line: 40, AllConnections: true,
				Settings: map[string]string{"passwordauthentication": "no"}}}
		}, "sshd has PasswordAuthentication no under `Match all` (/etc/ssh/sshd_config:40)", ""},
		{"match block effective", linuxFacts, func(f *contract.Facts) {
			f.SSHD.MatchBlocks = []contract.MatchBlock{{Criteria: "User bob", File: "/etc/ssh/sshd_config.d/bob.conf", Line: 2,
				Settings: map[string]string{"passwordauthentication": "yes"}, Effective: map[string]string{"passwordauthentication": "no"}}}
		}, "", "password logins of User bob are not protected: PasswordAuthentication no under `Match User bob`, /etc/ssh/sshd_config.d/bob.conf:2"},
		{"selinux config", linuxFacts, func(f *contract.Facts) { f.SELinux.ConfigMode = contract.Ptr("enforcing") },
			"SELinux is reported not installed, yet SELINUX=enforcing", ""},
		{"probe error", linuxFacts, func(f *contract.Facts) { f.OS = nil; f.Error = contract.Ptr("probe output: no marker") },
			"the operating system family could not be read: probe output: no marker", ""},
		{"service start mode", windowsFacts, func(f *contract.Facts) { f.RDP.ServiceStartMode = contract.Ptr("Disabled") },
			"(TermService) is disabled", ""},
		{"win station", windowsFacts, func(f *contract.Facts) { f.RDP.WinStationEnabled = contract.Ptr(false) },
			"the RDP-Tcp listener is disabled", ""},
		{"firewall", windowsFacts, func(f *contract.Facts) { f.RDP.FirewallEnabled = contract.Ptr(false) },
			"", "the Remote Desktop firewall rules are disabled"},
		{"domain role", windowsFacts, func(f *contract.Facts) { f.OS.DomainRole = contract.Ptr(5) },
			"this host is a domain controller (domain role 5)", ""},
		{"no accounts", windowsFacts, func(f *contract.Facts) { f.Accounts = []contract.Account{} },
			"the scan listed no local accounts", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.facts()
			tc.change(f)
			d, err := ev.DecideFacts(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range d.Violations {
				got = append(got, v.Message)
			}
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("violations %q, want none", got)
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
				t.Errorf("violations %q, want one with %q", got, tc.want)
			}
			if tc.warn != "" {
				found := false
				for _, w := range d.Warnings {
					found = found || strings.Contains(w.Message, tc.warn)
				}
				if !found {
					t.Errorf("warnings %+v, want one with %q", d.Warnings, tc.warn)
				}
			}
		})
	}
}

package report

import (
	"bytes"
	"errors"
	"iter"
	"path/filepath"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/testutil"
)

// compareGoldenFile compares got with testdata/name, or rewrites the file
// under -update.
func compareGoldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	testutil.Golden(t, filepath.Join("testdata", name), got)
}

func fixtureStr(s string) *string { return &s }

// fixtureCompliance is a fleet with every status, violations, warnings, a
// waived violation, a not-scanned cloud host, and text that needs escaping
// in every format (markup, pipes, a formula, quotes, a newline).
func fixtureCompliance() *contract.Report {
	at := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	ds := []contract.Decision{
		{
			Host: "app-03", Address: fixtureStr("10.0.2.3"), OS: fixtureStr("linux"), Transport: fixtureStr("ssh"), Auth: fixtureStr("publickey"),
			Status: contract.StatusIneligible,
			Violations: []contract.Finding{{
				Check: "custom_banner", Severity: "medium",
				Message:     `login banner contains "<b>unauthorised</b>" & | pipes`,
				Remediation: "=HYPERLINK(\"http://x\") replace /etc/issue.net\nthen reload sshd",
			}},
			Labels: map[string]string{"env": "staging"},
		},
		{
			Host: "db-01", Address: fixtureStr("10.0.1.10"), HSSHostID: fixtureStr("4c1f9e2a-db01"), OS: fixtureStr("linux"), Transport: fixtureStr("ssh"), Auth: fixtureStr("publickey"),
			Status: contract.StatusIneligible,
			Violations: []contract.Finding{
				{Check: "openssh_version", Severity: "high", Message: "OpenSSH 9.2 is not earlier than 8",
					Remediation: "2FA hooks SSH password logins only on OpenSSH earlier than 8: keep this host out of 2FA (source: hss_01_0568)"},
				{Check: "selinux", Severity: "high", Message: "SELinux is enforcing",
					Remediation: "Set SELINUX=disabled in /etc/selinux/config and reboot; setenforce 0 is temporary (source: hss_01_0472)"},
			},
			Warnings: []contract.Finding{
				{Check: "permit_root_login", Severity: "low", Message: "PermitRootLogin is prohibit-password: root password logins will fail with 2FA",
					Remediation: "Set PermitRootLogin yes where root logs in by password (source: hss_01_0440)"},
			},
			Labels: map[string]string{"env": "prod"},
		},
		{
			Host: "legacy-01", Address: fixtureStr("10.0.1.20"), HSSHostID: fixtureStr("77aa01de-leg1"), OS: fixtureStr("linux"), Transport: fixtureStr("ssh"), Auth: fixtureStr("password"),
			Status: contract.StatusEnabledIneligible,
			Violations: []contract.Finding{
				{Check: "password_login", Severity: "high", Message: "PasswordAuthentication is no",
					Remediation: "Set PasswordAuthentication yes, UsePAM yes, ChallengeResponseAuthentication yes and PermitEmptyPasswords no in sshd_config (source: hss_01_0440)"},
			},
			Warnings: []contract.Finding{
				{Check: "scanner_password_auth", Severity: "low", Message: "the scanner logged in by password: after 2FA it will be asked for a code",
					Remediation: "Scan with an SSH key (source: hss_01_0439)"},
			},
		},
		{
			Host: "web-01", Address: fixtureStr("10.0.0.5"), OS: fixtureStr("linux"), Transport: fixtureStr("ssh"), Auth: fixtureStr("publickey"),
			Status: contract.StatusEligible, Eligible: true,
			Warnings: []contract.Finding{
				{Check: "protection", Severity: "medium", Message: "HSS agent running; protection not verified (no cloud facts)",
					Remediation: "Run the scan with cloud credentials to read the protection status (source: hss_01_0260)"},
			},
			Labels: map[string]string{"env": "prod"},
		},
		{
			Host: "web-02", Address: fixtureStr("10.0.0.6"), HSSHostID: fixtureStr("9b3e55f0-web2"), OS: fixtureStr("linux"), Transport: fixtureStr("ssh"), Auth: fixtureStr("publickey"),
			Status: contract.StatusEligible, Eligible: true,
			Waived: []contract.Finding{
				{Check: "selinux", Severity: "high", Message: "SELinux is permissive (SELINUX=permissive in /etc/selinux/config)",
					Remediation: "Set SELINUX=disabled in /etc/selinux/config and reboot; setenforce 0 is temporary (source: hss_01_0472)",
					Waiver:      &contract.Waiver{Justification: "Vendor agent needs SELinux until the Q1 migration, CHG-1042", Expires: "2027-01-31"}},
			},
			Labels: map[string]string{"env": "prod"},
		},
		{
			Host: "win-01", Address: fixtureStr("10.0.0.9"), HSSHostID: fixtureStr("e0c4a7b1-win1"), OS: fixtureStr("windows"), Transport: fixtureStr("winrm"), Auth: fixtureStr("ntlm"),
			Status: contract.StatusEnabled, Eligible: true,
		},
		{
			Host: "win-02", Address: fixtureStr("10.0.0.12"), OS: nil, Transport: fixtureStr("winrm"), Auth: nil,
			Status: contract.StatusUnreachable,
			Violations: []contract.Finding{
				{Check: "reachable", Severity: "high", Message: "dial tcp 10.0.0.12:5986: connect: connection refused",
					Remediation: "Check that WinRM over HTTPS listens on port 5986 and the firewall lets the scanner in"},
			},
		},
	}
	r := contract.NewReport(at, ds)
	r.NotScanned = []contract.CloudHost{{
		HostID: "c0ffee01-b7", HostName: "batch-07", PrivateIP: "10.0.3.7", OSType: "Linux",
		AgentStatus: "online", ProtectStatus: "opened",
	}}
	return r
}

// renderFixture renders the fixture in format name, through [RenderReport]
// as the CLI does, with the title set as check sets it.
func renderFixture(t *testing.T, name string) []byte {
	t.Helper()
	r := fixtureCompliance()
	var buf bytes.Buffer
	if err := renderWithTitle(&buf, name, r, "fleet.yaml"); err != nil {
		t.Fatalf("render %s: %v", name, err)
	}
	return buf.Bytes()
}

// renderWithTitle is [RenderReport] with a title.
func renderWithTitle(w *bytes.Buffer, name string, r *contract.Report, title string) error {
	rd, err := New(name)
	if err != nil {
		return err
	}
	h := Header{GeneratedAt: r.GeneratedAt, Summary: r.Summary, Total: len(r.Decisions), NotScanned: r.NotScanned, Title: title}
	return rd.Render(w, h, seqOf(r.Decisions, nil))
}

// seqOf yields ds, then err if it is not nil.
func seqOf(ds []contract.Decision, err error) iter.Seq2[contract.Decision, error] {
	return func(yield func(contract.Decision, error) bool) {
		for _, d := range ds {
			if !yield(d, nil) {
				return
			}
		}
		if err != nil {
			yield(contract.Decision{}, err)
		}
	}
}

// checkStopsOnError checks that format name returns the error of the
// decision stream instead of writing a report that looks complete.
func checkStopsOnError(t *testing.T, name string) {
	t.Helper()
	boom := errors.New("facts.jsonl:3: bad json")
	rd, err := New(name)
	if err != nil {
		t.Fatal(err)
	}
	r := fixtureCompliance()
	var buf bytes.Buffer
	h := Header{GeneratedAt: r.GeneratedAt, Summary: r.Summary, Total: len(r.Decisions)}
	if err := rd.Render(&buf, h, seqOf(r.Decisions[:2], boom)); !errors.Is(err, boom) {
		t.Fatalf("Render error = %v, want %v", err, boom)
	}
}

package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/testutil"
)

// schemaFile is the path of schema name in $FACTORGATE_SCHEMAS.
func schemaFile(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("FACTORGATE_SCHEMAS")
	if dir == "" {
		testutil.Missing(t, "FACTORGATE_SCHEMAS is not set (the folder of %s)", name)
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("FACTORGATE_SCHEMAS=%s: %v", dir, err)
	}
	return p
}

// hostileHost is a host name a hostile or broken host could report: 60+
// characters, markup, quotes, spaces, a terminal escape, a C1 control, a
// NUL, a bidirectional override and a character outside the BMP.
const hostileHost = "zz-\x1b[31mred\x1b[0m <b>&\"quoted\"</b> \u0085nul\x00 \u202eevil\u202c-" +
	"a-very-long-host-name-of-the-production-fleet.example.com-\U0001F600"

// machineReports are the reports the schema tests render: each kind of
// host the formats must carry, alone, then all together.
func machineReports() map[string]*contract.Report {
	at := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	linux, windows := fixtureStr("linux"), fixtureStr("windows")
	ssh, winrm := fixtureStr("ssh"), fixtureStr("winrm")
	rdp := contract.Finding{Check: "rdp", Severity: "low",
		Message:     "once 2FA is on, RDP logins to this server from another Windows server fail unless that server stores a Windows credential for it",
		Remediation: "Add a Windows credential on each server you connect from (source: hss_01_0568)"}
	reps := map[string]*contract.Report{
		"eligible": contract.NewReport(at, []contract.Decision{
			{Host: "web-01", Address: fixtureStr("10.0.0.5"), OS: linux, Transport: ssh, Status: contract.StatusEligible, Eligible: true},
			{Host: "win-01", Address: fixtureStr("10.0.0.9"), OS: windows, Transport: winrm, Status: contract.StatusEligible, Eligible: true, Warnings: []contract.Finding{rdp}},
		}),
		"ineligible": contract.NewReport(at, []contract.Decision{{
			Host: "db-01", OS: linux, Transport: ssh, Status: contract.StatusIneligible,
			// One check, several findings: password_login gives one per
			// setting, protection one for the agent and one for protection.
			Violations: []contract.Finding{
				{Check: "password_login", Message: "sshd has UsePAM no: 2FA needs yes", Severity: "high"},
				{Check: "password_login", Message: "sshd has PasswordAuthentication no: 2FA needs yes", Severity: "high"},
				{Check: "protection", Message: "server protection is closed, not opened", Severity: "high"},
				{Check: "protection", Message: "the HSS agent is offline, not online", Severity: "high"},
			},
			Warnings: []contract.Finding{{Check: "password_login", Message: "sshd has PermitRootLogin no", Severity: "low"}},
		}}),
		"unreachable": contract.NewReport(at, []contract.Decision{
			{Host: "legacy-01", Address: fixtureStr("10.0.9.30"), Status: contract.StatusUnreachable,
				Violations: []contract.Finding{{Check: "reachable", Message: "dial tcp 10.0.9.30:22: i/o timeout", Severity: "high"}}},
			// A failing status with no violation to show.
			{Host: "legacy-02", Status: contract.StatusUnreachable},
		}),
		"waived": contract.NewReport(at, []contract.Decision{{
			Host: "web-02", OS: linux, Transport: ssh, Status: contract.StatusIneligible,
			Violations: []contract.Finding{{Check: "selinux", Message: "SELinux is enforcing", Severity: "high"}},
			Waived: []contract.Finding{
				{Check: "selinux", Message: "SELinux is enforcing", Severity: "high",
					Waiver: &contract.Waiver{Justification: "vendor agent, CHG-1042", Expires: "2027-01-31"}},
				{Check: "openssh_version", Message: "OpenSSH 9.2p1 is too new", Severity: "high"},
			},
		}}),
		"hostile": contract.NewReport(at, []contract.Decision{{
			Host: hostileHost, Address: fixtureStr("10.0.0.7\x1b]0;title\x07"), OS: fixtureStr("linux\u202e"), Transport: ssh,
			Status:     contract.StatusIneligible,
			Violations: []contract.Finding{{Check: "custom\x00check <x>", Message: "banner \x1b[2J\"<script>\"\r\nnext\u2028line", Remediation: "=cmd|' /C calc'!A0\x7f"}},
			Warnings:   []contract.Finding{{Check: "custom\x00check <x>", Message: "\u202e\x1b[1m", Remediation: ""}},
			Waived: []contract.Finding{{Check: "x", Message: "y\x0b",
				Waiver: &contract.Waiver{Justification: "ok\x1b[0m\u202e", Expires: "2027-01-31\x00"}}},
		}}),
	}
	reps["hostile"].NotScanned = []contract.CloudHost{{HostID: "id-\x1b[1m", HostName: hostileHost}, {HostID: "id-2"}}
	reps["full"] = fixtureCompliance()
	reps["empty"] = contract.NewReport(at, nil)
	return reps
}

// TestJUnitValidatesAgainstJenkinsSchema runs xmllint with the schema
// Jenkins' xUnit plugin validates JUnit reports with, on each report of
// [machineReports], and checks that no two testcases of a suite share a
// name (CI servers merge or drop them).
func TestJUnitValidatesAgainstJenkinsSchema(t *testing.T) {
	xsd := schemaFile(t, "junit-10.xsd")
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		testutil.Missing(t, "xmllint not found (apt-get install libxml2-utils)")
	}
	dir := t.TempDir()
	for name, r := range machineReports() {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := renderWithTitle(&buf, "junit", r, "/tmp/x/fleet.yaml"); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, name+".xml")
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(xmllint, "--noout", "--schema", xsd, path).CombinedOutput()
			if err != nil {
				t.Errorf("xmllint: %v\n%s\n%s", err, out, buf.Bytes())
			}
			var doc junitDoc
			if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			for _, s := range doc.Suites {
				seen := map[string]bool{}
				for _, c := range s.Cases {
					if seen[c.Name] {
						t.Errorf("suite %q: two testcases named %q", s.Name, c.Name)
					}
					seen[c.Name] = true
				}
			}
		})
	}
}

// TestSARIFValidatesAgainstOASISSchema validates each report of
// [machineReports] against the OASIS SARIF 2.1.0 JSON schema (draft 4),
// formats asserted, as code-scanning services do on upload.
func TestSARIFValidatesAgainstOASISSchema(t *testing.T) {
	path := schemaFile(t, "sarif-schema-2.1.0.json")
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.AssertFormat()
	sch, err := c.Compile(path)
	if err != nil {
		t.Fatalf("compile %s: %v", path, err)
	}
	for name, r := range machineReports() {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := renderWithTitle(&buf, "sarif", r, "/tmp/x/fleet.yaml"); err != nil {
				t.Fatal(err)
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if err := sch.Validate(doc); err != nil {
				t.Errorf("%v\n%s", err, buf.Bytes())
			}
			// And the structure the viewers read beyond the schema.
			validateSARIF(t, buf.Bytes())
		})
	}
}

// TestMachineFormatsKeepOneFindingPerHost checks that the formats read by
// programs list a finding shared by many hosts once per host, with the
// host, where the formats for people print it once.
func TestMachineFormatsKeepOneFindingPerHost(t *testing.T) {
	r := machineReports()["eligible"]
	for i := range 3 {
		d := r.Decisions[1]
		d.Host = fmt.Sprintf("win-%02d", i+2)
		r.Decisions = append(r.Decisions, d)
	}
	r = contract.NewReport(r.GeneratedAt, r.Decisions)
	for _, format := range []string{"json", "jsonl", "junit", "csv", "sarif"} {
		var buf bytes.Buffer
		if err := RenderReport(&buf, format, r); err != nil {
			t.Fatal(err)
		}
		msg := "RDP logins to this server from another Windows server"
		if format == "json" || format == "jsonl" {
			var b bytes.Buffer
			json.HTMLEscape(&b, []byte(msg))
			msg = b.String()
		}
		if got := strings.Count(buf.String(), msg); got != 4 {
			t.Errorf("%s: the rdp warning appears %d times, want once per host (4)", format, got)
		}
	}
}

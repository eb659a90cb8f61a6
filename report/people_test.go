package report

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/termtext"
)

// longHost is a host name of 70 characters, longHost2 of 130: neither fits
// a table column.
const (
	longHost  = "db-primary-replica-03.eu-west-0.production.payments.internal.example"
	longHost2 = "a-host-name-with-no-space-at-all-as-long-as-two-lines-of-a-terminal." +
		"eu-west-0.production.payments.internal.example.com.cn"
)

// peopleFleet is a fleet for the formats for people: long host names,
// Windows over OpenSSH and over WinRM, a warning that many Windows hosts
// share, and text with terminal escapes.
func peopleFleet() *contract.Report {
	at := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	linux, windows := fixtureStr("linux"), fixtureStr("windows")
	ssh, winrm := fixtureStr("ssh"), fixtureStr("winrm")
	rdp := contract.Finding{Check: "rdp", Severity: "low",
		Message:     "once 2FA is on, RDP logins to this server from another Windows server fail unless that server stores a Windows credential for it",
		Remediation: "Add a Windows credential on each server you connect from (source: hss_01_0568)"}
	ds := []contract.Decision{
		{Host: longHost, Address: fixtureStr("10.0.1.3"), OS: linux, Transport: ssh, Status: contract.StatusEnabledIneligible,
			Violations: []contract.Finding{{Check: "selinux", Message: "SELinux is \x1b[31menforcing\x1b[0m\x1b]0;owned\x07", Severity: "high",
				Remediation: "Set SELINUX=disabled in /etc/selinux/config and reboot (source: hss_01_0472)"}}},
		{Host: longHost2, OS: linux, Transport: ssh, Status: contract.StatusEligible, Eligible: true},
	}
	for i := range 16 {
		tr := winrm
		if i%4 == 0 {
			tr = ssh // Windows over OpenSSH
		}
		ds = append(ds, contract.Decision{Host: fmt.Sprintf("win-%02d", i), OS: windows, Transport: tr,
			Status: contract.StatusEligible, Eligible: true, Warnings: []contract.Finding{rdp}})
	}
	slices.SortFunc(ds, func(a, b contract.Decision) int { return strings.Compare(a.Host, b.Host) })
	return contract.NewReport(at, ds)
}

// TestPeopleFormatsFitTheTerminal renders the fleet of long host names in
// the text formats and checks that every line fits 80 columns (and 80
// bytes, as awk counts them here), and that each long name appears whole
// in the output, if wrapped.
func TestPeopleFormatsFitTheTerminal(t *testing.T) {
	for _, format := range []string{"table", "markdown"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := renderWithTitle(&buf, format, peopleFleet(), "/tmp/tmp.Xy12/fleet.yaml"); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for i, line := range strings.Split(out, "\n") {
				if termtext.Width(line) > 80 || len(line) > 80 {
					t.Errorf("line %d is %d columns, %d bytes: %q", i+1, termtext.Width(line), len(line), line)
				}
			}
			joined := strings.NewReplacer("<!--\n  -->", "", "<!--\n-->", "", "\n  ", "").Replace(out)
			for _, h := range []string{longHost, longHost2} {
				if !strings.Contains(out, h) && !strings.Contains(joined, h) {
					t.Errorf("host %s is nowhere whole:\n%s", h, out)
				}
			}
			if strings.Contains(out, "/tmp/") {
				t.Errorf("the report names the inventory by a path:\n%s", out)
			}
		})
	}
}

// TestTableLayout checks the table: the legend before the table, a
// transport column that tells Windows over OpenSSH from Windows over WinRM,
// long names cut with an termtext.Ellipsis in the table and whole above their
// findings.
func TestTableLayout(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderReport(&buf, "table", peopleFleet()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	legend, header := strings.Index(out, "x violation   ! warning"), strings.Index(out, "STATUS ")
	if legend < 0 || header < 0 || legend > header {
		t.Errorf("the legend does not come before the table:\n%s", out)
	}
	if !strings.Contains(out, "\nSTATUS              HOST") || !strings.Contains(out, "  OS       TRANSPORT  x") {
		t.Errorf("no transport column:\n%s", out)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 7 && strings.HasPrefix(f[1], "win-") {
			rows[f[1]] = f
		}
	}
	if got := rows["win-00"]; got == nil || got[3] != "ssh" || got[2] != "windows" {
		t.Errorf("win-00 (Windows over OpenSSH) row = %q", got)
	}
	if got := rows["win-01"]; got == nil || got[3] != "winrm" || got[2] != "windows" {
		t.Errorf("win-01 (Windows over WinRM) row = %q", got)
	}
	if !strings.Contains(out, "\nenabled_ineligible  db-primary-replica-03.eu-wes...  linux    ssh ") {
		t.Errorf("long host not cut with an termtext.Ellipsis in its row:\n%s", out)
	}
	if !strings.Contains(out, "\n"+longHost+"\n  (enabled_ineligible)\n") && !strings.Contains(out, "\n"+longHost+" (enabled_ineligible)\n") {
		t.Errorf("long host not whole above its findings:\n%s", out)
	}
}

// TestPeopleFormatsPrintSharedWarningsOnce checks that a warning sixteen
// hosts share is printed once, with the count and the hosts, in the
// formats for people.
func TestPeopleFormatsPrintSharedWarningsOnce(t *testing.T) {
	for _, format := range []string{"table", "markdown", "html"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderReport(&buf, format, peopleFleet()); err != nil {
				t.Fatal(err)
			}
			out := strings.Join(strings.Fields(buf.String()), " ")
			if n := strings.Count(out, "fail unless that server stores a Windows credential"); n != 1 {
				t.Errorf("the shared warning is printed %d times, want once", n)
			}
			hosts := "16 Windows hosts: win-00, win-01, win-02"
			if format == "html" {
				hosts = `16 Windows hosts: <span class="host">win-00</span>, <span class="host">win-01</span>`
			}
			if !strings.Contains(out, hosts) {
				t.Errorf("no %q in:\n%s", hosts, out)
			}
		})
	}
}

// TestPeopleFormatsStripTerminalControls checks that no terminal escape,
// control or bidirectional control from a host reaches the formats for
// people, and that escape sequences go whole, not leaving "[31m" behind.
func TestPeopleFormatsStripTerminalControls(t *testing.T) {
	r := machineReports()["hostile"]
	for _, format := range []string{"table", "markdown", "html"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderReport(&buf, format, r); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if i := strings.IndexFunc(out, func(r rune) bool { return termtext.IsUnsafe(r) && r != '\n' }); i >= 0 {
				t.Errorf("%U reached the output at %d: %q", []rune(out[i:])[0], i, out[max(i-40, 0):min(i+40, len(out))])
			}
			for _, residue := range []string{"[31m", "[0m", "]0;title", "[2J"} {
				if strings.Contains(out, residue) {
					t.Errorf("escape residue %q reached the output", residue)
				}
			}
		})
	}
}

func TestReportTitle(t *testing.T) {
	for in, want := range map[string]string{
		"fleet.yaml":                           "fleet.yaml",
		"/tmp/tmp.Xy12/fleet.yaml":             "fleet.yaml",
		"run 3 of /etc/factorgate/fleet.yaml":  "run 3 of fleet.yaml",
		`C:\inventories\fleet.yaml`:            "fleet.yaml",
		"factorgate demo":                      "factorgate demo",
		"run 4 of ./fleet.yaml (failed)":       "run 4 of fleet.yaml (failed)",
		"/":                                    "/",
		"run 5 of inventories/prod/fleet.yaml": "run 5 of fleet.yaml",
	} {
		if got := reportTitle(in); got != want {
			t.Errorf("reportTitle(%q) = %q, want %q", in, got, want)
		}
	}
}

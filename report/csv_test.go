package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
)

func TestCSVGolden(t *testing.T) {
	compareGoldenFile(t, "csv.golden.csv", renderFixture(t, "csv"))
}

func TestCSVStopsOnError(t *testing.T) { checkStopsOnError(t, "csv") }

// TestCSVRows reads the fixture's csv back as a spreadsheet would and checks
// one row per finding, one for a clean host, one per not-scanned host.
func TestCSVRows(t *testing.T) {
	rows, err := csv.NewReader(bytes.NewReader(renderFixture(t, "csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], csvColumns) {
		t.Fatalf("header = %v", rows[0])
	}
	count := map[string]int{}
	for _, r := range rows[1:] {
		if len(r) != len(csvColumns) {
			t.Fatalf("row %v has %d cells", r, len(r))
		}
		count[r[0]+"/"+r[4]]++
	}
	want := map[string]int{
		"app-03/violation": 1, "db-01/violation": 2, "db-01/warning": 1,
		"legacy-01/violation": 1, "legacy-01/warning": 1, "web-01/warning": 1,
		"web-02/waived": 1, "win-01/": 1, "win-02/violation": 1, "batch-07/": 1,
	}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("rows %s = %d, want %d", k, count[k], n)
		}
	}
	if len(rows)-1 != 11 {
		t.Errorf("%d rows, want 11", len(rows)-1)
	}
	for _, r := range rows[1:] {
		if r[0] == "web-02" {
			if r[2] != "eligible" || r[9] == "" || r[10] != "2027-01-31" {
				t.Errorf("waived row = %v", r)
			}
		}
	}
}

func TestCSVSafe(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"web-01", "web-01"},
		{"=1+1", "'=1+1"},
		{"+cmd", "'+cmd"},
		{"-2", "'-2"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=x", "'\t=x"},
		{"\r=x", "'\r=x"},
		{"a=b", "a=b"},
		{" =1+1", "' =1+1"},
		{"\n=1+1", "'\n=1+1"},
		{" \n @SUM(A1)", "' \n @SUM(A1)"},
		{"\r\n-2", "'\r\n-2"},
		{" leading space", " leading space"},
		{"\nnext line", "\nnext line"},
		{"   ", "   "},
		{" \t=x", "' \t=x"},
	} {
		if got := csvSafe(tc.in); got != tc.want {
			t.Errorf("csvSafe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestCSVFormulaHost checks a hostile host name end to end.
func TestCSVFormulaHost(t *testing.T) {
	r := contract.NewReport(fixtureCompliance().GeneratedAt, []contract.Decision{{Host: `=cmd|'/c calc'!A1`, Status: contract.StatusUnreachable}})
	var buf bytes.Buffer
	if err := RenderReport(&buf, "csv", r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := rows[1][0]; got != `'=cmd|'/c calc'!A1` {
		t.Errorf("host cell = %q", got)
	}
}

// A csv report of two hosts, one with a violation: one row per finding,
// one row for the clean host.
func ExampleRenderReport_csv() {
	addr := "10.0.0.5"
	r := contract.NewReport(time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC), []contract.Decision{
		{Host: "db-01", Status: contract.StatusIneligible, Violations: []contract.Finding{{
			Check: "selinux", Severity: "high", Message: "SELinux is enforcing",
			Remediation: "Set SELINUX=disabled in /etc/selinux/config and reboot (source: hss_01_0472)",
		}}},
		{Host: "web-01", Address: &addr, Status: contract.StatusEligible, Eligible: true},
	})
	if err := RenderReport(os.Stdout, "csv", r); err != nil {
		fmt.Println(err)
	}
	// Output:
	// host,address,status,eligible,kind,check,severity,message,remediation,waiver_justification,waiver_expires
	// db-01,,ineligible,false,violation,selinux,high,SELinux is enforcing,Set SELINUX=disabled in /etc/selinux/config and reboot (source: hss_01_0472),,
	// web-01,10.0.0.5,eligible,true,,,,,,,
}

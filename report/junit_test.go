package report

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
)

func TestJUnitGolden(t *testing.T) {
	compareGoldenFile(t, "junit.golden.xml", renderFixture(t, "junit"))
}

func TestJUnitStopsOnError(t *testing.T) { checkStopsOnError(t, "junit") }

// junitDoc is the part of JUnit XML that CI tools read, parsed back.
type junitDoc struct {
	XMLName xml.Name `xml:"testsuites"`
	Suites  []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Props    []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
		SystemOut string `xml:"system-out"`
	} `xml:"testsuite"`
}

// TestJUnitParsesBack reads the report as a CI server would and checks the
// counts each host shows.
func TestJUnitParsesBack(t *testing.T) {
	var doc junitDoc
	if err := xml.Unmarshal(renderFixture(t, "junit"), &doc); err != nil {
		t.Fatal(err)
	}
	type want struct{ tests, failures, skipped int }
	wants := map[string]want{
		"app-03": {1, 1, 0}, "db-01": {2, 2, 0}, "legacy-01": {1, 1, 0}, "web-01": {1, 0, 0},
		"web-02": {1, 0, 1}, "win-01": {1, 0, 0}, "win-02": {1, 1, 0}, "not scanned": {1, 0, 1},
	}
	if len(doc.Suites) != len(wants) {
		t.Fatalf("%d suites, want %d", len(doc.Suites), len(wants))
	}
	for _, s := range doc.Suites {
		w, ok := wants[s.Name]
		if !ok {
			t.Errorf("unexpected suite %q", s.Name)
			continue
		}
		got := want{s.Tests, s.Failures, s.Skipped}
		if got != w || len(s.Cases) != w.tests {
			t.Errorf("suite %s: tests/failures/skipped = %v with %d cases, want %v", s.Name, got, len(s.Cases), w)
		}
		switch s.Name {
		case "web-02":
			sk := s.Cases[0].Skipped
			if sk == nil || !strings.HasPrefix(sk.Message, "waived: Vendor agent") || !strings.Contains(sk.Message, "2027-01-31") {
				t.Errorf("web-02 waived case = %+v", s.Cases[0])
			}
		case "web-01":
			if !strings.Contains(s.SystemOut, "warning protection:") {
				t.Errorf("web-01 system-out = %q", s.SystemOut)
			}
		case "app-03":
			f := s.Cases[0].Failure
			if f == nil || f.Message != `login banner contains "<b>unauthorised</b>" & | pipes` || !strings.Contains(f.Text, "remediation: =HYPERLINK") {
				t.Errorf("app-03 failure = %+v", f)
			}
		}
	}
}

// TestJUnitFailingStatusWithoutViolation checks that a host whose status
// fails the gate fails in CI even when no violation explains it.
func TestJUnitFailingStatusWithoutViolation(t *testing.T) {
	r := contract.NewReport(fixtureCompliance().GeneratedAt, []contract.Decision{{Host: "h\x00<&>", Status: contract.StatusUnreachable}})
	var buf bytes.Buffer
	if err := RenderReport(&buf, "junit", r); err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, buf.Bytes())
	}
	if s := doc.Suites[0]; s.Failures != 1 || s.Cases[0].Failure == nil || s.Name != "h\uFFFD<&>" {
		t.Errorf("suite = %+v", s)
	}
}

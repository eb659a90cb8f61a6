package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"

	"github.com/factorgate/factorgate/contract"
)

func init() { register("junit", func() Renderer { return junitRenderer{} }) }

// junitRenderer writes JUnit XML as CI servers (Jenkins, GitLab, GitHub
// test reporters) read it: one <testsuite> per host, named after the host,
// and in it one <testcase> per violation (a <failure>) and per waived
// violation (<skipped message="waived: ...">); a host with neither gets one
// passing testcase named after its status. Warnings go to the suite's
// <system-out>. Hosts that HSS knows but the inventory lacks close the
// report as a suite "not scanned" of skipped testcases.
//
// The status of each host is also a property of its suite, so a failing
// gate can be traced to its hosts without reading the failures.
type junitRenderer struct{}

type junitSuite struct {
	XMLName    xml.Name         `xml:"testsuite"`
	Name       string           `xml:"name,attr"`
	Tests      int              `xml:"tests,attr"`
	Failures   int              `xml:"failures,attr"`
	Errors     int              `xml:"errors,attr"`
	Skipped    int              `xml:"skipped,attr"`
	Timestamp  string           `xml:"timestamp,attr,omitempty"`
	Properties *junitProperties `xml:"properties,omitempty"`
	Cases      []junitCase      `xml:"testcase"`
	SystemOut  string           `xml:"system-out,omitempty"`
}

type junitProperties struct {
	List []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// Render implements [Renderer].
func (junitRenderer) Render(w io.Writer, h Header, decisions iter.Seq2[contract.Decision, error]) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	name := "factorgate"
	if h.Title != "" {
		name += ": " + h.Title
	}
	// The schema of Jenkins' xUnit plugin allows no timestamp here: each
	// suite carries it.
	root := xml.StartElement{Name: xml.Name{Local: "testsuites"}, Attr: []xml.Attr{{Name: xml.Name{Local: "name"}, Value: name}}}
	if err := enc.EncodeToken(root); err != nil {
		return err
	}
	for d, err := range decisions {
		if err != nil {
			return err
		}
		if err := enc.Encode(junitHostSuite(h, d)); err != nil {
			return err
		}
		// Flush per host: the report grows as hosts are judged.
		if err := enc.Flush(); err != nil {
			return err
		}
	}
	if len(h.NotScanned) > 0 {
		s := junitSuite{Name: "not scanned", Timestamp: junitTime(h.GeneratedAt)}
		names := junitNames{}
		for _, c := range h.NotScanned {
			host := c.HostName
			if host == "" {
				host = c.HostID
			}
			s.Cases = append(s.Cases, junitCase{
				Name: names.unique(host), Classname: "not_scanned",
				Skipped: &junitSkipped{Message: fmt.Sprintf("known to HSS as %s but not in the inventory: not scanned", c.HostID)},
			})
		}
		s.Tests, s.Skipped = len(s.Cases), len(s.Cases)
		if err := enc.Encode(s); err != nil {
			return err
		}
	}
	if err := enc.EncodeToken(root.End()); err != nil {
		return err
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitHostSuite is the testsuite of one host.
func junitHostSuite(h Header, d contract.Decision) junitSuite {
	s := junitSuite{Name: d.Host, Timestamp: junitTime(h.GeneratedAt)}
	props := []junitProperty{{"status", string(d.Status)}, {"eligible", fmt.Sprint(d.Eligible)}}
	if d.Address != nil {
		props = append(props, junitProperty{"address", *d.Address})
	}
	if d.OS != nil {
		props = append(props, junitProperty{"os", *d.OS})
	}
	s.Properties = &junitProperties{props}
	names := junitNames{}
	for _, v := range d.Violations {
		s.Cases = append(s.Cases, junitCase{
			Name: names.unique(v.Check), Classname: d.Host,
			Failure: &junitFailure{Message: v.Message, Type: v.Check, Text: findingText(v)},
		})
		s.Failures++
	}
	for _, v := range d.Waived {
		s.Cases = append(s.Cases, junitCase{
			Name: names.unique(v.Check), Classname: d.Host,
			Skipped: &junitSkipped{Message: "waived: " + waiverText(v) + " (" + v.Message + ")"},
		})
		s.Skipped++
	}
	if len(s.Cases) == 0 {
		c := junitCase{Name: string(d.Status), Classname: d.Host}
		if !d.Status.Passes() {
			// A failing status with no violation to show still fails.
			c.Failure = &junitFailure{Message: "status " + string(d.Status), Type: string(d.Status)}
			s.Failures++
		}
		s.Cases = append(s.Cases, c)
	}
	s.Tests = len(s.Cases)
	var out strings.Builder
	for _, f := range d.Warnings {
		fmt.Fprintf(&out, "warning %s: %s\n", f.Check, f.Message)
		if f.Remediation != "" {
			fmt.Fprintf(&out, "  remediation: %s\n", f.Remediation)
		}
	}
	s.SystemOut = out.String()
	return s
}

// junitNames gives the testcases of one suite distinct names: CI servers
// key a test's history on its suite and name, and merge or drop testcases
// that share one. A check with several findings on one host (password_login
// gives one per setting) names the first by the check, the next "check
// (2)", "check (3)" and so on, in the decision's order.
type junitNames map[string]bool

func (n junitNames) unique(name string) string {
	u := name
	for i := 2; n[u]; i++ {
		u = fmt.Sprintf("%s (%d)", name, i)
	}
	n[u] = true
	return u
}

// findingText is a finding spelt out for a failure body.
func findingText(f contract.Finding) string {
	var b strings.Builder
	b.WriteString(f.Message)
	if f.Severity != "" {
		b.WriteString("\nseverity: " + f.Severity)
	}
	if f.Remediation != "" {
		b.WriteString("\nremediation: " + f.Remediation)
	}
	return b.String()
}

// waiverText is the justification and expiry of a waived finding.
func waiverText(f contract.Finding) string {
	if f.Waiver == nil {
		return "no justification given"
	}
	s := f.Waiver.Justification
	if f.Waiver.Expires != "" {
		s += ", expires " + f.Waiver.Expires
	}
	return s
}

func junitTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}

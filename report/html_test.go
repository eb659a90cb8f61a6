package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
)

func TestHTMLGolden(t *testing.T) {
	compareGoldenFile(t, "html.golden.html", renderFixture(t, "html"))
}

func TestHTMLStopsOnError(t *testing.T) { checkStopsOnError(t, "html") }

// TestHTMLSelfContained checks that the page loads nothing from anywhere.
func TestHTMLSelfContained(t *testing.T) {
	out := string(renderFixture(t, "html"))
	for _, re := range []string{
		`<script[^>]+src=`, `<link[^>]+href="[^d]`, `<img[^>]+src=`, `@import`, `url\(`, `@font-face`,
		`https?://(?:[^"]*)"`, // any absolute URL in an attribute
	} {
		m := regexp.MustCompile(re).FindString(out)
		if m != "" && !strings.Contains(m, "http://www.w3.org/2000/svg") {
			t.Errorf("page loads an outside asset: %q matches %s", m, re)
		}
	}
	for _, s := range []string{"<style>", "<script>", "<svg", "<details>", "@media print", "Hosts by status"} {
		if !strings.Contains(out, s) {
			t.Errorf("page lacks %q", s)
		}
	}
}

// TestHTMLInertMarkup renders a host name and messages that carry markup
// and checks they arrive as text.
func TestHTMLInertMarkup(t *testing.T) {
	evil := `<script>alert(1)</script>`
	r := contract.NewReport(fixtureCompliance().GeneratedAt, []contract.Decision{{
		Host: evil, Address: fixtureStr(`"><img src=x onerror=alert(2)>`), Status: contract.StatusIneligible,
		Violations: []contract.Finding{{Check: `x" onmouseover="alert(3)`, Message: `</details><script>alert(4)</script>`, Remediation: `javascript:alert(5)`}},
		Waived:     []contract.Finding{{Check: "selinux", Message: "m", Waiver: &contract.Waiver{Justification: `<b>because</b>`, Expires: `2027-01-31"><script>`}}},
	}})
	var buf bytes.Buffer
	if err := renderWithTitle(&buf, "html", r, `</title><script>alert(6)</script>`); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if n := strings.Count(out, "<script"); n != 1 {
		t.Errorf("%d <script elements, want only the report's own", n)
	}
	for _, bad := range []string{"<img", "onmouseover=\"alert", "<b>because", "</details><script"} {
		if strings.Contains(out, bad) {
			t.Errorf("markup %q reached the page", bad)
		}
	}
	if !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the host name is not shown as text")
	}
}

// TestHTMLWaivedNeverPassed checks that the waived violation of web-02 is
// shown as waived, with justification and expiry.
func TestHTMLWaivedNeverPassed(t *testing.T) {
	out := string(renderFixture(t, "html"))
	i := strings.Index(out, `<th scope="row">web-02</th>`)
	if i < 0 {
		t.Fatal("no row for web-02")
	}
	row := out[i : i+strings.Index(out[i:], "</tbody>")]
	for _, s := range []string{"1 waived", "Waived violations (not counted toward the status, not passed)", "<strong>Waived</strong>: Vendor agent needs SELinux", `<time datetime="2027-01-31">`} {
		if !strings.Contains(row, s) {
			t.Errorf("web-02 row lacks %q:\n%s", s, row)
		}
	}
	if strings.Contains(row, "No findings") {
		t.Error("web-02 shown as having no findings")
	}
}

func TestHTMLChartBars(t *testing.T) {
	h := htmlHeadFor(Header{Summary: map[contract.Status]int{"eligible": 4, "ineligible": 2}, NotScanned: make([]contract.CloudHost, 1)})
	if len(h.Bars) != len(contract.Statuses)+1 {
		t.Fatalf("%d bars", len(h.Bars))
	}
	widths := map[string]int{}
	for _, b := range h.Bars {
		widths[b.Class] = b.Width
	}
	if widths["eligible"] != 400 || widths["ineligible"] != 200 || widths["not_scanned"] != 100 || widths["unreachable"] != 0 {
		t.Errorf("bar widths = %v", widths)
	}
}

func TestRemediationSource(t *testing.T) {
	r := htmlRowFor(contract.Decision{Host: "h", Violations: []contract.Finding{
		{Check: "a", Remediation: "Do this (source: hss_01_0472)"},
		{Check: "b", Remediation: "Do that"},
	}}, nil)
	if f := r.Violations[0]; f.Remediation != "Do this" || f.Source != "hss_01_0472" {
		t.Errorf("split = %q, %q", f.Remediation, f.Source)
	}
	if f := r.Violations[1]; f.Remediation != "Do that" || f.Source != "" {
		t.Errorf("no source: %q, %q", f.Remediation, f.Source)
	}
}

// TestComplianceEmptyFleet renders a run that judged no host in each
// format: each must still be a well-formed report that says so.
func TestComplianceEmptyFleet(t *testing.T) {
	r := contract.NewReport(fixtureCompliance().GeneratedAt, nil)
	for _, tc := range []struct{ format, want string }{
		{"html", `<tr><td colspan="8" class="none">No host was judged.</td></tr>`},
		{"markdown", "\nNo host was judged.\n"},
		{"junit", "<testsuites name=\"factorgate\"></testsuites>"},
		{"csv", "host,address,status,eligible,kind,check,severity,message,remediation,waiver_justification,waiver_expires\n"},
		{"sarif", `"results": [],`},
	} {
		t.Run(tc.format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderReport(&buf, tc.format, r); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, buf.String())
			}
		})
	}
}

// TestHTMLHostRows checks the host table of the page: the title names the
// inventory by its file name, a host's unknown OS reads "-", the
// transport has its column, host names never break (the table scrolls
// sideways in a focusable region instead), and each host's findings are a
// row of their own across the table.
func TestHTMLHostRows(t *testing.T) {
	var buf bytes.Buffer
	if err := renderWithTitle(&buf, "html", fixtureCompliance(), "/tmp/tmp.Q1w2/fleet.yaml"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"<title>factorgate compliance report: fleet.yaml</title>",
		"<th scope=\"row\">win-02</th>\n<td>10.0.0.12</td>\n<td>winrm</td>\n<td>-</td>\n",
		"<th scope=\"row\">win-01</th>\n<td>10.0.0.9</td>\n<td>winrm</td>\n<td>windows</td>\n",
		`<div class="scroll" role="region" aria-label="Host table (scrolls sideways)" tabindex="0">`,
		"tbody th, td, .hosts .host { white-space: nowrap; }",
		"<tr class=\"findings-row\">\n<td colspan=\"8\">\n<details>\n<summary>win-02: 1 violation</summary>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"/tmp/", "overflow-wrap: anywhere", "word-break"} {
		if strings.Contains(out, bad) {
			t.Errorf("page has %q", bad)
		}
	}
}

// TestHTMLSharedWarningsStayFindable checks that a host whose warning is
// listed once, after the table, still counts it, finds it in the filter
// and links to it.
func TestHTMLSharedWarningsStayFindable(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderReport(&buf, "html", peopleFleet()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	i := strings.Index(out, `data-search="win-01 `)
	if i < 0 {
		t.Fatal("no row for win-01")
	}
	row := out[i : i+strings.Index(out[i:], "</tbody>")]
	for _, want := range []string{" rdp once 2fa is on", "<td class=\"n\">1</td>", "<summary>win-01: 1 warning</summary>",
		`1 warning of this host is shared with other hosts: see <a href="#shared-h">Warnings on several hosts</a>.`} {
		if !strings.Contains(row, want) {
			t.Errorf("win-01 row lacks %q:\n%s", want, row)
		}
	}
}

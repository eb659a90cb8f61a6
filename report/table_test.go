package report

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/termtext"
)

func TestTableGolden(t *testing.T) {
	compareGoldenFile(t, "table.golden.txt", renderFixture(t, "table"))
}

func TestTableStopsOnError(t *testing.T) { checkStopsOnError(t, "table") }

// TestTableFitsTheTerminal checks that every line fits 80 columns and
// that each host is one row starting with its status.
func TestTableFitsTheTerminal(t *testing.T) {
	out := string(renderFixture(t, "table"))
	for i, line := range strings.Split(out, "\n") {
		if len(line) > 80 {
			t.Errorf("line %d is %d columns: %q", i+1, len(line), line)
		}
	}
	for _, d := range fixtureCompliance().Decisions {
		found := false
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == string(d.Status) && f[1] == d.Host {
				found = true
			}
		}
		if !found {
			t.Errorf("no row for %s with status %s", d.Host, d.Status)
		}
	}
	if !strings.Contains(strings.Join(strings.Fields(out), " "), "7 hosts: 2 eligible, 1 enabled, 2 ineligible, 1 enabled_ineligible, 1 unreachable") {
		t.Errorf("summary line missing:\n%s", out)
	}
}

func TestTableNeutralisesControlCharacters(t *testing.T) {
	r := contract.NewReport(time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC), []contract.Decision{{
		Host: "evil\x1b[2J", Status: contract.StatusIneligible,
		Violations: []contract.Finding{{Check: "x", Message: "red \x1b[31mtext\x1b[0m\nnext line\tand tab", Remediation: "fix\r\nit"}},
	}})
	var buf bytes.Buffer
	if err := RenderReport(&buf, "table", r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.ContainsAny(out, "\x1b\r\t") {
		t.Errorf("control characters reached the terminal: %q", out)
	}
	if !strings.Contains(out, "  x x: red text next line and tab\n    fix: fix it\n") || strings.Contains(out, "[31m") {
		t.Errorf("finding not kept on its lines:\n%s", out)
	}
}

func TestTableEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderReport(&buf, "table", contract.NewReport(time.Unix(0, 0), nil)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "(no hosts)") || !strings.Contains(buf.String(), "0 hosts: 0 eligible") {
		t.Errorf("empty table:\n%s", buf.String())
	}
}

func TestWrapText(t *testing.T) {
	for _, tc := range []struct {
		first, indent, text string
		want                []string
	}{
		{"", "", "", nil},
		{"- ", "  ", "short", []string{"- short"}},
		{"- ", "  ", "one two three four five six", []string{"- one two three four", "  five six"}},
		// A word longer than a line is cut where the line ends.
		{"- ", "  ", "averyveryverylongwordthatdoesnotfit x", []string{"- averyveryverylongw", "  ordthatdoesnotfit", "  x"}},
		// Wide characters take two columns.
		{"", "", "服务器服务器服务器服务器 ab", []string{"服务器服务器服务器服", "务器 ab"}},
	} {
		got := termtext.Wrap(tc.first, tc.indent, tc.text, 20)
		if !slices.Equal(got, tc.want) {
			t.Errorf("termtext.Wrap(%q) = %q, want %q", tc.text, got, tc.want)
		}
		for _, l := range got {
			if termtext.Width(l) > 20 {
				t.Errorf("termtext.Wrap(%q): line %q is %d columns", tc.text, l, termtext.Width(l))
			}
		}
	}
}

// TestTableStripsBidiControls renders a host name with a right-to-left
// override, which would make the terminal show text other than the bytes,
// and messages with other bidirectional controls.
func TestTableStripsBidiControls(t *testing.T) {
	r := contract.NewReport(time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC), []contract.Decision{{
		Host: "web-\u202e10-bew", Status: contract.StatusIneligible,
		Violations: []contract.Finding{{Check: "x\u2066", Message: "a\u200eb\u200fc\u061cd\u202ae\u2069f\u0085g", Remediation: "fix\u2067 it\u2068"}},
	}})
	var buf bytes.Buffer
	if err := RenderReport(&buf, "table", r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if i := strings.IndexFunc(out, termtext.IsBidiControl); i >= 0 {
		t.Errorf("bidirectional control %U reached the terminal: %q", []rune(out[i:])[0], out)
	}
	for _, want := range []string{" web-10-bew ", "  x x: abcdef g\n", "    fix: fix it\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestIsBidiControl(t *testing.T) {
	for _, r := range []rune{'\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c'} {
		if !termtext.IsBidiControl(r) {
			t.Errorf("termtext.IsBidiControl(%U) = false", r)
		}
	}
	for _, r := range []rune{'a', ' ', '\u2029', '\u202f', '\u2065', '\u206a', '\u200d', '\u061b', 'é'} {
		if termtext.IsBidiControl(r) {
			t.Errorf("termtext.IsBidiControl(%U) = true", r)
		}
	}
}

func TestHTMLStripsBidiControls(t *testing.T) {
	r := contract.NewReport(time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC), []contract.Decision{{
		Host: "web-\u202e10-bew", Status: contract.StatusIneligible,
		Violations: []contract.Finding{{Check: "selinux", Message: "a\u200eb\u2066c", Remediation: "fix\u2067 it",
			Waiver: &contract.Waiver{Justification: "ok\u202e", Expires: "2027-01-01"}}},
	}})
	var buf bytes.Buffer
	if err := RenderReport(&buf, "html", r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if i := strings.IndexFunc(out, termtext.IsBidiControl); i >= 0 {
		t.Errorf("bidirectional control %U reached the html report", []rune(out[i:])[0])
	}
	if !strings.Contains(out, "web-10-bew") || !strings.Contains(out, "abc") {
		t.Errorf("html report lacks the cleaned text")
	}
}

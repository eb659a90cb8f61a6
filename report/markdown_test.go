package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/testutil"
	"github.com/factorgate/factorgate/termtext"
)

func TestMarkdownGolden(t *testing.T) {
	compareGoldenFile(t, "markdown.golden.md", renderFixture(t, "markdown"))
}

func TestMarkdownStopsOnError(t *testing.T) { checkStopsOnError(t, "markdown") }

// TestMarkdownTablesKeepTheirColumns checks that no escaped text adds or
// removes a column: every table row has as many unescaped pipes as its
// header.
func TestMarkdownTablesKeepTheirColumns(t *testing.T) {
	out := string(renderFixture(t, "markdown"))
	want := -1
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			want = -1
			continue
		}
		n := strings.Count(line, "|") - strings.Count(line, `\|`)
		if want < 0 {
			want = n
		} else if n != want {
			t.Errorf("row has %d cell borders, header %d: %s", n, want, line)
		}
	}
	if strings.Contains(out, "<b>") || strings.Contains(out, "\nthen reload") {
		t.Error("markup or a raw line break from a message reached the output")
	}
	joined := strings.Join(strings.Fields(out), " ")
	if !strings.Contains(out, "### web-02\n\nStatus eligible") || !strings.Contains(joined, "**Waived**: Vendor agent needs SELinux until the Q1 migration, CHG-1042; expires 2027-01-31") {
		t.Errorf("waived finding of web-02 missing:\n%s", out)
	}
}

func TestMDText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"web-01", "web-01"},
		{"a|b", `a\|b`},
		{"<script>", `\<script\>`},
		{"line1\nline2", "line1<br>line2"},
		{"*x* _y_ [z](u)", `\*x\* \_y\_ \[z\](u)`},
		{`back\slash`, `back\\slash`},
		{"web-\u202e10-bew", "web-10-bew"},
		{"a\u2066b\u2069c\u200ed\u200fe\u061cf\u202ag\u202ch", "abcdefgh"},
		{"esc\x1b[31mred\ttab\u0085nel", `escred tab nel`},
		{"title\x1b]0;owned\x07 csi\u009b2J c1", `title csi c1`},
	} {
		if got := mdText(tc.in); got != tc.want {
			t.Errorf("mdText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestMarkdownStripsBidiControls checks a host name with a right-to-left
// override, and a check and message with bidirectional controls, end to end.
func TestMarkdownStripsBidiControls(t *testing.T) {
	r := contract.NewReport(fixtureCompliance().GeneratedAt, []contract.Decision{{
		Host: "web-\u202e10-bew", Address: fixtureStr("10.0.0.1\u2066"), Status: contract.StatusIneligible,
		Violations: []contract.Finding{{Check: "user\u202echeck", Message: "is \u2067bad\u2069\x1b[0m", Remediation: "fix\u200f it"}},
	}})
	var buf bytes.Buffer
	if err := RenderReport(&buf, "markdown", r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if i := strings.IndexFunc(out, func(r rune) bool { return termtext.IsBidiControl(r) || r == 0x1b }); i >= 0 {
		t.Errorf("control %U reached the output: %q", []rune(out[i:])[0], out)
	}
	for _, want := range []string{"| web-10-bew | - | - | **ineligible** |", "### web-10-bew\n", "address 10.0.0.1.", "- `usercheck`: is bad<br>Remediation: fix it"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestMarkdownSpillsDetails renders with a spool limit far below the size
// of the details, so they pass through a temporary file, and checks the
// output is the same as from memory.
func TestMarkdownSpillsDetails(t *testing.T) {
	r := fixtureCompliance()
	h := Header{GeneratedAt: r.GeneratedAt, Summary: r.Summary, Total: len(r.Decisions), NotScanned: r.NotScanned, Title: "fleet.yaml"}
	render := func(limit int) string {
		var buf bytes.Buffer
		if err := (markdownRenderer{spoolLimit: limit}).Render(&buf, h, seqOf(r.Decisions, nil)); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	if mem, disk := render(1<<20), render(16); mem != disk {
		t.Errorf("spooled output differs:\n%s", testutil.FirstDiff(mem, disk))
	}
}

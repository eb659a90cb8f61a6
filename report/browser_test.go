package report

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/testutil"
)

// TestHTMLInBrowser opens the html report in headless Chromium, served from
// loopback, and works it as a reader would: it must run with no console
// error, no exception and no request but the page itself; typing in the
// filter hides the rows that do not match; the status boxes hide their
// rows; a column heading sorts; print media shows every finding and hides
// the controls; markup in a host name stays text. It saves a screenshot
// and the printed PDF.
func TestHTMLInBrowser(t *testing.T) {

	r := fixtureCompliance()
	r.Decisions = append(r.Decisions, contract.Decision{
		Host: `zz-<img src=/pwned onerror="window.pwned=1">`, Status: contract.StatusUnreachable,
		Violations: []contract.Finding{{Check: "reachable", Message: `<script>window.pwned=2</script>`}},
	})
	r.Summary[contract.StatusUnreachable]++
	var page bytes.Buffer
	if err := renderWithTitle(&page, "html", r, "fleet.yaml"); err != nil {
		t.Fatal(err)
	}
	dir := testutil.ArtifactDir(t)
	if err := os.WriteFile(filepath.Join(dir, "report.html"), page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	var (
		mu       sync.Mutex
		requests []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		requests = append(requests, req.URL.Path)
		mu.Unlock()
		if req.URL.Path != "/" {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page.Bytes())
	}))
	defer srv.Close()

	bctx, problems := testutil.Browser(t)

	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	visible := func() []string {
		t.Helper()
		hosts, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#hosts tbody.host"))
			.filter(r => r.getClientRects().length > 0)
			.map(r => r.rows[0].cells[0].textContent)`))
		must("read visible rows", err)
		return hosts
	}
	column := func(i int) []string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](fmt.Sprintf(
			`Array.from(document.querySelectorAll("#hosts tbody.host")).map(r => r.rows[0].cells[%d].textContent.trim())`, i)))
		must("read column", err)
		return v
	}
	eval := func(js string) {
		t.Helper()
		_, err := chromedp.Run(bctx, chromedp.Evaluate[any](js))
		must(js, err)
	}

	must("open the report", chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("controls")),
	))
	all := visible()
	if len(all) != len(r.Decisions) {
		t.Fatalf("%d rows visible at first, want %d: %v", len(all), len(r.Decisions), all)
	}

	// Typing in the filter hides what does not match.
	must("type in the filter", chromedp.Do(bctx, chromedp.SendKeys(chromedp.ID("filter"), "web")))
	if got := visible(); !slices.Equal(got, []string{"web-01", "web-02"}) {
		t.Errorf("after typing \"web\": visible %v, want [web-01 web-02]", got)
	}
	shown, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("shown")))
	must("read the count", err)
	if want := fmt.Sprintf("Showing 2 of %d hosts", len(r.Decisions)); shown != want {
		t.Errorf("count reads %q, want %q", shown, want)
	}
	// A check ID finds its hosts too.
	eval(`(f => { f.value = "selinux"; f.dispatchEvent(new Event("input")); })(document.getElementById("filter"))`)
	if got := visible(); !slices.Equal(got, []string{"db-01", "web-02"}) {
		t.Errorf("after typing \"selinux\": visible %v, want [db-01 web-02]", got)
	}
	eval(`(f => { f.value = ""; f.dispatchEvent(new Event("input")); })(document.getElementById("filter"))`)
	if got := visible(); len(got) != len(all) {
		t.Errorf("after clearing the filter %d rows visible, want %d", len(got), len(all))
	}

	// Unticking a status hides its hosts.
	must("untick unreachable", chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`input[name=status][value=unreachable]`))))
	for _, h := range visible() {
		if h == "win-02" || strings.HasPrefix(h, "zz-") {
			t.Errorf("unreachable host %q still visible", h)
		}
	}
	if got := visible(); len(got) != len(all)-2 {
		t.Errorf("%d rows visible with unreachable unticked, want %d", len(got), len(all)-2)
	}
	must("tick unreachable", chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`input[name=status][value=unreachable]`))))

	// Sorting: host descending on the second click, then violations.
	before := column(0)
	must("sort by host", chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`#hosts thead th:nth-child(1) button`)),
		chromedp.Click(chromedp.CSS(`#hosts thead th:nth-child(1) button`)),
	))
	desc := column(0)
	if slices.Equal(desc, before) || !sort.SliceIsSorted(desc, func(i, j int) bool { return strings.ToLower(desc[i]) > strings.ToLower(desc[j]) }) {
		t.Errorf("hosts after two clicks on Host: %v, want descending", desc)
	}
	ariaSort, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector("#hosts thead th:nth-child(1)").getAttribute("aria-sort")`))
	must("read aria-sort", err)
	if ariaSort != "descending" {
		t.Errorf("aria-sort = %q, want descending", ariaSort)
	}
	must("sort by violations", chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`#hosts thead th:nth-child(6) button`))))
	v := column(5)
	if !sort.SliceIsSorted(v, func(i, j int) bool { return v[i] < v[j] }) {
		t.Errorf("violations after sorting: %v, want ascending", v)
	}

	// Markup in a host name is text, and its handler never ran.
	pwned, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`window.pwned !== undefined`))
	must("read window.pwned", err)
	if pwned {
		t.Error("markup in a host name ran as script")
	}

	// Print media: every finding shows, the controls hide.
	must("emulate print", chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	})))
	printed, err := chromedp.Run(bctx, chromedp.Evaluate[[]bool](`[
		getComputedStyle(document.getElementById("controls")).display === "none",
		Array.from(document.querySelectorAll("#hosts details ul")).every(u => u.getClientRects().length > 0)]`))
	must("read print layout", err)
	if !slices.Equal(printed, []bool{true, true}) {
		t.Errorf("print media: controls hidden, findings shown = %v, want both true", printed)
	}
	must("back to screen", chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
		return err
	})))

	// The screenshot: sorted by host, web-02's waived finding open.
	must("arrange the screenshot", chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`#hosts thead th:nth-child(1) button`)),
	))
	eval(`Array.from(document.querySelectorAll("#hosts tbody.host")).filter(r => ["db-01", "web-02"].includes(r.rows[0].cells[0].textContent)).forEach(r => r.querySelector("details").open = true)`)
	size, err := chromedp.Run(bctx, chromedp.Evaluate[[]float64](`[document.documentElement.scrollWidth, document.documentElement.scrollHeight]`))
	must("measure the page", err)
	png, err := chromedp.Run(bctx, chromedp.Action[[]byte](func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
		r, err := cdp.Call(ctx, tg, cdppage.CaptureScreenshot, cdppage.CaptureScreenshotParams{
			Format:                cdppage.CaptureScreenshotFormatPng,
			Clip:                  &cdppage.Viewport{Width: size[0], Height: size[1], Scale: 1},
			CaptureBeyondViewport: &[]bool{true}[0],
		})
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	}))
	must("take the screenshot", err)
	shot := filepath.Join(dir, "html-report.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (page: %s)", shot, filepath.Join(dir, "report.html"))

	// The printed report, as a PDF beside the screenshot.
	pdf, err := chromedp.Run(bctx, chromedp.Action[[]byte](func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
		r, err := cdp.Call(ctx, tg, cdppage.PrintToPDF, cdppage.PrintToPDFParams{})
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	}))
	must("print to PDF", err)
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Errorf("printing gave %d bytes that are not a PDF", len(pdf))
	}
	if err := os.WriteFile(filepath.Join(dir, "html-report.pdf"), pdf, 0o644); err != nil {
		t.Fatal(err)
	}

	// Accessibility: axe-core finds no serious or critical violation.
	if axe := testutil.AxeScript(t); axe != "" {
		eval(`document.querySelectorAll("#hosts details").forEach(d => d.open = true)`)
		eval(axe)
		violations, err := chromedp.Run(bctx, chromedp.Evaluate[[]axeViolation](
			`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v => ({
				id: v.id, impact: v.impact || "", help: v.help,
				nodes: v.nodes.map(n => n.target.join(" ") + (n.failureSummary ? ": " + n.failureSummary.replace(/\s+/g, " ") : ""))})))`,
			chromedp.EvalAwaitPromise))
		must("run axe", err)
		for _, v := range violations {
			if v.Impact == "serious" || v.Impact == "critical" {
				t.Errorf("axe: %s (%s): %s\n\t%s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
			} else {
				t.Logf("axe, minor: %s (%s): %s on %d nodes", v.ID, v.Impact, v.Help, len(v.Nodes))
			}
		}
	}

	// A host's findings span the table.
	spans, err := chromedp.Run(bctx, chromedp.Evaluate[[]float64](`[document.querySelector("#hosts tr.findings-row td").getBoundingClientRect().width,
		document.getElementById("hosts").getBoundingClientRect().width]`))
	must("measure a findings row", err)
	if spans[0] < spans[1]-1 {
		t.Errorf("a host's findings are %vpx wide in a table of %vpx: they should span it", spans[0], spans[1])
	}

	// A narrow window: the host table scrolls sideways, its host names
	// whole on one line each; the page itself does not scroll sideways.
	must("narrow the window", chromedp.Do(bctx, chromedp.EmulateViewport(600, 900)))
	eval(`document.querySelectorAll("#hosts details").forEach(d => d.open = false)`)
	layout, err := chromedp.Run(bctx, chromedp.Evaluate[[]float64](`(() => {
		const s = document.querySelector(".scroll");
		const lines = Array.from(document.querySelectorAll("#hosts tbody.host th")).map(th => {
			const r = document.createRange(); r.selectNodeContents(th); return r.getClientRects().length; });
		return [s.scrollWidth - s.clientWidth, Math.max(...lines), document.documentElement.scrollWidth - window.innerWidth];
	})()`))
	must("measure the narrow layout", err)
	if layout[0] <= 0 {
		t.Errorf("at 600px the host table does not scroll sideways (overflow %vpx)", layout[0])
	}
	if layout[1] != 1 {
		t.Errorf("at 600px a host name takes %v lines, want 1", layout[1])
	}
	if layout[2] > 0 {
		t.Errorf("at 600px the page scrolls sideways by %vpx: only the table should", layout[2])
	}
	eval(`document.getElementById("hosts").scrollIntoView()`)
	narrow, err := chromedp.Run(bctx, chromedp.Action[[]byte](func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
		r, err := cdp.Call(ctx, tg, cdppage.CaptureScreenshot, cdppage.CaptureScreenshotParams{Format: cdppage.CaptureScreenshotFormatPng})
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	}))
	must("take the narrow screenshot", err)
	if err := os.WriteFile(filepath.Join(dir, "html-report-600px.png"), narrow, 0o644); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems() {
		t.Errorf("browser reported %s", p)
	}
	for _, p := range requests {
		if p != "/" {
			t.Errorf("the page requested %s: it must load nothing", p)
		}
	}
}

// axeViolation is an axe-core violation, as the test reads it.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

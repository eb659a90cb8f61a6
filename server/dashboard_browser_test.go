package server

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/history"
	"github.com/factorgate/factorgate/internal/testutil"
)

// dashboardHistory records what the dashboard shows: twelve runs of serve
// whose fleet grows and changes, one failed run, a sharded run with a shard
// missing, a check of another inventory, and host names that try markup and
// bidirectional overrides.
func dashboardHistory(t *testing.T, store *history.Store) {
	t.Helper()
	ctx := context.Background()
	base := time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)
	for i := 0; i < 12; i++ {
		var ds []contract.Decision
		add := func(host string, status contract.Status, checks ...string) {
			d := contract.Decision{Host: host, Status: status, Eligible: status == contract.StatusEligible || status == contract.StatusEnabled}
			for _, c := range checks {
				d.Violations = append(d.Violations, contract.Finding{Check: c, Message: c + " fails", Severity: "high"})
			}
			ds = append(ds, d)
		}
		// A fleet that grows: more web servers with 2FA on, more Windows
		// hosts out of reach; the application and database hosts stay.
		web := 6 + i/2
		for h := 0; h < web; h++ {
			add(fmt.Sprintf("web-%02d", h), contract.StatusEnabled)
		}
		for h := 0; h < 8; h++ {
			add(fmt.Sprintf("app-%02d", h), contract.StatusEligible)
		}
		for h := 0; h < 4; h++ {
			add(fmt.Sprintf("db-%02d", h), contract.StatusIneligible, "selinux")
		}
		for h := 0; h < 2+i-i/2; h++ {
			add(fmt.Sprintf("win-%02d", h), contract.StatusUnreachable, "reachable")
		}
		if i >= 9 {
			add("web-03", contract.StatusEnabledIneligible, "selinux") // replaces the enabled web-03
			ds = dedupe(ds)
		}
		if i == 10 {
			ds = ds[1:] // web-00 is gone from run 11
		}
		if i == 11 {
			add(`evil-<img src=x onerror="window.pwned=1">`+"\u202e10-bew", contract.StatusEnabledIneligible, "password_login")
		}
		start := base.Add(time.Duration(i) * 6 * time.Hour)
		if _, err := store.Record(ctx, history.Meta{StartedAt: start, Source: Source, Inventory: "fleet.yaml"},
			history.Result{Decisions: ds, FinishedAt: start.Add(93 * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	at := base.Add(72 * time.Hour)
	id, err := store.BeginRun(ctx, history.Meta{StartedAt: at, Source: Source, Inventory: "fleet.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.FinishRun(ctx, id, history.Result{Err: fmt.Errorf("fleet.yaml:4: hosts[1].address: missing"), FinishedAt: at.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.RecordShard(ctx, history.Meta{StartedAt: at.Add(time.Hour), Source: "check", Inventory: "big.yaml"},
		history.Shard{AuditID: "factorgate-audit-sharded-1", K: 1, N: 4},
		history.Result{Decisions: []contract.Decision{{Host: "big-01", Status: contract.StatusEligible, Eligible: true}}}); err != nil {
		t.Fatal(err)
	}
}

// dedupe keeps the last decision of each host, in first-seen order.
func dedupe(ds []contract.Decision) []contract.Decision {
	last := map[string]int{}
	for i, d := range ds {
		last[d.Host] = i
	}
	var out []contract.Decision
	for i, d := range ds {
		if last[d.Host] == i {
			out = append(out, d)
		}
	}
	return out
}

// TestDashboardInBrowser opens the dashboard in headless Chromium, served
// by a running server on loopback, as an operator would: it loads nothing
// but itself, runs nothing, shows the trend of the twelve runs as a chart
// of stacked bars, the drift events with their hosts (markup in a host name
// stays text), the runs with the sharded one said "1 of 4 shards", and links
// that open each run's report. axe-core finds no serious or critical
// accessibility violation. It saves a screenshot.
func TestDashboardInBrowser(t *testing.T) {
	axe := testutil.AxeScript(t)
	store := newStore(t)
	dashboardHistory(t, store)
	st := start(t, Config{Audit: newBlockingAudit().audit, Store: store, Schedule: "@every 6h", Inventory: "fleet.yaml"})

	bctx, problems := testutil.Browser(t)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](js))
		must(js, err)
		return v
	}
	evalInt := func(js string) int {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[int](js))
		must(js, err)
		return v
	}

	must("open the dashboard", chromedp.Do(bctx,
		chromedp.Navigate(st.base+"/"),
		chromedp.WaitVisible(chromedp.CSS("svg.trend")),
	))
	title, err := chromedp.Run(bctx, chromedp.Title())
	must("read the title", err)
	bars := evalInt(`document.querySelectorAll("svg.trend g.run").length`)
	segs := evalInt(`document.querySelectorAll("svg.trend rect").length`)
	legend := evalInt(`document.querySelectorAll("ul.legend li").length`)
	loaded := evalInt(`performance.getEntriesByType("resource").length`)
	desc := eval(`document.getElementById("trend-d").textContent`)
	drift := eval(`document.querySelector("table.events").innerText`)
	runsText := eval(`document.querySelector("table.runs").innerText`)
	hostText := eval(`[...document.querySelectorAll("table.events tbody th")].map(e => e.textContent).join("\n")`)
	pwned, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`window.pwned !== undefined`))
	must("read window.pwned", err)
	runLink := eval(`document.querySelector("table.runs tbody tr:nth-child(3) th a").getAttribute("href")`)

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
	shot := filepath.Join(testutil.ArtifactDir(t), "dashboard.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)

	if title != "factorgate serve: fleet.yaml" {
		t.Errorf("title = %q", title)
	}
	if loaded != 0 {
		t.Errorf("the dashboard loaded %d resources: it must load nothing but itself", loaded)
	}
	// Twelve ok runs, each a stack of its statuses (four or five).
	if bars != 12 || segs < 48 || legend != len(contract.Statuses) {
		t.Errorf("chart: %d bars, %d segments, %d legend entries; want 12 bars of 4-5 segments, %d entries", bars, segs, legend, len(contract.Statuses))
	}
	if !strings.Contains(desc, "Hosts per status in the last 12 runs") || !strings.Contains(desc, "run 12: 8 eligible, 10 enabled, 4 ineligible, 2 enabled_ineligible, 8 unreachable") {
		t.Errorf("chart description = %q", desc)
	}
	for _, want := range []string{"web-03", "entered enabled_ineligible", "enabled", "selinux", "password_login", "web-00", "disappeared"} {
		if !strings.Contains(drift, want) {
			t.Errorf("drift table lacks %q:\n%s", want, drift)
		}
	}
	if pwned || !strings.Contains(hostText, `evil-<img src=x onerror="window.pwned=1">10-bew`) || strings.ContainsRune(hostText, '\u202e') {
		t.Errorf("the host name was not shown as plain text without its override: pwned=%v %q", pwned, hostText)
	}
	for _, want := range []string{"1 of 4 shards", "failed", "fleet.yaml:4: hosts[1].address: missing", "big.yaml"} {
		if !strings.Contains(runsText, want) {
			t.Errorf("runs table lacks %q:\n%s", want, runsText)
		}
	}

	if axe != "" {
		var res struct {
			Violations []struct {
				ID     string `json:"id"`
				Impact string `json:"impact"`
				Help   string `json:"help"`
				Nodes  []struct {
					Target []any `json:"target"`
				} `json:"nodes"`
			} `json:"violations"`
		}
		_, err := chromedp.Run(bctx, chromedp.Evaluate[any](axe))
		must("load axe-core", err)
		raw, err := chromedp.Run(bctx, chromedp.Evaluate[string](
			`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r))`, chromedp.EvalAwaitPromise))
		must("run axe-core", err)
		if err := json.Unmarshal([]byte(raw), &res); err != nil {
			t.Fatal(err)
		}
		for _, v := range res.Violations {
			msg := fmt.Sprintf("axe %s (%s): %s, at %v", v.ID, v.Impact, v.Help, v.Nodes)
			if v.Impact == "serious" || v.Impact == "critical" {
				t.Error(msg)
			} else {
				t.Log(msg)
			}
		}
	}

	// A run's link opens its report.
	must("open a run", chromedp.Do(bctx, chromedp.Navigate(st.base+runLink)))
	reportTitle, err := chromedp.Run(bctx, chromedp.Title())
	must("read the report title", err)
	if !strings.HasPrefix(reportTitle, "factorgate compliance report: run 12 of fleet.yaml") {
		t.Errorf("the run link %s opened %q", runLink, reportTitle)
	}
	for _, p := range problems() {
		t.Errorf("browser reported %s", p)
	}
}

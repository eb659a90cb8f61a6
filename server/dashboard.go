package server

import (
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/history"
)

// The dashboard is the landing page of serve: the latest run in cards, the
// trend of hosts per status run by run (inline SVG), the latest drift events
// with their hosts, and the recent runs with links to their reports. It
// loads nothing: the CSS is inline, the chart is SVG, there is no script.

//go:embed dashboard.tmpl
var dashboardTmpl string

//go:embed dashboard.css
var dashboardCSS string

var dashboardTemplate = template.Must(template.New("dashboard").Parse(dashboardTmpl))

// Dashboard sizes.
const (
	trendRuns     = 30 // runs in the trend chart
	driftPairs    = 10 // newest pairs of runs whose drift events are shown
	maxEvents     = 50
	listedRuns    = 25
	scannedRuns   = 500 // runs read to find those of the trend
	driftCacheMax = 256
)

// eventTitles are drift events as people read them.
var eventTitles = map[string]string{
	history.EventEnteredEnabledIneligible: "entered enabled_ineligible",
	history.EventFellFromEligible:         "fell from eligible",
	history.EventDisappeared:              "disappeared",
}

type dashCard struct {
	Class, Label string
	Count        int
}

type dashSeg struct {
	Class, Title   string
	X, Y, W, H     int
	Label, Percent string
}

type dashBar struct {
	Run   history.RunID
	Segs  []dashSeg
	Label string
	LX    int
	Total int
}

type dashTick struct {
	Y     int
	Label string
}

type dashChart struct {
	Width, Height, PlotLeft, PlotRight, PlotBottom int
	Bars                                           []dashBar
	Ticks                                          []dashTick
	Desc                                           string
}

type dashEvent struct {
	Run         history.RunID
	At          string
	Host        string
	Kind, Title string
	From, To    string
	Why         string
}

type dashRun struct {
	ID                       history.RunID
	Link                     string
	Started, StartedISO      string
	Source, Status, Class    string
	Counts                   []int
	Duration, Inventory, Err string
}

type dashData struct {
	Title, Inventory, Schedule string
	Generated, GeneratedISO    string
	Next                       string
	Latest                     *history.Run
	LatestLink, LatestAt       string
	Cards                      []dashCard
	Chart                      dashChart
	Trend                      []*history.Run
	Events                     []dashEvent
	Runs                       []dashRun
	Statuses                   []contract.Status
	CSS                        template.CSS
}

// driftCache keeps the drift events of pairs of runs, which never change.
type driftCache struct {
	mu sync.Mutex
	m  map[[2]history.RunID][]history.Event
}

func (c *driftCache) events(ctx context.Context, s *history.Store, from, to history.RunID) ([]history.Event, error) {
	key := [2]history.RunID{from, to}
	c.mu.Lock()
	ev, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return ev, nil
	}
	a, err := s.GetRun(ctx, from)
	if err != nil {
		return nil, err
	}
	b, err := s.GetRun(ctx, to)
	if err != nil {
		return nil, err
	}
	ev = history.Diff(a, b).Events
	c.mu.Lock()
	if c.m == nil || len(c.m) >= driftCacheMax {
		c.m = map[[2]history.RunID][]history.Event{}
	}
	c.m[key] = ev
	c.mu.Unlock()
	return ev, nil
}

// pageText makes text from a host safe to show: control characters become
// spaces and bidirectional controls, which would show it in another order
// than it holds, are dropped.
func pageText(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f', r == '\u061c':
			return -1
		case unicode.IsControl(r):
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	d, err := s.dashboard(r.Context(), time.Now())
	if err != nil {
		s.storeError(w, err)
		return
	}
	var b strings.Builder
	if err := dashboardTemplate.Execute(&b, d); err != nil {
		s.log.Error("render the dashboard", "err", err)
		httpError(w, http.StatusInternalServerError, "the dashboard cannot be rendered")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	fmt.Fprint(w, b.String())
}

// dashboard gathers what the landing page shows.
func (s *Server) dashboard(ctx context.Context, now time.Time) (*dashData, error) {
	sc := s.scope()
	d := &dashData{
		Title: "factorgate serve", Inventory: pageText(sc.Inventory), Schedule: s.cfg.Schedule,
		Generated: now.UTC().Format("2006-01-02 15:04:05 UTC"), GeneratedISO: now.UTC().Format(time.RFC3339),
		Next:     s.sched.Next(now).UTC().Format("2006-01-02 15:04:05 UTC"),
		Statuses: contract.Statuses, CSS: template.CSS(dashboardCSS),
	}
	if d.Inventory != "" {
		d.Title += ": " + d.Inventory
	}
	runs, err := s.cfg.Store.ListRuns(ctx, scannedRuns)
	if err != nil {
		return nil, err
	}
	// The trend: serve's finished runs of its inventory, oldest first.
	for i := range runs {
		r := &runs[i]
		if r.Status == history.StatusOK && !r.Partial() && (sc.Source == "" || r.Source == sc.Source) && (sc.Inventory == "" || r.Inventory == sc.Inventory) {
			d.Trend = append(d.Trend, r)
		}
	}
	sort.SliceStable(d.Trend, func(i, j int) bool {
		if !d.Trend[i].StartedAt.Equal(d.Trend[j].StartedAt) {
			return d.Trend[i].StartedAt.Before(d.Trend[j].StartedAt)
		}
		return d.Trend[i].ID < d.Trend[j].ID
	})
	if len(d.Trend) > trendRuns {
		d.Trend = d.Trend[len(d.Trend)-trendRuns:]
	}
	if n := len(d.Trend); n > 0 {
		d.Latest = d.Trend[n-1]
		d.LatestLink = fmt.Sprintf("/runs/%d?format=html", d.Latest.ID)
		at := d.Latest.StartedAt
		if d.Latest.FinishedAt != nil {
			at = *d.Latest.FinishedAt
		}
		d.LatestAt = at.UTC().Format("2006-01-02 15:04:05 UTC")
		for _, st := range contract.Statuses {
			d.Cards = append(d.Cards, dashCard{Class: string(st), Label: string(st), Count: d.Latest.Counts[st]})
		}
	}
	d.Chart = trendChart(d.Trend)

	// The drift events of the newest pairs of runs, newest first.
	for i := len(d.Trend) - 1; i > 0 && i >= len(d.Trend)-driftPairs && len(d.Events) < maxEvents; i-- {
		prev, cur := d.Trend[i-1], d.Trend[i]
		evs, err := s.drift.events(ctx, s.cfg.Store, prev.ID, cur.ID)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			var why []string
			for _, v := range e.Violations {
				why = append(why, pageText(v.Check))
			}
			d.Events = append(d.Events, dashEvent{
				Run: cur.ID, At: cur.StartedAt.UTC().Format("2006-01-02 15:04"), Host: pageText(e.Host),
				Kind: e.Kind, Title: eventTitles[e.Kind], From: orDash(string(e.From)), To: orDash(string(e.To)), Why: orDash(strings.Join(why, ", ")),
			})
			if len(d.Events) == maxEvents {
				break
			}
		}
	}

	// The recent runs of any source.
	for i := range runs[:min(len(runs), listedRuns)] {
		r := &runs[i]
		row := dashRun{
			ID: r.ID, Started: r.StartedAt.UTC().Format("2006-01-02 15:04"), StartedISO: r.StartedAt.UTC().Format(time.RFC3339),
			Source: pageText(r.Source), Status: r.StatusText(), Class: string(r.Status), Inventory: orDash(pageText(r.Inventory)),
			Err: pageText(r.Error), Duration: "–",
		}
		if r.Partial() {
			row.Class = "partial"
		} else {
			row.Link = fmt.Sprintf("/runs/%d?format=html", r.ID)
		}
		if r.FinishedAt != nil {
			row.Duration = r.Duration.Round(time.Millisecond).String()
		}
		for _, st := range contract.Statuses {
			row.Counts = append(row.Counts, r.Counts[st])
		}
		d.Runs = append(d.Runs, row)
	}
	return d, nil
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// trendChart lays out the stacked bars of hosts per status, one bar a run.
func trendChart(runs []*history.Run) dashChart {
	c := dashChart{Width: 760, Height: 280, PlotLeft: 52, PlotRight: 748, PlotBottom: 236}
	const top = 12
	peak := 1
	for _, r := range runs {
		peak = max(peak, r.Hosts)
	}
	plotH := c.PlotBottom - top
	for _, f := range []int{0, 1, 2} {
		v := peak * f / 2
		c.Ticks = append(c.Ticks, dashTick{Y: c.PlotBottom - v*plotH/peak, Label: fmt.Sprint(v)})
	}
	n := len(runs)
	if n == 0 {
		c.Desc = "No finished run yet."
		return c
	}
	slot := (c.PlotRight - c.PlotLeft) / max(n, 8)
	barW := max(slot*7/10, 4)
	every := (n + 14) / 15 // at most 15 run labels
	var desc []string
	for i, r := range runs {
		x := c.PlotLeft + i*slot + (slot-barW)/2
		b := dashBar{Run: r.ID, Total: r.Hosts, LX: x + barW/2}
		if i%every == 0 || i == n-1 {
			b.Label = fmt.Sprintf("#%d", r.ID)
		}
		y := c.PlotBottom
		var parts []string
		for _, st := range contract.Statuses {
			k := r.Counts[st]
			if k == 0 {
				continue
			}
			h := max(k*plotH/peak, 1)
			y -= h
			b.Segs = append(b.Segs, dashSeg{Class: string(st), X: x, Y: y, W: barW, H: h,
				Title: fmt.Sprintf("run %d: %d %s", r.ID, k, st)})
			parts = append(parts, fmt.Sprintf("%d %s", k, st))
		}
		c.Bars = append(c.Bars, b)
		if len(parts) == 0 {
			parts = []string{"no hosts"}
		}
		desc = append(desc, fmt.Sprintf("run %d: %s", r.ID, strings.Join(parts, ", ")))
	}
	c.Desc = "Hosts per status in the last " + fmt.Sprint(n) + " runs, oldest first. " + strings.Join(desc, "; ") + "."
	return c
}

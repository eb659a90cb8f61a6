package server

import (
	"context"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/history"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Run outcomes counted by factorgate_runs_total, beside the run statuses
// ok, failed and interrupted.
var runOutcomes = []string{string(history.StatusOK), string(history.StatusFailed), string(history.StatusInterrupted), "skipped", "other_replica", "record_error"}

// metrics are the server's Prometheus metrics, in a registry of their own.
type metrics struct {
	reg         *prometheus.Registry
	hosts       *prometheus.GaugeVec
	duration    prometheus.Gauge
	lastSuccess prometheus.Gauge
	lastRun     prometheus.Gauge
	scanErrors  prometheus.Gauge
	inProgress  prometheus.Gauge
	runs        *prometheus.CounterVec
	driftEvents *prometheus.CounterVec
	webhooks    *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		hosts: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "factorgate_hosts", Help: "Hosts of each status in the latest successful run.",
		}, []string{"status"}),
		duration: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "factorgate_run_duration_seconds", Help: "How long the latest finished run took.",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "factorgate_last_success_timestamp_seconds", Help: "When the latest successful run finished, in Unix seconds (0: never).",
		}),
		lastRun: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "factorgate_last_run_id", Help: "The ID of the latest finished run, as factorgate history shows it.",
		}),
		scanErrors: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "factorgate_scan_errors", Help: "Hosts the latest successful run could not scan (unreachable).",
		}),
		inProgress: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "factorgate_run_in_progress", Help: "1 while a run is in progress.",
		}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "factorgate_runs_total", Help: "Runs by outcome: ok, failed, interrupted, skipped (a tick came during a run), other_replica (another replica ran the tick or was running), record_error (the history could not be written).",
		}, []string{"outcome"}),
		driftEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "factorgate_drift_events_total", Help: "Drift events found: hosts that entered enabled_ineligible, fell from eligible or disappeared.",
		}, []string{"kind"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "factorgate_webhook_deliveries_total", Help: "Drift webhook deliveries by outcome, after retries.",
		}, []string{"outcome"}),
	}
	m.reg.MustRegister(m.hosts, m.duration, m.lastSuccess, m.lastRun, m.scanErrors, m.inProgress, m.runs, m.driftEvents, m.webhooks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Every label value is present from the start, so rate() and alerts
	// see a zero before the first increase.
	for _, st := range contract.Statuses {
		m.hosts.WithLabelValues(string(st))
	}
	for _, o := range runOutcomes {
		m.runs.WithLabelValues(o)
	}
	for _, k := range history.EventKinds {
		m.driftEvents.WithLabelValues(k)
	}
	for _, o := range []string{"ok", "failed"} {
		m.webhooks.WithLabelValues(o)
	}
	return m
}

// observe updates the metrics with a finished run.
func (m *metrics) observe(r *history.Run, took time.Duration) {
	m.runs.WithLabelValues(string(r.Status)).Inc()
	d := r.Duration
	if d == 0 {
		d = took
	}
	m.duration.Set(d.Seconds())
	m.lastRun.Set(float64(r.ID))
	if r.Status == history.StatusOK {
		m.success(r)
	}
}

// success sets the gauges that describe the latest successful run.
func (m *metrics) success(r *history.Run) {
	for _, st := range contract.Statuses {
		m.hosts.WithLabelValues(string(st)).Set(float64(r.Counts[st]))
	}
	m.scanErrors.Set(float64(r.Counts[contract.StatusUnreachable]))
	if r.FinishedAt != nil {
		m.lastSuccess.Set(float64(r.FinishedAt.UnixNano()) / 1e9)
	}
}

// restore sets the gauges from the history, so that a restart does not
// report an empty fleet until the first run.
func (m *metrics) restore(ctx context.Context, s *history.Store, sc history.Scope) {
	if runs, err := s.ListRuns(ctx, 1); err == nil && len(runs) == 1 && runs[0].FinishedAt != nil {
		m.duration.Set(runs[0].Duration.Seconds())
		m.lastRun.Set(float64(runs[0].ID))
	}
	if r, err := s.LatestIn(ctx, sc); err == nil {
		m.success(r)
	}
}

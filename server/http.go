package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/history"
	"github.com/factorgate/factorgate/report"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// contentTypes are the media types of the report formats; others are text.
var contentTypes = map[string]string{
	"html":     "text/html; charset=utf-8",
	"json":     "application/json",
	"jsonl":    "application/x-ndjson",
	"csv":      "text/csv; charset=utf-8",
	"junit":    "application/xml",
	"sarif":    "application/sarif+json",
	"markdown": "text/markdown; charset=utf-8",
}

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleIndex)
	mux.HandleFunc("GET /runs", s.handleRuns)
	mux.HandleFunc("GET /runs/{run}", s.handleRun)
	mux.HandleFunc("GET /runs/{run}/drift", s.handleDrift)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{s}}))
	mux.HandleFunc("GET /healthz", s.handleHealth)
	s.mux = mux
}

type slogPrinter struct{ s *Server }

func (p slogPrinter) Println(v ...any) { p.s.log.Error("metrics: " + fmt.Sprint(v...)) }

// httpError writes one line of text with code.
func httpError(w http.ResponseWriter, code int, format string, args ...any) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintf(w, format+"\n", args...)
}

// storeError answers a history error: 400 for what names no run, 404 for
// an unknown run, 409 for a sharded run not yet complete, else 500.
func (s *Server) storeError(w http.ResponseWriter, err error) {
	if errors.Is(err, history.ErrBadRun) {
		httpError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if errors.Is(err, history.ErrNotFound) {
		httpError(w, http.StatusNotFound, "%v", err)
		return
	}
	if errors.Is(err, errPartial) {
		httpError(w, http.StatusConflict, "%v", err)
		return
	}
	s.log.Error("history", "err", err)
	httpError(w, http.StatusInternalServerError, "the history cannot be read")
}

func (s *Server) handleRuns(w http.ResponseWriter, r *http.Request) {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			httpError(w, http.StatusBadRequest, "limit: want a number, 0 for all")
			return
		}
		limit = n
	}
	runs, err := s.cfg.Store.ListRuns(r.Context(), limit)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, runs)
}

// errPartial is why a sharded run not yet complete is not shown.
var errPartial = errors.New("it is shown once every shard is in")

// resolve finds the run a path names: a complete one.
func (s *Server) resolve(ctx context.Context, ref string) (*history.Run, error) {
	id, err := s.cfg.Store.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	return s.complete(ctx, id)
}

// complete returns run id, or an error wrapping errPartial while some of
// its shards are not in.
func (s *Server) complete(ctx context.Context, id history.RunID) (*history.Run, error) {
	run, err := s.cfg.Store.GetRun(ctx, id)
	if err != nil {
		return nil, err
	}
	if run.Partial() {
		return nil, fmt.Errorf("run %d has %s: %w", run.ID, run.StatusText(), errPartial)
	}
	return run, nil
}

func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	if _, err := report.New(format); err != nil {
		httpError(w, http.StatusBadRequest, "format: %v", err)
		return
	}
	run, err := s.resolve(r.Context(), r.PathValue("run"))
	if err != nil {
		s.storeError(w, err)
		return
	}
	s.writeReport(w, run, format)
}

func (s *Server) handleDrift(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	run, err := s.resolve(ctx, r.PathValue("run"))
	if err != nil {
		s.storeError(w, err)
		return
	}
	var fromID history.RunID
	if from := r.URL.Query().Get("from"); from != "" {
		fromID, err = s.cfg.Store.Resolve(ctx, from)
	} else {
		fromID, err = s.cfg.Store.PreviousIn(ctx, run.ID, history.ScopeOf(run))
	}
	if err != nil {
		s.storeError(w, err)
		return
	}
	prev, err := s.complete(ctx, fromID)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, history.Diff(prev, run))
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.log.Error("health: the history does not answer", "err", err)
		httpError(w, http.StatusServiceUnavailable, "the history does not answer")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// writeReport renders a run's report in format, whole, before the first
// byte goes out, so that a failure is still an error status.
func (s *Server) writeReport(w http.ResponseWriter, run *history.Run, format string) {
	rd, err := report.New(format)
	if err != nil {
		httpError(w, http.StatusBadRequest, "format: %v", err)
		return
	}
	title := fmt.Sprintf("run %d", run.ID)
	if run.Inventory != "" {
		title += " of " + run.Inventory
	}
	if run.Status != history.StatusOK {
		title += " (" + string(run.Status) + ")"
	}
	rep := run.Report
	h := report.Header{GeneratedAt: rep.GeneratedAt, Summary: rep.Summary, Total: len(rep.Decisions), NotScanned: rep.NotScanned, Title: title}
	var buf bytes.Buffer
	err = rd.Render(&buf, h, func(yield func(contract.Decision, error) bool) {
		for _, d := range rep.Decisions {
			if !yield(d, nil) {
				return
			}
		}
	})
	if err != nil {
		s.log.Error("render", "run", run.ID, "format", format, "err", err)
		httpError(w, http.StatusInternalServerError, "the report cannot be rendered")
		return
	}
	ct, ok := contentTypes[format]
	if !ok {
		ct = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Factorgate-Run", run.ID.String())
	w.Write(buf.Bytes())
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		httpError(w, http.StatusInternalServerError, "cannot encode: %v", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(append(b, '\n'))
}

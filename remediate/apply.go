package remediate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"time"

	"github.com/factorgate/factorgate/cloud"
)

// API is the part of the HSS API an apply uses; *cloud.Client implements it.
type API interface {
	ListTwoFactor(ctx context.Context) ([]cloud.TwoFactorHost, error)
	SetTwoFactor(ctx context.Context, cfg cloud.TwoFactorConfig) (string, error)
}

var _ API = (*cloud.Client)(nil)

// HostResult is what happened to one host of the plan.
type HostResult struct {
	Host      string  `json:"host"`
	HostID    string  `json:"host_id"`
	Outcome   Outcome `json:"outcome"`
	RequestID string  `json:"request_id,omitempty"`
	Error     string  `json:"error,omitempty"`
	Note      string  `json:"note,omitempty"`
}

// Result is the outcome of an apply, hosts sorted by name.
type Result struct {
	Action Action       `json:"action"`
	Hosts  []HostResult `json:"hosts"`
	// Stopped is set when the apply stopped after too many failures.
	Stopped bool `json:"stopped,omitempty"`
}

// Failed counts the hosts whose outcome is not ok.
func (r *Result) Failed() int {
	n := 0
	for _, h := range r.Hosts {
		if h.Outcome != ResultOK {
			n++
		}
	}
	return n
}

// ErrInterrupted wraps the error that stopped an apply midway (a cancelled
// context, a failed journal write, an [Options.AfterBatch] error): the
// journal holds what was done, and [Resume] finishes the job.
var ErrInterrupted = errors.New("apply interrupted")

// Apply makes the plan's changes: batches of SetTwoFactorLoginConfig calls,
// each journaled before and after, then verification against the 2FA host
// list. A batch the API refuses is retried host by host, so that one bad
// host does not hold back the rest. An error is returned only when the
// apply could not go on (credentials refused, the journal unwritable, an
// interruption); per-host failures are in the Result.
func Apply(ctx context.Context, api API, p *Plan, j *Journal, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	if err := j.write(Entry{Time: opts.Now().UTC(), Action: actionPlan, Plan: p}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInterrupted, err)
	}
	r := &run{api: api, plan: p, j: j, opts: opts, state: map[string]*hostState{}}
	for _, t := range p.Changes {
		r.state[t.HostID] = &hostState{target: t}
	}
	return r.do(ctx)
}

// Resume finishes an apply from its journal. Hosts the journal records as
// changed are not changed again; a host whose last entry is pending (the
// call may or may not have gone through) is first looked up in the 2FA host
// list, and changed only if it does not show the new setting; failed and
// unattempted hosts are tried again. Everything is then verified. New
// entries are appended to the same journal.
func Resume(ctx context.Context, api API, journalPath string, opts Options) (*Result, error) {
	entries, err := ReadJournal(journalPath)
	if err != nil {
		return nil, err
	}
	p := entries[0].Plan
	if opts.Action != "" && opts.Action != p.Action {
		return nil, fmt.Errorf("%s is the journal of %s, not %s: resume it with factorgate %s --resume", journalPath, p.Action, opts.Action, p.Action)
	}
	opts.Action = p.Action
	opts.AuthType, opts.TopicURN, opts.TopicDisplayName = p.AuthType, p.TopicURN, p.TopicDisplayName
	opts = opts.withDefaults()
	if err := terminate(journalPath); err != nil {
		return nil, err
	}
	j, err := appendJournal(journalPath)
	if err != nil {
		return nil, err
	}
	defer j.Close()
	r := &run{api: api, plan: p, j: j, opts: opts, state: map[string]*hostState{}}
	for _, t := range p.Changes {
		r.state[t.HostID] = &hostState{target: t}
	}
	for _, e := range entries[1:] {
		st := r.state[e.HostID]
		if st == nil {
			continue
		}
		switch e.Action {
		case string(p.Action):
			st.outcome, st.requestID, st.err = e.Outcome, e.RequestID, e.Error
		case actionVerify:
			st.verified = e.Outcome == OutcomeOK
		}
	}
	return r.do(ctx)
}

// terminate ends a journal cut short mid-line, so appended lines stay whole.
func terminate(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if len(b) == 0 || b[len(b)-1] == '\n' {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	_, err = f.Write([]byte("\n"))
	return err
}

type hostState struct {
	target    Target
	outcome   Step // "", pending, ok, failed (of the change)
	requestID string
	err       string
	note      string
	verified  bool
	attempted bool
	stopped   bool // not reached because the apply stopped
}

type run struct {
	api   API
	plan  *Plan
	j     *Journal
	opts  Options
	state map[string]*hostState
}

func (r *run) want() bool { return r.plan.Action == Enable }

// shows reports whether a 2FA list entry shows the plan's setting: for
// enable, 2FA on with the plan's auth type and, in sms mode, its topic. A
// host on with another auth type or topic is not in place: its codes would
// go elsewhere than the plan says, so it is changed.
func (r *run) shows(t cloud.TwoFactorHost) bool {
	if !r.want() {
		return !t.Enabled
	}
	return matches(t, r.plan.AuthType, r.plan.TopicURN)
}

func (r *run) entry(st *hostState, action string, outcome Step, rid, errMsg, note string) Entry {
	return Entry{Time: r.opts.Now().UTC(), Host: st.target.Host, HostID: st.target.HostID,
		Action: action, RequestID: rid, Outcome: outcome, Error: errMsg, Note: note}
}

func (r *run) do(ctx context.Context) (*Result, error) {
	defer r.opts.Progress.Finish()
	action := string(r.plan.Action)
	// Look once at the 2FA list: hosts already in the wanted state, and
	// pending hosts whose call did go through, need no call.
	var todo []*hostState
	needList := false
	for _, t := range r.plan.Changes {
		if st := r.state[t.HostID]; st.outcome != OutcomeOK {
			needList = true
		}
	}
	current := map[string]cloud.TwoFactorHost{}
	if needList {
		list, err := r.api.ListTwoFactor(ctx)
		if err != nil {
			return nil, r.stopErr(ctx, fmt.Errorf("read the 2FA host list: %w", err))
		}
		for _, t := range list {
			current[t.HostID] = t
		}
	}
	var already []Entry
	for _, t := range r.plan.Changes {
		st := r.state[t.HostID]
		if st.outcome == OutcomeOK {
			continue
		}
		if cur, ok := current[t.HostID]; ok && r.shows(cur) {
			note := "already in place"
			if st.outcome == OutcomePending {
				note = "the interrupted call went through"
			}
			st.outcome, st.note, st.err = OutcomeOK, note, ""
			already = append(already, r.entry(st, action, OutcomeOK, st.requestID, "", note))
			continue
		}
		if cur, ok := current[t.HostID]; ok && r.want() && cur.Enabled {
			st.note = "replaced 2FA that was on with " + describe(cur)
		}
		todo = append(todo, st)
	}
	if len(already) > 0 {
		if err := r.j.write(already...); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInterrupted, err)
		}
	}

	failures, sent := 0, 0
	batches := (len(todo) + r.opts.BatchSize - 1) / r.opts.BatchSize
	if len(todo) > 0 {
		r.opts.Progress.Changed(0, len(todo), 0)
	}
	for b := 0; b < batches; b++ {
		if r.opts.MaxFailures >= 0 && failures > r.opts.MaxFailures {
			for _, st := range todo[b*r.opts.BatchSize:] {
				st.stopped = true
			}
			slog.Warn(action+": stopped after too many failures", "failed", failures, "max_failures", r.opts.MaxFailures)
			break
		}
		batch := todo[b*r.opts.BatchSize : min((b+1)*r.opts.BatchSize, len(todo))]
		n, err := r.applyBatch(ctx, batch)
		failures += n
		sent += len(batch)
		if err != nil {
			return nil, err
		}
		slog.Debug(action+": batch done", "batch", b+1, "batches", batches, "hosts", len(batch), "failed", n)
		r.opts.Progress.Changed(sent, len(todo), failures)
		if r.opts.AfterBatch != nil {
			if err := r.opts.AfterBatch(b + 1); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrInterrupted, err)
			}
		}
	}
	if err := r.verify(ctx); err != nil {
		return nil, err
	}
	return r.result(), nil
}

// stopErr wraps an error that ends the apply.
func (r *run) stopErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ErrInterrupted, err)
	}
	return err
}

func (r *run) config(ids []string) cloud.TwoFactorConfig {
	// auth_type is sent on disable too (as code): the API documents it as
	// an enum, and an empty value may be refused.
	cfg := cloud.TwoFactorConfig{Enabled: r.want(), AuthType: cloud.AuthCode, HostIDs: ids}
	if r.want() {
		cfg.AuthType = r.plan.AuthType
		if r.plan.AuthType == cloud.AuthSMS {
			cfg.TopicURN, cfg.TopicDisplayName = r.plan.TopicURN, r.plan.TopicDisplayName
		}
	}
	return cfg
}

// call makes one SetTwoFactorLoginConfig call for the hosts, journaled
// before and after.
func (r *run) call(ctx context.Context, hosts []*hostState) (string, error) {
	action := string(r.plan.Action)
	ids := make([]string, len(hosts))
	pend := make([]Entry, len(hosts))
	for i, st := range hosts {
		ids[i] = st.target.HostID
		st.attempted = true
		st.outcome = OutcomePending
		pend[i] = r.entry(st, action, OutcomePending, "", "", "")
	}
	if err := r.j.write(pend...); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInterrupted, err)
	}
	rid, err := r.api.SetTwoFactor(ctx, r.config(ids))
	if err != nil && ctx.Err() != nil {
		// Interrupted: the call's fate is unknown, the entries stay pending.
		return rid, fmt.Errorf("%w: %w", ErrInterrupted, err)
	}
	if err == nil {
		done := make([]Entry, len(hosts))
		for i, st := range hosts {
			st.outcome, st.requestID, st.err = OutcomeOK, rid, ""
			done[i] = r.entry(st, action, OutcomeOK, rid, "", "")
		}
		if werr := r.j.write(done...); werr != nil {
			return rid, fmt.Errorf("%w: %w", ErrInterrupted, werr)
		}
	}
	return rid, err
}

// applyBatch changes one batch and returns how many hosts failed. A refused
// batch of several hosts is retried host by host.
func (r *run) applyBatch(ctx context.Context, batch []*hostState) (int, error) {
	_, err := r.call(ctx, batch)
	if err == nil {
		return 0, nil
	}
	if errors.Is(err, ErrInterrupted) {
		return 0, err
	}
	if cloud.Fatal(err) {
		r.fail(batch, "", err)
		return len(batch), err
	}
	if len(batch) == 1 {
		return 1, r.fail(batch, "", err)
	}
	slog.Info(string(r.plan.Action)+": batch refused: trying its hosts one by one", "hosts", len(batch), "error", err)
	failed := 0
	for _, st := range batch {
		_, err := r.call(ctx, []*hostState{st})
		switch {
		case err == nil:
		case errors.Is(err, ErrInterrupted):
			return failed, err
		case cloud.Fatal(err):
			r.fail([]*hostState{st}, "", err)
			return failed + 1, err
		default:
			failed++
			if werr := r.fail([]*hostState{st}, "", err); werr != nil {
				return failed, werr
			}
		}
	}
	return failed, nil
}

// fail records hosts as failed.
func (r *run) fail(hosts []*hostState, rid string, err error) error {
	var ae *cloud.APIError
	if errors.As(err, &ae) {
		rid = ae.RequestID
	}
	es := make([]Entry, len(hosts))
	for i, st := range hosts {
		st.outcome, st.requestID, st.err = OutcomeFailed, rid, err.Error()
		es[i] = r.entry(st, string(r.plan.Action), OutcomeFailed, rid, err.Error(), "")
	}
	if werr := r.j.write(es...); werr != nil {
		return fmt.Errorf("%w: %w", ErrInterrupted, werr)
	}
	return nil
}

// verify polls the 2FA host list until every changed host shows the new
// setting, or the verify timeout passes.
func (r *run) verify(ctx context.Context) error {
	var wait []*hostState
	for _, t := range r.plan.Changes {
		if st := r.state[t.HostID]; st.outcome == OutcomeOK && !st.verified {
			wait = append(wait, st)
		}
	}
	if len(wait) == 0 {
		return nil
	}
	start := time.Now()
	deadline := start.Add(r.opts.VerifyTimeout)
	word := map[bool]string{true: "on", false: "off"}[r.want()]
	for {
		list, err := r.api.ListTwoFactor(ctx)
		if err != nil {
			if ctx.Err() != nil || cloud.Fatal(err) {
				return r.stopErr(ctx, fmt.Errorf("verify: %w", err))
			}
			slog.Warn("verify: read the 2FA host list: trying again", "error", err)
		} else {
			cur := map[string]cloud.TwoFactorHost{}
			for _, t := range list {
				cur[t.HostID] = t
			}
			var left []*hostState
			var ok []Entry
			for _, st := range wait {
				if t, found := cur[st.target.HostID]; found && r.shows(t) {
					st.verified = true
					ok = append(ok, r.entry(st, actionVerify, OutcomeOK, "", "", ""))
				} else {
					left = append(left, st)
				}
			}
			if err := r.j.write(ok...); len(ok) > 0 && err != nil {
				return fmt.Errorf("%w: %w", ErrInterrupted, err)
			}
			total := 0
			for _, t := range r.plan.Changes {
				if r.state[t.HostID].verified {
					total++
				}
			}
			r.opts.Progress.Verified(total, total+len(left), time.Since(start))
			slog.Debug("verify", "shown", total, "total", total+len(left), "want", "2FA "+word)
			wait = left
			if len(wait) == 0 {
				return nil
			}
		}
		if !time.Now().Add(r.opts.PollInterval).Before(deadline) {
			break
		}
		t := time.NewTimer(r.opts.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: verify: %w", ErrInterrupted, ctx.Err())
		case <-t.C:
		}
	}
	msg := fmt.Sprintf("not verified: the 2FA host list does not show 2FA %s after %s", word, r.opts.VerifyTimeout)
	es := make([]Entry, len(wait))
	for i, st := range wait {
		st.note = msg
		es[i] = r.entry(st, actionVerify, OutcomeFailed, "", msg, "")
	}
	if err := r.j.write(es...); err != nil {
		return fmt.Errorf("%w: %w", ErrInterrupted, err)
	}
	return nil
}

func (r *run) result() *Result {
	res := &Result{Action: r.plan.Action, Hosts: []HostResult{}}
	for _, t := range r.plan.Changes {
		st := r.state[t.HostID]
		h := HostResult{Host: t.Host, HostID: t.HostID, RequestID: st.requestID, Note: st.note}
		switch {
		case st.outcome == OutcomeOK && st.verified:
			h.Outcome = ResultOK
		case st.outcome == OutcomeOK:
			h.Outcome, h.Error, h.Note = ResultUnverified, st.note, ""
		case st.outcome == OutcomeFailed:
			h.Outcome, h.Error = ResultFailed, st.err
		default:
			h.Outcome = ResultNotAttempted
			if st.stopped {
				res.Stopped = true
				h.Error = "not attempted: the apply stopped after too many failures"
			}
		}
		res.Hosts = append(res.Hosts, h)
	}
	sort.Slice(res.Hosts, func(i, j int) bool { return res.Hosts[i].Host < res.Hosts[j].Host })
	return res
}

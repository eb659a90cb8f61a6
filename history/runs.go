package history

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/factorgate/factorgate/contract"
)

// BeginRun records the start of a run and returns its ID. The run is
// "running" until [Store.FinishRun] or [Store.MarkInterrupted] closes it.
func (s *Store) BeginRun(ctx context.Context, m Meta) (RunID, error) {
	started := m.StartedAt
	if started.IsZero() {
		started = now()
	}
	var id int64
	var scheduled any
	if !m.ScheduledAt.IsZero() {
		scheduled = s.timeArg(m.ScheduledAt)
	}
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO runs (started_at, inventory, inventory_digest, source, status, scheduled_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`),
		s.timeArg(started), noNUL(m.Inventory), noNUL(m.InventoryDigest), noNUL(m.Source), string(StatusRunning), scheduled).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("history: begin run: %s", oneLine(err))
	}
	return RunID(id), nil
}

// AddHost records one judged host of a running run, with its facts (nil when
// there are none). Adding a host twice keeps the last.
func (s *Store) AddHost(ctx context.Context, id RunID, facts *contract.Facts, d contract.Decision) error {
	return s.addHosts(ctx, s.db, id, 0, []hostRow{{facts: facts, decision: d}})
}

// hostRow is one host to store.
type hostRow struct {
	facts    *contract.Facts
	decision contract.Decision
}

// execer is a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// hostBatch is how many hosts one INSERT carries.
const hostBatch = 100

// addHosts adds rows to run id as hosts of shard (0: the run is not sharded).
func (s *Store) addHosts(ctx context.Context, ex execer, id RunID, shard int, rows []hostRow) error {
	// One row per host: the last of a host given twice wins, as one
	// statement may not update the same row twice.
	last := make(map[string]int, len(rows))
	for i, r := range rows {
		if r.decision.Host == "" {
			return fmt.Errorf("history: run %d: a decision names no host", id)
		}
		last[r.decision.Host] = i
	}
	args := make([]any, 0, hostBatch*6)
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		stmt := `INSERT INTO run_hosts (run_id, host, status, facts, decision, shard) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", n), ", ") +
			` ON CONFLICT (run_id, host) DO UPDATE SET status = excluded.status, facts = excluded.facts, decision = excluded.decision, shard = excluded.shard`
		if _, err := ex.ExecContext(ctx, s.q(stmt), args...); err != nil {
			return fmt.Errorf("history: run %d: add hosts: %s", id, oneLine(err))
		}
		args, n = args[:0], 0
		return nil
	}
	for i, r := range rows {
		if last[r.decision.Host] != i {
			continue
		}
		dj, err := json.Marshal(r.decision)
		if err != nil {
			return fmt.Errorf("history: run %d: host %s: %w", id, r.decision.Host, err)
		}
		var fj any // NULL unless there are facts
		if r.facts != nil {
			b, err := json.Marshal(r.facts)
			if err != nil {
				return fmt.Errorf("history: run %d: host %s: %w", id, r.decision.Host, err)
			}
			fj = string(noNULJSON(b))
		}
		args = append(args, int64(id), noNUL(r.decision.Host), noNUL(string(r.decision.Status)), fj, string(noNULJSON(dj)), shard)
		if n++; n == hostBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// FinishRun closes a running run with what it produced: the hosts not yet
// added, the counts by status of all its hosts, and its outcome (see
// [Result.Err]). Give it a context that is not the one that was canceled to
// stop the run, or the record cannot be written.
func (s *Store) FinishRun(ctx context.Context, id RunID, r Result) error {
	status := StatusOK
	var msg string
	if r.Err != nil {
		status = StatusFailed
		if errors.Is(r.Err, context.Canceled) {
			status = StatusInterrupted
		}
		msg = strings.Join(strings.Fields(r.Err.Error()), " ")
	}
	return s.finish(ctx, id, status, msg, r)
}

// MarkInterrupted closes a running run as interrupted, keeping the hosts
// already added, with reason as its error.
func (s *Store) MarkInterrupted(ctx context.Context, id RunID, reason string) error {
	return s.finish(ctx, id, StatusInterrupted, reason, Result{})
}

// InterruptStale closes every run of source (any source when empty) still
// marked running as interrupted, and returns how many there were. Call it
// when the one process that records runs of source starts: a run of its
// left running was cut short by a crash.
func (s *Store) InterruptStale(ctx context.Context, source string) (int, error) {
	return s.interruptStale(ctx, Scope{Source: source})
}

func (s *Store) interruptStale(ctx context.Context, sc Scope) (int, error) {
	// A sharded run is running until its last shard comes, from any
	// process: no one process's crash leaves it so.
	query, args := `SELECT id FROM runs WHERE status = ? AND shards = 0`, []any{string(StatusRunning)}
	if sc.Source != "" {
		query, args = query+` AND source = ?`, append(args, sc.Source)
	}
	if sc.Inventory != "" {
		query, args = query+` AND inventory = ?`, append(args, sc.Inventory)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return 0, fmt.Errorf("history: %s", oneLine(err))
	}
	var ids []RunID
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, RunID(id))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := s.MarkInterrupted(ctx, id, "factorgate stopped before the run finished"); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// Record stores a run that is already complete and returns its ID.
func (s *Store) Record(ctx context.Context, m Meta, r Result) (RunID, error) {
	id, err := s.BeginRun(ctx, m)
	if err != nil {
		return 0, err
	}
	return id, s.FinishRun(ctx, id, r)
}

func (s *Store) finish(ctx context.Context, id RunID, status Status, msg string, r Result) error {
	facts := make(map[string]*contract.Facts, len(r.Facts))
	for i := range r.Facts {
		facts[r.Facts[i].Host.Name] = &r.Facts[i]
	}
	rows := make([]hostRow, len(r.Decisions))
	for i, d := range r.Decisions {
		rows[i] = hostRow{facts: facts[d.Host], decision: d}
	}
	var notScanned any
	if len(r.NotScanned) > 0 {
		b, err := json.Marshal(r.NotScanned)
		if err != nil {
			return fmt.Errorf("history: run %d: %w", id, err)
		}
		notScanned = string(noNULJSON(b))
	}
	finished := r.FinishedAt
	if finished.IsZero() {
		finished = now()
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("history: run %d: %s", id, oneLine(err))
	}
	defer tx.Rollback()
	var started nullTime
	var cur string
	var shards int
	err = tx.QueryRowContext(ctx, s.q(`SELECT started_at, status, shards FROM runs WHERE id = ?`), int64(id)).Scan(&started, &cur, &shards)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("history: run %d: %w", id, ErrNotFound)
	case err != nil:
		return fmt.Errorf("history: run %d: %s", id, oneLine(err))
	case shards > 0:
		return fmt.Errorf("history: run %d is made of %d shards: each records itself (RecordShard)", id, shards)
	case Status(cur) != StatusRunning:
		return fmt.Errorf("history: run %d already finished (%s)", id, cur)
	}
	if err := s.addHosts(ctx, tx, id, 0, rows); err != nil {
		return err
	}
	counts, total, err := s.countHosts(ctx, tx, id)
	if err != nil {
		return err
	}
	dur := finished.Sub(started.t)
	if dur < 0 {
		dur = 0
	}
	set := []string{"finished_at = ?", "status = ?", "error = ?", "duration_ms = ?", "hosts = ?", "not_scanned = ?"}
	args := []any{s.timeArg(finished), string(status), noNUL(msg), dur.Milliseconds(), total, notScanned}
	if r.Inventory != "" {
		set, args = append(set, "inventory = ?"), append(args, noNUL(r.Inventory))
	}
	if r.InventoryDigest != "" {
		set, args = append(set, "inventory_digest = ?"), append(args, noNUL(r.InventoryDigest))
	}
	for _, st := range contract.Statuses {
		set, args = append(set, statusColumns[st]+" = ?"), append(args, counts[st])
	}
	args = append(args, int64(id))
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE runs SET `+strings.Join(set, ", ")+` WHERE id = ?`), args...); err != nil {
		return fmt.Errorf("history: run %d: %s", id, oneLine(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("history: run %d: %s", id, oneLine(err))
	}
	return nil
}

// countHosts counts the hosts of run id by status.
func (s *Store) countHosts(ctx context.Context, tx *sql.Tx, id RunID) (map[contract.Status]int, int, error) {
	counts := map[contract.Status]int{}
	total := 0
	rows, err := tx.QueryContext(ctx, s.q(`SELECT status, COUNT(*) FROM run_hosts WHERE run_id = ? GROUP BY status`), int64(id))
	if err != nil {
		return nil, 0, fmt.Errorf("history: run %d: %s", id, oneLine(err))
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, 0, fmt.Errorf("history: run %d: %s", id, oneLine(err))
		}
		counts[contract.Status(st)] = n
		total += n
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("history: run %d: %s", id, oneLine(err))
	}
	return counts, total, nil
}

// jsonText is v as JSON text fit for either dialect.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(noNULJSON(b)), nil
}

const runColumns = `id, started_at, finished_at, inventory, inventory_digest, source, status, error, duration_ms,
	hosts, eligible, enabled, ineligible, enabled_ineligible, unreachable, not_scanned, audit_id, shards, shards_done, scheduled_at`

type rowScanner interface{ Scan(dest ...any) error }

// scanRun reads one row of runColumns; notScanned receives the raw JSON.
func scanRun(sc rowScanner, notScanned *sql.NullString) (*Run, error) {
	var r Run
	var id, durMS int64
	var started, finished, scheduled nullTime
	var status string
	c := make([]int, len(contract.Statuses))
	err := sc.Scan(&id, &started, &finished, &r.Inventory, &r.InventoryDigest, &r.Source, &status, &r.Error, &durMS,
		&r.Hosts, &c[0], &c[1], &c[2], &c[3], &c[4], notScanned, &r.AuditID, &r.Shards, &r.ShardsDone, &scheduled)
	if err != nil {
		return nil, err
	}
	if scheduled.valid {
		t := scheduled.t
		r.ScheduledAt = &t
	}
	r.ID, r.Status, r.StartedAt = RunID(id), Status(status), started.t
	if finished.valid {
		t := finished.t
		r.FinishedAt = &t
	}
	r.Duration = time.Duration(durMS) * time.Millisecond
	// The count columns are in the order of runColumns, which is not the
	// order of contract.Statuses.
	r.Counts = map[contract.Status]int{
		contract.StatusEligible: c[0], contract.StatusEnabled: c[1], contract.StatusIneligible: c[2],
		contract.StatusEnabledIneligible: c[3], contract.StatusUnreachable: c[4],
	}
	return &r, nil
}

// ListRuns returns up to limit runs, newest first, without their hosts.
// A limit of zero or less lists every run.
func (s *Store) ListRuns(ctx context.Context, limit int) ([]Run, error) {
	query := `SELECT ` + runColumns + ` FROM runs ORDER BY id DESC`
	var args []any
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("history: list runs: %s", oneLine(err))
	}
	defer rows.Close()
	runs := []Run{}
	for rows.Next() {
		var ns sql.NullString
		r, err := scanRun(rows, &ns)
		if err != nil {
			return nil, fmt.Errorf("history: list runs: %s", oneLine(err))
		}
		runs = append(runs, *r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: list runs: %s", oneLine(err))
	}
	return runs, nil
}

// GetRun returns run id with its report and facts, or an error wrapping
// [ErrNotFound].
func (s *Store) GetRun(ctx context.Context, id RunID) (*Run, error) {
	var ns sql.NullString
	r, err := scanRun(s.db.QueryRowContext(ctx, s.q(`SELECT `+runColumns+` FROM runs WHERE id = ?`), int64(id)), &ns)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("history: run %d: %w", id, ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("history: run %d: %s", id, oneLine(err))
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT host, facts, decision FROM run_hosts WHERE run_id = ? ORDER BY host`), int64(id))
	if err != nil {
		return nil, fmt.Errorf("history: run %d: %s", id, oneLine(err))
	}
	defer rows.Close()
	decisions := []contract.Decision{}
	r.Facts = []contract.Facts{}
	for rows.Next() {
		var host string
		var fj sql.NullString
		var dj string
		if err := rows.Scan(&host, &fj, &dj); err != nil {
			return nil, fmt.Errorf("history: run %d: %s", id, oneLine(err))
		}
		var d contract.Decision
		if err := json.Unmarshal([]byte(dj), &d); err != nil {
			return nil, fmt.Errorf("history: run %d: host %s: stored decision: %w", id, host, err)
		}
		decisions = append(decisions, d)
		if fj.Valid {
			var f contract.Facts
			if err := json.Unmarshal([]byte(fj.String), &f); err != nil {
				return nil, fmt.Errorf("history: run %d: host %s: stored facts: %w", id, host, err)
			}
			r.Facts = append(r.Facts, f)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: run %d: %s", id, oneLine(err))
	}
	// The database's collation may not be byte order; reports are.
	sort.SliceStable(decisions, func(i, j int) bool { return decisions[i].Host < decisions[j].Host })
	sort.SliceStable(r.Facts, func(i, j int) bool { return r.Facts[i].Host.Name < r.Facts[j].Host.Name })
	at := r.StartedAt
	if r.FinishedAt != nil {
		at = *r.FinishedAt
	}
	r.Report = contract.NewReport(at, decisions)
	if ns.Valid && ns.String != "" {
		if err := json.Unmarshal([]byte(ns.String), &r.Report.NotScanned); err != nil {
			return nil, fmt.Errorf("history: run %d: stored not_scanned: %w", id, err)
		}
	}
	return r, nil
}

// Scope selects the runs [Store.LatestIn] and [Store.PreviousIn] consider:
// those recorded by Source from the inventory Inventory. An empty field
// matches any value.
type Scope struct {
	Source    string
	Inventory string
}

// ScopeOf is the scope of run r: its source and its inventory.
func ScopeOf(r *Run) Scope { return Scope{Source: r.Source, Inventory: r.Inventory} }

// Latest returns the newest run that finished ok, of any source and
// inventory, with its report, or an error wrapping [ErrNotFound]. Runs are
// ordered by the time they started, then by ID: an old report imported
// later does not become the latest.
func (s *Store) Latest(ctx context.Context) (*Run, error) {
	return s.LatestIn(ctx, Scope{})
}

// LatestIn is [Store.Latest] among the runs of sc.
func (s *Store) LatestIn(ctx context.Context, sc Scope) (*Run, error) {
	id, err := s.newestOK(ctx, 0, sc)
	if err != nil {
		return nil, err
	}
	return s.GetRun(ctx, id)
}

// Previous returns the ID of the newest run that finished ok and started
// before run id (ordered by start time, then ID), of any source and
// inventory, or an error wrapping [ErrNotFound].
func (s *Store) Previous(ctx context.Context, id RunID) (RunID, error) {
	return s.newestOK(ctx, id, Scope{})
}

// PreviousIn is [Store.Previous] among the runs of sc. The baseline of a
// run's drift is PreviousIn(ctx, run.ID, ScopeOf(run)): a report imported
// or recorded by another command, or of another inventory, is not one.
func (s *Store) PreviousIn(ctx context.Context, id RunID, sc Scope) (RunID, error) {
	return s.newestOK(ctx, id, sc)
}

// newestOK is the newest ok run of sc, by start time then ID, that comes
// before run before in that order (0: any).
func (s *Store) newestOK(ctx context.Context, before RunID, sc Scope) (RunID, error) {
	query := `SELECT id FROM runs WHERE status = ?`
	args := []any{string(StatusOK)}
	if before > 0 {
		query += ` AND (started_at < (SELECT started_at FROM runs WHERE id = ?)
			OR (started_at = (SELECT started_at FROM runs WHERE id = ?) AND id < ?))`
		args = append(args, int64(before), int64(before), int64(before))
	}
	if sc.Source != "" {
		query, args = query+` AND source = ?`, append(args, sc.Source)
	}
	if sc.Inventory != "" {
		query, args = query+` AND inventory = ?`, append(args, sc.Inventory)
	}
	query += ` ORDER BY started_at DESC, id DESC LIMIT 1`
	var id int64
	err := s.db.QueryRowContext(ctx, s.q(query), args...).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if before > 0 {
			return 0, fmt.Errorf("history: no finished run before run %d: %w", before, ErrNotFound)
		}
		return 0, fmt.Errorf("history: no finished run: %w", ErrNotFound)
	case err != nil:
		return 0, fmt.Errorf("history: %s", oneLine(err))
	}
	return RunID(id), nil
}

// Resolve turns what a user typed into a run ID: a run number ("12" or
// "#12"), "latest" (the run that finished ok and started last) or
// "previous" (the one that started before it), of any source. The run must exist; otherwise the error wraps [ErrNotFound].
func (s *Store) Resolve(ctx context.Context, ref string) (RunID, error) {
	switch strings.ToLower(strings.TrimSpace(ref)) {
	case "latest":
		return s.newestOK(ctx, 0, Scope{})
	case "previous":
		latest, err := s.newestOK(ctx, 0, Scope{})
		if err != nil {
			return 0, err
		}
		return s.newestOK(ctx, latest, Scope{})
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(ref), "#"), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("history: bad run %q (%w)", ref, ErrBadRun)
	}
	var one int
	err = s.db.QueryRowContext(ctx, s.q(`SELECT 1 FROM runs WHERE id = ?`), n).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("history: run %d: %w", n, ErrNotFound)
	case err != nil:
		return 0, fmt.Errorf("history: %s", oneLine(err))
	}
	return RunID(n), nil
}

// Prune deletes the runs that started before cutoff, with their hosts, and
// returns how many it deleted. It keeps runs still running (but not a
// sharded run whose missing shards never came), the newest run
// that finished ok, and the newest that finished ok in each scope of keep:
// those drift and the metrics of serve start from.
func (s *Store) Prune(ctx context.Context, cutoff time.Time, keep ...Scope) (int, error) {
	// A sharded run still waiting for shards after the cutoff was given up:
	// its missing shards never came.
	query := `DELETE FROM runs WHERE started_at < ? AND (status <> ? OR shards > 0)`
	args := []any{s.timeArg(cutoff), string(StatusRunning)}
	for _, sc := range append([]Scope{{}}, keep...) {
		id, err := s.newestOK(ctx, 0, sc)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		query, args = query+` AND id <> ?`, append(args, int64(id))
	}
	res, err := s.db.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return 0, fmt.Errorf("history: prune: %s", oneLine(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("history: prune: %s", oneLine(err))
	}
	return int(n), nil
}

// The history stores no NUL character: PostgreSQL refuses it in text and in
// JSONB. Both backends store U+FFFD in its place, so that a run reads back
// the same from either.

// noNUL is str with each NUL replaced by U+FFFD.
func noNUL(str string) string {
	if !strings.Contains(str, "\x00") {
		return str
	}
	return strings.ReplaceAll(str, "\x00", "\uFFFD")
}

// nulEscape is how encoding/json writes a NUL in a string.
var nulEscape = []byte(`\u0000`)

// noNULJSON is the JSON text b with each escaped NUL in its strings written
// as U+FFFD instead. An escaped backslash followed by "u0000" is text, and
// is kept.
func noNULJSON(b []byte) []byte {
	if !bytes.Contains(b, nulEscape) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 == len(b) {
			out = append(out, b[i])
			continue
		}
		if bytes.HasPrefix(b[i:], nulEscape) {
			out = append(out, `\ufffd`...)
			i += len(nulEscape) - 1
			continue
		}
		out = append(out, b[i], b[i+1]) // an escape: its next byte is not one
		i++
	}
	return out
}

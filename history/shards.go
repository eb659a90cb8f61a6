package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/scanner/inventory"
)

// Shard names one shard of a sharded audit: shard K of N of the audit
// AuditID. Every shard of one audit gives the same AuditID and N.
type Shard struct {
	// AuditID names the audit, the same for all its shards (a Job's name,
	// a pipeline's run ID).
	AuditID string
	// K is the shard, 1 to N.
	K int
	// N is how many shards the audit has.
	N int
}

// String returns the shard as users write it: "K/N".
func (sh Shard) String() string { return fmt.Sprintf("%d/%d", sh.K, sh.N) }

// maxShards bounds N, as the inventory's selection of a shard does.
const maxShards = inventory.MaxShards

// auditIDRE is what an audit ID may be: a Job's or a pipeline's name.
var auditIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ErrAuditID is returned (wrapped) by [ValidAuditID] for an ID that is not
// 1 to 128 letters, digits, '.', '_' or '-', beginning with a letter or digit.
var ErrAuditID = errors.New("want 1 to 128 letters, digits, '.', '_' or '-', beginning with a letter or digit")

// ValidAuditID says whether id can name the run the shards of an audit
// record into.
func ValidAuditID(id string) error {
	if !auditIDRE.MatchString(id) {
		return ErrAuditID
	}
	return nil
}

// ErrShardMismatch is returned by [Store.RecordShard] when a shard does not
// fit the run its audit ID names: another N, another inventory, or a host
// that another shard of the run already recorded.
var ErrShardMismatch = errors.New("shard does not fit its run")

// check says what is wrong with sh.
func (sh Shard) check() error {
	switch {
	case strings.TrimSpace(sh.AuditID) == "":
		return errors.New("a shard needs an audit ID")
	case ValidAuditID(sh.AuditID) != nil:
		return fmt.Errorf("audit ID: %w", ErrAuditID)
	case sh.N < 1 || sh.N > maxShards:
		return fmt.Errorf("shard %s: N must be 1 to %d", sh, maxShards)
	case sh.K < 1 || sh.K > sh.N:
		return fmt.Errorf("shard %s: K must be 1 to N", sh)
	}
	return nil
}

// RecordShard records shard sh of an audit, with what it produced, into
// the one run of sh.AuditID, and returns that run's ID. The first shard
// recorded creates the run; it stays "running" (its [Run.StatusText] says
// "K of N shards") until all N shards are in, and is then closed: its
// counts are of every host of every shard, it started when its first shard
// started (m.StartedAt) and finished when its last finished, and its status
// is ok when every shard was, else failed (or interrupted, if no shard
// failed), with the shards' errors. Until then [Store.Latest],
// [Store.Previous] and [Store.Resolve] of latest or previous do not see it.
//
// Each host belongs to one shard: a host that another shard of the run
// recorded is an error wrapping [ErrShardMismatch], as is a shard whose N,
// source or inventory differ from the run's. Recording a shard again
// replaces what it recorded before, so a retried shard is counted once.
// Shards may be recorded at the same time, from several processes.
func (s *Store) RecordShard(ctx context.Context, m Meta, sh Shard, r Result) (RunID, error) {
	if err := sh.check(); err != nil {
		return 0, fmt.Errorf("history: %w", err)
	}
	started := m.StartedAt
	if started.IsZero() {
		started = now()
	}
	finished := r.FinishedAt
	if finished.IsZero() {
		finished = now()
	}
	inventory, digest := m.Inventory, m.InventoryDigest
	if r.Inventory != "" {
		inventory = r.Inventory
	}
	if r.InventoryDigest != "" {
		digest = r.InventoryDigest
	}
	status, msg := StatusOK, ""
	if r.Err != nil {
		status = StatusFailed
		if errors.Is(r.Err, context.Canceled) {
			status = StatusInterrupted
		}
		msg = strings.Join(strings.Fields(r.Err.Error()), " ")
	}
	facts := make(map[string]*contract.Facts, len(r.Facts))
	for i := range r.Facts {
		facts[r.Facts[i].Host.Name] = &r.Facts[i]
	}
	rows := make([]hostRow, len(r.Decisions))
	for i, d := range r.Decisions {
		rows[i] = hostRow{facts: facts[d.Host], decision: d}
	}
	fail := func(err error) (RunID, error) {
		return 0, fmt.Errorf("history: audit %q shard %s: %w", sh.AuditID, sh, err)
	}
	failDB := func(err error) (RunID, error) {
		return 0, fmt.Errorf("history: audit %q shard %s: %s", sh.AuditID, sh, oneLine(err))
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return failDB(err)
	}
	defer tx.Rollback()
	// The run of the audit, made by the first shard to come. A shard
	// that comes at the same time waits for that one's commit and finds it.
	_, err = tx.ExecContext(ctx, s.q(`INSERT INTO runs (started_at, inventory, inventory_digest, source, status, audit_id, shards)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (audit_id) WHERE audit_id <> '' DO NOTHING`),
		s.timeArg(started), noNUL(inventory), noNUL(digest), noNUL(m.Source), string(StatusRunning), noNUL(sh.AuditID), sh.N)
	if err != nil {
		return failDB(err)
	}
	lock := ""
	if s.dialect == DialectPostgres {
		lock = " FOR UPDATE" // one shard of a run at a time
	}
	var id int64
	var n int
	var runInv, runDigest, runSource string
	err = tx.QueryRowContext(ctx, s.q(`SELECT id, shards, inventory, inventory_digest, source FROM runs WHERE audit_id = ?`+lock), noNUL(sh.AuditID)).
		Scan(&id, &n, &runInv, &runDigest, &runSource)
	if err != nil {
		return failDB(err)
	}
	switch {
	case n != sh.N:
		return fail(fmt.Errorf("run %d has %d shards, not %d: %w", id, n, sh.N, ErrShardMismatch))
	case runSource != noNUL(m.Source):
		return fail(fmt.Errorf("run %d was recorded by %q, not %q: %w", id, runSource, m.Source, ErrShardMismatch))
	case inventory != "" && runInv != "" && runInv != noNUL(inventory):
		return fail(fmt.Errorf("run %d audits %q, not %q: %w", id, runInv, inventory, ErrShardMismatch))
	case digest != "" && runDigest != "" && runDigest != noNUL(digest):
		// Shards of two versions of one inventory would split the fleet
		// two ways: hosts could be lost or counted twice.
		return fail(fmt.Errorf("run %d audits another version of %q (its digest differs): %w", id, runInv, ErrShardMismatch))
	}
	rid := RunID(id)

	// Replace what this shard recorded before.
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM run_hosts WHERE run_id = ? AND shard = ?`), id, sh.K); err != nil {
		return failDB(err)
	}
	// Every host once: none of this shard may be another's.
	if err := s.checkHostsFree(ctx, tx, rid, sh, rows); err != nil {
		return 0, err
	}
	if err := s.addHosts(ctx, tx, rid, sh.K, rows); err != nil {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, s.q(`INSERT INTO run_shards (run_id, shard, started_at, finished_at, status, error, hosts)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (run_id, shard) DO UPDATE SET started_at = excluded.started_at, finished_at = excluded.finished_at,
			status = excluded.status, error = excluded.error, hosts = excluded.hosts`),
		id, sh.K, s.timeArg(started), s.timeArg(finished), string(status), noNUL(msg), len(r.Decisions))
	if err != nil {
		return failDB(err)
	}
	if err := s.closeShardedRun(ctx, tx, rid, sh.N, inventory, digest, r.NotScanned); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return failDB(err)
	}
	return rid, nil
}

// checkHostsFree fails when a host of rows is in another shard of run id.
// It asks for those hosts only, a batch at a time.
func (s *Store) checkHostsFree(ctx context.Context, tx *sql.Tx, id RunID, sh Shard, rows []hostRow) error {
	hosts := make([]any, 0, len(rows))
	for _, r := range rows {
		hosts = append(hosts, noNUL(r.decision.Host))
	}
	for len(hosts) > 0 {
		batch := hosts[:min(len(hosts), hostBatch*5)]
		hosts = hosts[len(batch):]
		query := `SELECT host, shard FROM run_hosts WHERE run_id = ? AND shard <> ? AND host IN (` +
			strings.TrimSuffix(strings.Repeat("?, ", len(batch)), ", ") + `) ORDER BY host LIMIT 1`
		var host string
		var k int
		err := tx.QueryRowContext(ctx, s.q(query), append([]any{int64(id), sh.K}, batch...)...).Scan(&host, &k)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return fmt.Errorf("history: run %d: %s", id, oneLine(err))
		}
		return fmt.Errorf("history: audit %q shard %s: host %q is in shard %d/%d too: %w", sh.AuditID, sh, host, k, sh.N, ErrShardMismatch)
	}
	return nil
}

// closeShardedRun updates run id from its shards: how many are in and,
// once all n are, its counts, times and outcome.
func (s *Store) closeShardedRun(ctx context.Context, tx *sql.Tx, id RunID, n int, inventory, digest string, notScanned []contract.CloudHost) error {
	dbErr := func(err error) error { return fmt.Errorf("history: run %d: %s", id, oneLine(err)) }
	rows, err := tx.QueryContext(ctx, s.q(`SELECT shard, started_at, finished_at, status, error FROM run_shards WHERE run_id = ? ORDER BY shard`), int64(id))
	if err != nil {
		return dbErr(err)
	}
	var first, last time.Time
	done := 0
	status := StatusOK
	var errs []string
	for rows.Next() {
		var k int
		var st, fin nullTime
		var stat, msg string
		if err := rows.Scan(&k, &st, &fin, &stat, &msg); err != nil {
			rows.Close()
			return dbErr(err)
		}
		done++
		if first.IsZero() || st.t.Before(first) {
			first = st.t
		}
		if fin.t.After(last) {
			last = fin.t
		}
		switch Status(stat) {
		case StatusFailed:
			status = StatusFailed
		case StatusInterrupted:
			if status == StatusOK {
				status = StatusInterrupted
			}
		}
		if msg != "" {
			errs = append(errs, fmt.Sprintf("shard %d/%d: %s", k, n, msg))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return dbErr(err)
	}
	set := []string{"shards_done = ?", "started_at = ?"}
	args := []any{done, s.timeArg(first)}
	if inventory != "" {
		set, args = append(set, "inventory = ?"), append(args, noNUL(inventory))
	}
	if digest != "" {
		set, args = append(set, "inventory_digest = ?"), append(args, noNUL(digest))
	}
	if len(notScanned) > 0 {
		// Every shard sees the cloud's whole list; any one will do.
		b, err := jsonText(notScanned)
		if err != nil {
			return fmt.Errorf("history: run %d: %w", id, err)
		}
		set, args = append(set, "not_scanned = ?"), append(args, b)
	}
	if done < n {
		set, args = append(set, "status = ?", "finished_at = ?"), append(args, string(StatusRunning), nil)
	} else {
		counts, total, err := s.countHosts(ctx, tx, id)
		if err != nil {
			return err
		}
		dur := max(last.Sub(first), 0)
		set = append(set, "status = ?", "finished_at = ?", "error = ?", "duration_ms = ?", "hosts = ?")
		args = append(args, string(status), s.timeArg(last), noNUL(strings.Join(errs, "; ")), dur.Milliseconds(), total)
		for _, st := range contract.Statuses {
			set, args = append(set, statusColumns[st]+" = ?"), append(args, counts[st])
		}
	}
	args = append(args, int64(id))
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE runs SET `+strings.Join(set, ", ")+` WHERE id = ?`), args...); err != nil {
		return dbErr(err)
	}
	return nil
}

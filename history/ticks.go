package history

import (
	"context"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"time"
)

// Replicas of serve on one history share its runs; these let exactly one of
// them run each tick of their schedule, and never two audits at once.

// tickRetention is how long a claimed tick is remembered: a replica whose
// clock lags more than this behind the others could run a tick again.
const tickRetention = time.Hour

// ClaimTick claims the tick at time tick of the schedule named key, and
// reports whether the caller got it: false when another caller (a replica
// on the same history) claimed it first. Claims older than an hour before
// tick are forgotten.
func (s *Store) ClaimTick(ctx context.Context, key string, tick time.Time) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("history: claim tick: %s", oneLine(err))
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.q(`INSERT INTO schedule_ticks (schedule_key, tick_at, claimed_at) VALUES (?, ?, ?)
		ON CONFLICT (schedule_key, tick_at) DO NOTHING`), noNUL(key), s.timeArg(tick), s.timeArg(now()))
	if err != nil {
		return false, fmt.Errorf("history: claim tick: %s", oneLine(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("history: claim tick: %s", oneLine(err))
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM schedule_ticks WHERE schedule_key = ? AND tick_at < ?`),
		noNUL(key), s.timeArg(tick.Add(-tickRetention))); err != nil {
		return false, fmt.Errorf("history: claim tick: %s", oneLine(err))
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("history: claim tick: %s", oneLine(err))
	}
	return n == 1, nil
}

// LockKey is the PostgreSQL advisory lock key of name: the first 8 bytes of
// its SHA-256.
func LockKey(name string) int64 {
	sum := sha256.Sum256([]byte("factorgate\x00" + name))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// TryLock takes the lock named name if no one holds it, and reports whether
// it did; release gives it back. On PostgreSQL it is the session advisory
// lock [LockKey](name) (pg_try_advisory_lock), held on a connection of its
// own: it is released as well when the process dies. An SQLite history is
// one machine's: TryLock always succeeds there, and replicas need
// PostgreSQL.
func (s *Store) TryLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	if s.dialect != DialectPostgres {
		return func() {}, true, nil
	}
	key := LockKey(name)
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("history: lock: %s", oneLine(err))
	}
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		conn.Close()
		return nil, false, fmt.Errorf("history: lock: %s", oneLine(err))
	}
	if !ok {
		conn.Close()
		return nil, false, nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var released bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1)`, key).Scan(&released); err != nil || !released {
			// The session ends with the connection: drop it rather
			// than hand a pool a connection that may hold the lock.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, true, nil
}

// InterruptStaleIn is [Store.InterruptStale] for the runs of sc only (its
// source and inventory, when set).
func (s *Store) InterruptStaleIn(ctx context.Context, sc Scope) (int, error) {
	return s.interruptStale(ctx, sc)
}

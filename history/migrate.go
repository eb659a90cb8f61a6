package history

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// The schema is versioned: each dialect has numbered SQL files under
// migrations/DIALECT, NNNN_name.sql, applied in order, each in a transaction
// that also records it in schema_migrations. A migration, once released, is
// never edited: change the schema by adding the next number for every dialect.
//
//go:embed migrations
var migrationFS embed.FS

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the migrations of dialect in order.
func migrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration %s/%s: want NNNN_name.sql", dir, name)
		}
		body, err := fs.ReadFile(migrationFS, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: rest, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations %s: version %d missing", dir, i+1)
		}
	}
	return ms, nil
}

// migrationLock is the PostgreSQL advisory lock key that serialises
// migrations of processes opening the same database at once.
const migrationLock = 0x66676174 // "fgat"

// migrate brings the schema up to date.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations(s.dialect)
	if err != nil {
		return err
	}
	// Up to date already (the usual case): no write lock needed.
	var have sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&have); err == nil && have.Valid {
		switch {
		case int(have.Int64) == len(ms):
			return nil
		case int(have.Int64) > len(ms):
			return fmt.Errorf("schema version %d is newer than this factorgate knows (%d): upgrade factorgate", have.Int64, len(ms))
		}
	}
	bootstrap := `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at TEXT NOT NULL)`
	if s.dialect == DialectPostgres {
		bootstrap = strings.Replace(bootstrap, "applied_at TEXT", "applied_at TIMESTAMPTZ", 1)
	}
	if err := s.inLockedTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, bootstrap)
		return err
	}); err != nil {
		return fmt.Errorf("create schema_migrations: %s", oneLine(err))
	}
	for _, m := range ms {
		err := s.inLockedTx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				m.version, m.name, s.timeArg(now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %04d_%s: %s", m.version, m.name, oneLine(err))
		}
	}
	var newest sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("read schema version: %s", oneLine(err))
	}
	if int(newest.Int64) > len(ms) {
		return fmt.Errorf("schema version %d is newer than this factorgate knows (%d): upgrade factorgate", newest.Int64, len(ms))
	}
	return nil
}

// SchemaVersion returns the newest migration applied to the store.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	return int(v.Int64), err
}

// inLockedTx runs fn in a transaction that holds the store's write lock:
// SQLite's, taken at BEGIN IMMEDIATE, or PostgreSQL's migration advisory lock.
func (s *Store) inLockedTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.dialect == DialectPostgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return err
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver, no cgo
)

// Dialects a [Store] speaks.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// sqliteBusyTimeout is how long an SQLite writer waits for another's lock.
const sqliteBusyTimeout = 10 * time.Second

// openTimeout bounds connecting and migrating when the caller's ctx has no
// deadline of its own.
const openTimeout = 30 * time.Second

// Store is a history of runs in SQLite or PostgreSQL. It is safe for
// concurrent use.
type Store struct {
	db      *sql.DB
	dialect string
	name    string // the DSN without secrets, for messages
}

// Open opens the history at dsn, creating it and bringing its schema up to
// date as needed. dsn is a file path or `sqlite:PATH` for an SQLite file
// (its directory must exist), or a `postgres://` / `postgresql://` URL; a
// password is best left out of the URL and given by PGPASSWORD or ~/.pgpass.
func Open(ctx context.Context, dsn string) (*Store, error) { return open(ctx, dsn, false) }

// OpenExisting is [Open] for readers: an SQLite file that does not exist yet
// is an error instead of a new, empty history.
func OpenExisting(ctx context.Context, dsn string) (*Store, error) { return open(ctx, dsn, true) }

var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// quotedURLRE is a connection URL the PostgreSQL driver quotes in an error.
var quotedURLRE = regexp.MustCompile("`postgres(ql)?://[^`]*`")

// parseDSN returns the dialect of dsn and what its driver opens.
func parseDSN(dsn string) (dialect, target string, err error) {
	switch {
	case strings.TrimSpace(dsn) == "":
		return "", "", errors.New("empty database name (want a file path, sqlite:PATH or a postgres:// URL)")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		u, err := url.Parse(dsn)
		if err != nil {
			return "", "", fmt.Errorf("bad PostgreSQL URL: %v", redactErr(err))
		}
		if u.Host == "" && u.Query().Get("host") == "" {
			return "", "", fmt.Errorf("PostgreSQL URL %s names no host", Redact(dsn))
		}
		return DialectPostgres, dsn, nil
	case strings.HasPrefix(dsn, "sqlite://"):
		return sqlitePath(strings.TrimPrefix(dsn, "sqlite://"))
	case strings.HasPrefix(dsn, "sqlite:"):
		return sqlitePath(strings.TrimPrefix(dsn, "sqlite:"))
	case schemeRE.MatchString(dsn):
		return "", "", fmt.Errorf("unknown database URL scheme in %q (want a file path, sqlite:PATH or a postgres:// URL)", Redact(dsn))
	}
	return sqlitePath(dsn)
}

func sqlitePath(p string) (string, string, error) {
	switch {
	case p == "":
		return "", "", errors.New("sqlite: names no file")
	case strings.ContainsAny(p, "?#"):
		return "", "", fmt.Errorf("SQLite path %q must not contain '?' or '#'", p)
	}
	return DialectSQLite, p, nil
}

// Redact returns dsn with its secrets removed, for messages and logs: the
// password of its user info becomes "xxxxx", and the query parameters
// sslkey, sslpassword and any whose name contains "password" (password,
// passfile_password, ...) are dropped.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Opaque != "" {
		return dsn
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			// A query too broken to parse may still hold a secret.
			u.RawQuery, u.ForceQuery = "", true
		} else {
			for k := range q {
				if secretParam(k) {
					q.Del(k)
				}
			}
			u.RawQuery = q.Encode()
		}
	}
	return u.Redacted()
}

// secretParam reports whether a connection URL parameter holds a secret.
func secretParam(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "password") || n == "sslkey"
}

// redactErr drops the text of a URL parse error, which may quote a password.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func open(ctx context.Context, dsn string, mustExist bool) (*Store, error) {
	dialect, target, err := parseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, openTimeout)
		defer cancel()
	}
	s := &Store{dialect: dialect, name: Redact(dsn)}
	switch dialect {
	case DialectSQLite:
		s.name = target
		if err := checkSQLitePath(target, mustExist); err != nil {
			return nil, err
		}
		q := url.Values{}
		q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()))
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Set("_txlock", "immediate")
		s.db, err = sql.Open("sqlite", target+"?"+q.Encode())
		if err == nil {
			s.db.SetMaxOpenConns(4)
		}
	case DialectPostgres:
		s.db, err = sql.Open("pgx", target)
		if err == nil {
			s.db.SetMaxOpenConns(4)
			s.db.SetConnMaxIdleTime(5 * time.Minute)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", s.name, err)
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		// The driver quotes the URL it could not use, secrets and all.
		msg := quotedURLRE.ReplaceAllString(oneLine(err), "the URL")
		return nil, fmt.Errorf("history %s: %s", s.name, msg)
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("history %s: %w", s.name, err)
	}
	return s, nil
}

func checkSQLitePath(p string, mustExist bool) error {
	st, err := os.Stat(p)
	switch {
	case err == nil && st.IsDir():
		return fmt.Errorf("history %s: is a directory, not a database file", p)
	case err == nil:
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("history %s: %w", p, err)
	case mustExist:
		return fmt.Errorf("history %s: no such file (no run has been recorded there yet)", p)
	}
	dir := filepath.Dir(p)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("history %s: directory %s does not exist", p, dir)
	}
	return nil
}

// oneLine flattens a driver error into one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// Dialect returns [DialectSQLite] or [DialectPostgres].
func (s *Store) Dialect() string { return s.dialect }

// Name returns the file or URL of the store, without a password.
func (s *Store) Name() string { return s.name }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// q rewrites a query written with ? placeholders for the store's dialect.
func (s *Store) q(query string) string {
	if s.dialect != DialectPostgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// sqliteTime is how SQLite keeps times: UTC, fixed width, so text order is
// time order.
const sqliteTime = "2006-01-02T15:04:05.000000Z"

// timeArg is t as the store's dialect keeps it, to microseconds.
func (s *Store) timeArg(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if s.dialect == DialectSQLite {
		return t.Format(sqliteTime)
	}
	return t
}

// nullTime scans a time kept by either dialect.
type nullTime struct {
	t     time.Time
	valid bool
}

func (n *nullTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		n.valid = false
		return nil
	case time.Time:
		n.t, n.valid = x.UTC(), true
		return nil
	case string:
		return n.parse(x)
	case []byte:
		return n.parse(string(x))
	}
	return fmt.Errorf("history: cannot read a time from %T", v)
}

func (n *nullTime) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("history: bad stored time %q", s)
	}
	n.t, n.valid = t.UTC(), true
	return nil
}

// now is the clock, to microseconds, as stored.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

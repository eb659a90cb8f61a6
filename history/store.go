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

// quotedRE is a quoted part of an error: url and the driver quote the piece
// of a URL they could not read, which may be a piece of its password.
var quotedRE = regexp.MustCompile(`\s*"[^"]*"`)

// userinfoRE finds what reads as user:password@ in a name that is no URL
// (postgres:/u:p@h, u:p@/path).
var userinfoRE = regexp.MustCompile(`[^/@\s\\]*:[^/\s\\]*@`)

// bareSchemeRE is a scheme with one slash for two (postgres:/host); a
// single letter is a Windows drive.
var bareSchemeRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]+):/`)

// keywordDSNRE finds a PostgreSQL key=value connection string.
var keywordDSNRE = regexp.MustCompile(`(?i)(^|\s)(host|hostaddr|port|dbname|user|password|passfile|sslmode|sslpassword)\s*=`)

// parseDSN returns the dialect of dsn and what its driver opens. Its errors
// never quote dsn: it may hold a password, whole or in part.
func parseDSN(dsn string) (dialect, target string, err error) {
	switch {
	case strings.TrimSpace(dsn) == "":
		return "", "", errors.New("empty database name (want a file path, sqlite:PATH or a postgres:// URL)")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		u, err := url.Parse(dsn)
		if err != nil {
			return "", "", fmt.Errorf("bad PostgreSQL URL %s: %s", Redact(dsn), urlProblem(err))
		}
		if _, err := url.ParseQuery(u.RawQuery); err != nil {
			return "", "", fmt.Errorf("bad PostgreSQL URL %s: bad query parameters: %s", Redact(dsn), urlProblem(err))
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
	case keywordDSNRE.MatchString(dsn):
		return "", "", errors.New("a PostgreSQL key=value connection string is not taken: give a postgres:// URL, its password in PGPASSWORD or ~/.pgpass")
	}
	if m := bareSchemeRE.FindStringSubmatch(dsn); m != nil {
		return "", "", fmt.Errorf("unknown database URL scheme %q (a URL starts with %s://; want a file path, sqlite:PATH or a postgres:// URL)", m[1]+":", strings.ToLower(m[1]))
	}
	return sqlitePath(dsn)
}

// urlProblem is what is wrong with a URL, without the piece of it that url
// quotes.
func urlProblem(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return strings.TrimSpace(quotedRE.ReplaceAllString(err.Error(), ""))
}

func sqlitePath(p string) (string, string, error) {
	switch {
	case p == "":
		return "", "", errors.New("sqlite: names no file")
	case strings.ContainsAny(p, "?#"):
		return "", "", errors.New("an SQLite path must not contain '?' or '#' (no query or options): name the file alone")
	case userinfoRE.MatchString(p):
		return "", "", fmt.Errorf("SQLite path %s holds what reads as a user and password: a PostgreSQL URL starts with postgres://", userinfoRE.ReplaceAllString(p, "xxxxx@"))
	}
	return DialectSQLite, p, nil
}

// Redact returns dsn with its secrets removed, for messages and logs: the
// password of its user info becomes "xxxxx", and the query parameters
// sslkey, sslpassword and any whose name contains "password" (password,
// passfile_password, ...) are dropped. Of a URL that does not parse, it
// keeps the scheme and the host alone.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	switch {
	case err != nil:
		return redactBroken(dsn)
	case u.Opaque != "": // sqlite:h.db
		return userinfoRE.ReplaceAllString(u.Scheme+":"+u.Opaque, "xxxxx@")
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
	u.Fragment, u.RawFragment = "", ""
	return u.Redacted()
}

// redactBroken names a URL that does not parse by its scheme, "xxxxx" for
// any user info (up to the last '@': a password may hold '@', '/' or
// '#'), and the host, with no path, query or fragment.
func redactBroken(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return "(a database name that does not parse)"
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = "xxxxx@" + rest[i+1:]
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	rest = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, rest)
	return scheme + "://" + rest
}

// secretParam reports whether a connection URL parameter holds a secret.
func secretParam(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "password") || n == "sslkey"
}

// secretsOf returns the secrets of a PostgreSQL URL: its password and the
// values of its secret parameters, to be scrubbed from what the driver says.
func secretsOf(dsn string) []string {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil
	}
	var out []string
	if p, ok := u.User.Password(); ok && p != "" {
		out = append(out, p, url.PathEscape(p), url.QueryEscape(p))
	}
	q, _ := url.ParseQuery(u.RawQuery)
	for k, vs := range q {
		if secretParam(k) {
			for _, v := range vs {
				if v != "" {
					out = append(out, v, url.QueryEscape(v))
				}
			}
		}
	}
	return out
}

// driverError is a driver's error in one line, with the URL it quotes and
// any secret of dsn removed.
func driverError(err error, dsn string) string {
	msg := quotedURLRE.ReplaceAllString(oneLine(err), "the URL")
	for _, sec := range secretsOf(dsn) {
		msg = strings.ReplaceAll(msg, sec, "xxxxx")
	}
	return msg
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
		return nil, fmt.Errorf("history %s: %s", s.name, driverError(err, dsn))
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		// The driver quotes the URL it could not use, secrets and all.
		return nil, fmt.Errorf("history %s: %s", s.name, driverError(err, dsn))
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("history %s: %s", s.name, driverError(err, dsn))
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

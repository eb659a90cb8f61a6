package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// backend names one way to get a fresh, empty database for a test.
type backend struct {
	name string
	dsn  func(tb testing.TB) string
}

var backends = []backend{
	{"sqlite", func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "history.db") }},
	{"postgres", func(tb testing.TB) string { return pgtest.NewDatabase(tb) }},
}

// eachBackend runs fn once per backend, each with a new store.
func eachBackend(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := openT(t, b.dsn(t))
			if s.Dialect() != b.name {
				t.Fatalf("Dialect() = %q, want %q", s.Dialect(), b.name)
			}
			fn(t, s)
		})
	}
}

func openT(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var t0 = time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)

// host returns the facts and decision of a host with the given status and
// violated checks.
func host(name string, status contract.Status, checks ...string) (contract.Facts, contract.Decision) {
	f := contract.Facts{
		Schema: contract.FactsSchema, CollectedAt: t0, Reachable: status != contract.StatusUnreachable,
		Host: contract.Host{Name: name, Address: "10.0.0." + fmt.Sprint(len(name)), Port: 22, Transport: "ssh",
			Auth: contract.Ptr("publickey"), Labels: map[string]string{"env": "prod"}},
		OS:      &contract.OS{Family: contract.Ptr("linux"), ID: contract.Ptr("centos"), Version: contract.Ptr("7.9.2009")},
		OpenSSH: &contract.OpenSSH{Version: contract.Ptr("7.4p1"), Major: contract.Ptr(7), Minor: contract.Ptr(4), Source: "banner"},
	}
	d := contract.Decision{Host: name, Address: &f.Host.Address, Status: status,
		Eligible:   status == contract.StatusEligible || status == contract.StatusEnabled,
		Violations: []contract.Finding{}, Warnings: []contract.Finding{}, Waived: []contract.Finding{}}
	for _, c := range checks {
		d.Violations = append(d.Violations, contract.Finding{Check: c, Message: c + " fails", Remediation: "fix " + c, Severity: "high"})
	}
	return f, d
}

// fleet builds facts and decisions from name=status pairs.
func fleet(pairs ...string) ([]contract.Facts, []contract.Decision) {
	var fs []contract.Facts
	var ds []contract.Decision
	for _, p := range pairs {
		name, rest, _ := strings.Cut(p, "=")
		status, checks, _ := strings.Cut(rest, ":")
		var cs []string
		if checks != "" {
			cs = strings.Split(checks, ",")
		}
		f, d := host(name, contract.Status(status), cs...)
		fs, ds = append(fs, f), append(ds, d)
	}
	return fs, ds
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRecordAndGetRun(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		facts, decisions := fleet("web-02=ineligible:selinux,openssh_version", "web-01=eligible", "db-01=enabled_ineligible:password_login", "win-01=unreachable")
		facts = facts[:3] // the unreachable host has a decision but no facts kept
		id, err := s.BeginRun(ctx, Meta{StartedAt: t0, Inventory: "fleet.yaml", Source: "check"})
		if err != nil {
			t.Fatal(err)
		}
		// One host streamed in, the rest handed over at the end.
		if err := s.AddHost(ctx, id, &facts[0], decisions[0]); err != nil {
			t.Fatal(err)
		}
		running, err := s.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if running.Status != StatusRunning || running.FinishedAt != nil || len(running.Report.Decisions) != 1 {
			t.Fatalf("running run = %+v, want running with 1 host", running)
		}
		notScanned := []contract.CloudHost{{HostID: "h-9", HostName: "orphan", PrivateIP: "10.0.0.99"}}
		err = s.FinishRun(ctx, id, Result{Facts: facts, Decisions: decisions, NotScanned: notScanned,
			InventoryDigest: "abc123", FinishedAt: t0.Add(90 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.ID != id || r.Status != StatusOK || r.Error != "" || r.Inventory != "fleet.yaml" || r.InventoryDigest != "abc123" || r.Source != "check" {
			t.Errorf("run = %+v", r)
		}
		if !r.StartedAt.Equal(t0) || r.FinishedAt == nil || !r.FinishedAt.Equal(t0.Add(90*time.Second)) || r.Duration != 90*time.Second {
			t.Errorf("times: started %v finished %v duration %v", r.StartedAt, r.FinishedAt, r.Duration)
		}
		wantCounts := map[string]int{"eligible": 1, "enabled": 0, "ineligible": 1, "enabled_ineligible": 1, "unreachable": 1}
		if jsonOf(t, r.Counts) != jsonOf(t, wantCounts) || r.Hosts != 4 {
			t.Errorf("counts = %v hosts %d, want %v hosts 4", r.Counts, r.Hosts, wantCounts)
		}
		want := contract.NewReport(t0.Add(90*time.Second), sortedDecisions(decisions))
		want.NotScanned = notScanned
		if got := jsonOf(t, r.Report); got != jsonOf(t, want) {
			t.Errorf("report:\n got %s\nwant %s", got, jsonOf(t, want))
		}
		wantFacts := []contract.Facts{facts[2], facts[1], facts[0]} // db-01, web-01, web-02
		if got := jsonOf(t, r.Facts); got != jsonOf(t, wantFacts) {
			t.Errorf("facts:\n got %s\nwant %s", got, jsonOf(t, wantFacts))
		}
		if err := s.FinishRun(ctx, id, Result{}); err == nil || !strings.Contains(err.Error(), "already finished") {
			t.Errorf("second FinishRun: %v, want already finished", err)
		}
	})
}

func sortedDecisions(ds []contract.Decision) []contract.Decision {
	out := append([]contract.Decision(nil), ds...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j].Host < out[i].Host {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestRunOutcomes(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		facts, decisions := fleet("a=eligible", "b=ineligible:selinux")
		cases := []struct {
			name       string
			finish     func(RunID) error
			wantStatus Status
			wantErr    string
			wantHosts  int
		}{
			{"ok", func(id RunID) error { return s.FinishRun(ctx, id, Result{Facts: facts, Decisions: decisions}) }, StatusOK, "", 2},
			{"failed", func(id RunID) error {
				return s.FinishRun(ctx, id, Result{Err: errors.New("fleet.yaml:3: hosts[0].address:\nmissing")})
			}, StatusFailed, "fleet.yaml:3: hosts[0].address: missing", 0},
			{"canceled", func(id RunID) error {
				return s.FinishRun(ctx, id, Result{Decisions: decisions[:1], Err: fmt.Errorf("scan: %w", context.Canceled)})
			}, StatusInterrupted, "scan: context canceled", 1},
			{"marked", func(id RunID) error {
				if err := s.AddHost(ctx, id, nil, decisions[1]); err != nil {
					return err
				}
				return s.MarkInterrupted(ctx, id, "SIGTERM")
			}, StatusInterrupted, "SIGTERM", 1},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				id, err := s.BeginRun(ctx, Meta{Inventory: "f.yaml"})
				if err != nil {
					t.Fatal(err)
				}
				if err := c.finish(id); err != nil {
					t.Fatal(err)
				}
				r, err := s.GetRun(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if r.Status != c.wantStatus || r.Error != c.wantErr || r.Hosts != c.wantHosts || r.FinishedAt == nil {
					t.Errorf("run = status %q error %q hosts %d finished %v; want %q %q %d", r.Status, r.Error, r.Hosts, r.FinishedAt, c.wantStatus, c.wantErr, c.wantHosts)
				}
			})
		}
		if err := s.FinishRun(ctx, 999, Result{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("FinishRun(999) = %v, want ErrNotFound", err)
		}
	})
}

func TestInterruptStale(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, _ := s.BeginRun(ctx, Meta{Source: "serve"})
		b, _ := s.BeginRun(ctx, Meta{Source: "serve"})
		if err := s.FinishRun(ctx, b, Result{}); err != nil {
			t.Fatal(err)
		}
		c, _ := s.BeginRun(ctx, Meta{Source: "serve"})
		other, _ := s.BeginRun(ctx, Meta{Source: "check"})
		n, err := s.InterruptStale(ctx, "serve")
		if err != nil || n != 2 {
			t.Fatalf("InterruptStale(serve) = %d, %v; want 2", n, err)
		}
		for id, want := range map[RunID]Status{a: StatusInterrupted, b: StatusOK, c: StatusInterrupted, other: StatusRunning} {
			r, err := s.GetRun(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != want {
				t.Errorf("run %d: %s, want %s", id, r.Status, want)
			}
		}
		if n, err := s.InterruptStale(ctx, ""); err != nil || n != 1 {
			t.Errorf("InterruptStale(any) = %d, %v; want 1 (the check run)", n, err)
		}
		if n, err := s.InterruptStale(ctx, ""); err != nil || n != 0 {
			t.Errorf("second InterruptStale = %d, %v; want 0", n, err)
		}
	})
}

func TestListLatestResolve(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if _, err := s.Latest(ctx); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Latest on empty = %v, want ErrNotFound", err)
		}
		if _, err := s.Resolve(ctx, "previous"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Resolve(previous) on empty = %v, want ErrNotFound", err)
		}
		if runs, err := s.ListRuns(ctx, 10); err != nil || len(runs) != 0 {
			t.Fatalf("ListRuns on empty = %v, %v", runs, err)
		}
		// Runs 1 ok, 2 ok, 3 failed, 4 ok, 5 running.
		_, ds := fleet("a=eligible")
		var ids []RunID
		for i, errText := range []string{"", "", "boom", "", "-"} {
			m := Meta{StartedAt: t0.Add(time.Duration(i) * time.Hour), Inventory: fmt.Sprintf("f%d.yaml", i+1)}
			if errText == "-" {
				id, err := s.BeginRun(ctx, m)
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
				continue
			}
			var rerr error
			if errText != "" {
				rerr = errors.New(errText)
			}
			id, err := s.Record(ctx, m, Result{Decisions: ds, Err: rerr, FinishedAt: m.StartedAt.Add(time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		runs, err := s.ListRuns(ctx, 3)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range runs {
			got = append(got, fmt.Sprintf("%d:%s:%s", r.ID, r.Status, r.Inventory))
			if r.Report != nil || r.Facts != nil {
				t.Errorf("ListRuns returned hosts of run %d", r.ID)
			}
		}
		want := []string{fmt.Sprintf("%d:running:f5.yaml", ids[4]), fmt.Sprintf("%d:ok:f4.yaml", ids[3]), fmt.Sprintf("%d:failed:f3.yaml", ids[2])}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("ListRuns(3) = %v, want %v", got, want)
		}
		if all, _ := s.ListRuns(ctx, 0); len(all) != 5 {
			t.Errorf("ListRuns(0) gave %d runs, want 5", len(all))
		}
		latest, err := s.Latest(ctx)
		if err != nil || latest.ID != ids[3] || len(latest.Report.Decisions) != 1 {
			t.Errorf("Latest = %+v, %v; want run %d with its report", latest, err, ids[3])
		}
		if prev, err := s.Previous(ctx, ids[3]); err != nil || prev != ids[1] {
			t.Errorf("Previous(%d) = %d, %v; want %d (skipping the failed run)", ids[3], prev, err, ids[1])
		}
		if _, err := s.Previous(ctx, ids[0]); !errors.Is(err, ErrNotFound) {
			t.Errorf("Previous(first) = %v, want ErrNotFound", err)
		}
		cases := []struct {
			ref     string
			want    RunID
			wantErr string
		}{
			{"latest", ids[3], ""},
			{"previous", ids[1], ""},
			{"LATEST", ids[3], ""},
			{ids[2].String(), ids[2], ""},
			{"#" + ids[0].String(), ids[0], ""},
			{"999", 0, "run 999: run not found"},
			{"0", 0, `bad run "0"`},
			{"yesterday", 0, `bad run "yesterday"`},
		}
		for _, c := range cases {
			got, err := s.Resolve(ctx, c.ref)
			switch {
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("Resolve(%q) = %d, %v; want error %q", c.ref, got, err, c.wantErr)
			case c.wantErr == "" && (err != nil || got != c.want):
				t.Errorf("Resolve(%q) = %d, %v; want %d", c.ref, got, err, c.want)
			}
		}
		if _, err := s.GetRun(ctx, 999); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetRun(999) = %v, want ErrNotFound", err)
		}
	})
}

func TestMigrations(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.dsn(t)
			// Several processes opening a new history at once all succeed.
			var wg sync.WaitGroup
			errs := make([]error, 3)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s, err := Open(ctx, dsn)
					if err == nil {
						s.Close()
					}
					errs[i] = err
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatalf("concurrent Open: %v", err)
				}
			}
			s := openT(t, dsn)
			ms, err := migrations(s.Dialect())
			if err != nil {
				t.Fatal(err)
			}
			if v, err := s.SchemaVersion(ctx); err != nil || v != len(ms) {
				t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, len(ms))
			}
			var n int
			if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(ms) {
				t.Fatalf("schema_migrations has %d rows (%v), want %d", n, err, len(ms))
			}
			// A history written by a newer factorgate is refused.
			if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				len(ms)+1, "future", s.timeArg(now())); err != nil {
				t.Fatal(err)
			}
			if _, err := Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), "newer than this factorgate") {
				t.Errorf("Open of a newer schema = %v, want refusal", err)
			}
		})
	}
}

func TestMigrationFiles(t *testing.T) {
	sq, err := migrations(DialectSQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := migrations(DialectPostgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(sq) != len(pg) {
		t.Fatalf("%d SQLite migrations, %d PostgreSQL: every version needs both", len(sq), len(pg))
	}
	for i := range sq {
		if sq[i].name != pg[i].name {
			t.Errorf("migration %d is %q for SQLite, %q for PostgreSQL", i+1, sq[i].name, pg[i].name)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "h.db")
	openT(t, existing).Close()
	cases := []struct {
		name, dsn string
		existing  bool
		want      string
	}{
		{"empty", "", false, "empty database name"},
		{"unknown scheme", "mysql://u:hunter2@db/x", false, `unknown database URL scheme in "mysql://u:xxxxx@db/x"`},
		{"sqlite without path", "sqlite:", false, "sqlite: names no file"},
		{"missing directory", filepath.Join(dir, "nope", "h.db"), false, "directory " + filepath.Join(dir, "nope") + " does not exist"},
		{"a directory", dir, false, "is a directory"},
		{"question mark", filepath.Join(dir, "h?.db"), false, "must not contain"},
		{"missing file for reader", filepath.Join(dir, "new.db"), true, "no such file"},
		{"postgres without host", "postgres:///x", false, "names no host"},
		{"postgres refused", "postgres://u:hunter2@127.0.0.1:1/x?connect_timeout=5", false, "history postgres://u:xxxxx@127.0.0.1:1/x"},
		{"postgres URL the driver refuses", "postgres://u:hunter2@127.0.0.1:1/x?sslpassword=hunter2&sslkey=/hunter2.pem&connect_timeout=5", false,
			"history postgres://u:xxxxx@127.0.0.1:1/x?connect_timeout=5: cannot parse the URL: failed to configure TLS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			open := Open
			if c.existing {
				open = OpenExisting
			}
			s, err := open(context.Background(), c.dsn)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", c.dsn)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) || strings.Contains(msg, "hunter2") || strings.Contains(msg, "\n") {
				t.Errorf("Open(%q) = %q, want one line containing %q and no password", c.dsn, msg, c.want)
			}
		})
	}
	for _, dsn := range []string{existing, "sqlite:" + existing, "sqlite://" + existing} {
		s, err := OpenExisting(context.Background(), dsn)
		if err != nil {
			t.Errorf("OpenExisting(%q): %v", dsn, err)
			continue
		}
		if s.Name() != existing {
			t.Errorf("Name() = %q, want %q", s.Name(), existing)
		}
		s.Close()
	}
}

// TestManyHosts records more hosts than one statement carries, with one host
// given twice: the last of the two is kept.
func TestManyHosts(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		var pairs []string
		for i := range 2*hostBatch + 50 {
			pairs = append(pairs, fmt.Sprintf("h%04d=eligible", i))
		}
		pairs = append(pairs, "h0000=ineligible:selinux")
		facts, decisions := fleet(pairs...)
		id, err := s.Record(ctx, Meta{}, Result{Facts: facts, Decisions: decisions})
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Hosts != 2*hostBatch+50 || len(r.Report.Decisions) != r.Hosts || len(r.Facts) != r.Hosts {
			t.Fatalf("hosts = %d, %d decisions, %d facts; want %d", r.Hosts, len(r.Report.Decisions), len(r.Facts), 2*hostBatch+50)
		}
		if d := r.Report.Decisions[0]; d.Host != "h0000" || d.Status != "ineligible" || r.Counts["ineligible"] != 1 {
			t.Errorf("h0000 = %s %s, counts %v; want the last given, ineligible", d.Host, d.Status, r.Counts)
		}
	})
}

func TestPrune(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, ds := fleet("a=eligible", "b=ineligible:selinux")
		// Runs a day apart: 1 ok, 2 ok, 3 failed, 4 running, all old; 5 ok, new.
		var ids []RunID
		for i, kind := range []string{"ok", "ok", "failed", "running", "ok"} {
			m := Meta{StartedAt: t0.Add(time.Duration(i) * 24 * time.Hour)}
			var id RunID
			var err error
			switch kind {
			case "running":
				id, err = s.BeginRun(ctx, m)
			case "failed":
				id, err = s.Record(ctx, m, Result{Err: errors.New("boom")})
			default:
				id, err = s.Record(ctx, m, Result{Decisions: ds})
			}
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		cutoff := t0.Add(4 * 24 * time.Hour) // before run 5
		n, err := s.Prune(ctx, cutoff)
		if err != nil || n != 3 {
			t.Fatalf("Prune = %d, %v; want 3 (runs 1-3)", n, err)
		}
		runs, _ := s.ListRuns(ctx, 0)
		var left []RunID
		for _, r := range runs {
			left = append(left, r.ID)
		}
		if fmt.Sprint(left) != fmt.Sprint([]RunID{ids[4], ids[3]}) {
			t.Errorf("runs left = %v, want %v", left, []RunID{ids[4], ids[3]})
		}
		// The hosts of deleted runs went with them.
		var hosts int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM run_hosts`).Scan(&hosts); err != nil || hosts != 2 {
			t.Errorf("run_hosts has %d rows (%v), want 2 (run 5's)", hosts, err)
		}
		// The newest ok run is kept even when it is old.
		if n, err := s.Prune(ctx, cutoff.Add(365*24*time.Hour)); err != nil || n != 0 {
			t.Errorf("Prune of everything = %d, %v; want 0: the latest ok run and the running one stay", n, err)
		}
		if _, err := s.Latest(ctx); err != nil {
			t.Errorf("Latest after prune: %v", err)
		}
	})
}

// TestLatestPreviousByStartAndScope: latest and previous go by start time,
// not by ID, and in a scope only runs of its source and inventory count: an
// old report imported late, or a check of another inventory, is not serve's
// baseline.
func TestLatestPreviousByStartAndScope(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, ds := fleet("a=eligible")
		rec := func(hours int, source, inv string) RunID {
			t.Helper()
			at := t0.Add(time.Duration(hours) * time.Hour)
			id, err := s.Record(ctx, Meta{StartedAt: at, Inventory: inv, Source: source}, Result{Decisions: ds, FinishedAt: at.Add(time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		serve1 := rec(0, "serve", "fleet.yaml")
		serve2 := rec(4, "serve", "fleet.yaml")
		imported := rec(2, "import", "fleet.yaml") // older than serve2, higher ID
		rec(-5, "import", "fleet.yaml")            // the oldest, highest ID so far
		checked := rec(3, "check", "other.yaml")
		serveOther := rec(1, "serve", "other.yaml")
		serveScope := Scope{Source: "serve", Inventory: "fleet.yaml"}

		if l, err := s.Latest(ctx); err != nil || l.ID != serve2 {
			t.Errorf("Latest = %v, %v; want run %d, the one that started last", l, err, serve2)
		}
		if l, err := s.LatestIn(ctx, Scope{Source: "serve", Inventory: "other.yaml"}); err != nil || l.ID != serveOther {
			t.Errorf("LatestIn(serve, other.yaml) = %v, %v; want run %d", l, err, serveOther)
		}
		if p, err := s.Previous(ctx, serve2); err != nil || p != checked {
			t.Errorf("Previous(%d) = %d, %v; want %d, the one that started before it", serve2, p, err, checked)
		}
		if p, err := s.PreviousIn(ctx, serve2, serveScope); err != nil || p != serve1 {
			t.Errorf("PreviousIn(%d, serve fleet.yaml) = %d, %v; want %d", serve2, p, err, serve1)
		}
		if p, err := s.PreviousIn(ctx, serve2, Scope{Source: "import"}); err != nil || p != imported {
			t.Errorf("PreviousIn(%d, import) = %d, %v; want %d", serve2, p, err, imported)
		}
		if _, err := s.PreviousIn(ctx, serve1, serveScope); !errors.Is(err, ErrNotFound) {
			t.Errorf("PreviousIn(first serve run) = %v, want ErrNotFound", err)
		}
		for ref, want := range map[string]RunID{"latest": serve2, "previous": checked} {
			if got, err := s.Resolve(ctx, ref); err != nil || got != want {
				t.Errorf("Resolve(%q) = %d, %v; want %d", ref, got, err, want)
			}
		}
		// Pruning everything old keeps the newest run, and the newest of
		// the scopes asked: serve's baseline survives a later check.
		if _, err := s.Prune(ctx, t0.Add(100*time.Hour), serveScope); err != nil {
			t.Fatal(err)
		}
		if l, err := s.LatestIn(ctx, serveScope); err != nil || l.ID != serve2 {
			t.Errorf("after Prune, LatestIn(serve fleet.yaml) = %v, %v; want run %d", l, err, serve2)
		}
		if all, _ := s.ListRuns(ctx, 0); len(all) != 1 {
			t.Errorf("after Prune, %d runs remain, want 1", len(all))
		}
	})
}

// TestNULCharacters: PostgreSQL refuses NUL in text and JSONB; both
// backends store U+FFFD in its place, in every string of a run, and keep a
// backslash followed by "u0000" as the text it is.
func TestNULCharacters(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f, d := host("web\x00-01", contract.StatusIneligible)
		d.Violations = []contract.Finding{{Check: "banner", Message: "sshd said \"OpenSSH\x00_7.4\" and `\\u0000`", Severity: "high"}}
		f.Host.Labels["role"] = "db\x00"
		id, err := s.Record(ctx, Meta{StartedAt: t0, Inventory: "fleet\x00.yaml", Source: "check"},
			Result{Facts: []contract.Facts{f}, Decisions: []contract.Decision{d}, Err: errors.New("probe\x00 failed")})
		if err != nil {
			t.Fatalf("Record with NUL characters: %v", err)
		}
		r, err := s.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got := []string{r.Inventory, r.Error, r.Report.Decisions[0].Host, r.Report.Decisions[0].Violations[0].Message}
		want := []string{"fleet\uFFFD.yaml", "probe\uFFFD failed", "web\uFFFD-01", "sshd said \"OpenSSH\uFFFD_7.4\" and `\\u0000`"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("read back %q, want %q", got, want)
		}
		if len(r.Facts) != 1 || r.Facts[0].Host.Labels["role"] != "db\uFFFD" || r.Facts[0].Host.Name != "web\uFFFD-01" {
			t.Errorf("facts read back = %+v", r.Facts)
		}
	})
}

func TestNoNULJSON(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"a":"x"}`, `{"a":"x"}`},
		{`{"a":"x\u0000y"}`, `{"a":"x\ufffdy"}`},
		{`{"a":"\\u0000"}`, `{"a":"\\u0000"}`},
		{`{"a":"\\\u0000"}`, `{"a":"\\\ufffd"}`},
		{`["\u0000\u0000"]`, `["\ufffd\ufffd"]`},
	}
	for _, c := range cases {
		if got := string(noNULJSON([]byte(c.in))); got != c.want {
			t.Errorf("noNULJSON(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestRedact(t *testing.T) {
	cases := []struct{ dsn, want string }{
		{"/var/lib/factorgate/history.db", "/var/lib/factorgate/history.db"},
		{"sqlite:h.db", "sqlite:h.db"},
		{"postgres://fg@db.example:5432/fg?sslmode=verify-full", "postgres://fg@db.example:5432/fg?sslmode=verify-full"},
		{"postgres://fg:hunter2@db.example/fg", "postgres://fg:xxxxx@db.example/fg"},
		{"postgres://db.example/fg?user=fg&password=hunter2&sslmode=require", "postgres://db.example/fg?sslmode=require&user=fg"},
		{"postgresql://db.example/fg?sslpassword=hunter2&sslkey=%2Fetc%2Fkey.pem&sslcert=c.pem", "postgresql://db.example/fg?sslcert=c.pem"},
		{"postgres://db.example/fg?PassWord=hunter2&x_password_y=hunter2", "postgres://db.example/fg"},
		{"postgres://u:hunter2@db.example/fg?password=hunter2&sslkey=k", "postgres://u:xxxxx@db.example/fg"},
		{"postgres://db.example/fg?password=hunter2;x=%zz", "postgres://db.example/fg?"},
		// URLs that do not parse keep their scheme and host alone.
		{"postgres://fg:hun#ter2@db.example/fg", "postgres://xxxxx@db.example"},
		{"postgres://fg:hunter2@db.example:5x/fg?password=hunter2", "postgres://xxxxx@db.example:5x"},
		{"postgres://fg:hun%zzter2@db.example/fg", "postgres://xxxxx@db.example"},
		{"postgres://fg:hun@ter2@db.example/f\x7fg", "postgres://xxxxx@db.example"},
		{"sqlite:fg:hunter2@h.db", "xxxxx@h.db"},
		{"no scheme: %zz hunter2", "(a database name that does not parse)"},
	}
	for _, c := range cases {
		got := Redact(c.dsn)
		if got != c.want || strings.Contains(got, "hunter2") || strings.Contains(got, "key.pem") {
			t.Errorf("Redact(%q) = %q, want %q", c.dsn, got, c.want)
		}
	}
}

// TestNameRedacted: a history opened from a URL with secrets names itself
// without them, as serve logs it.
func TestNameRedacted(t *testing.T) {
	u := pgtest.NewDatabase(t)
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	s := openT(t, u+sep+"password=hunter2&sslpassword=hunter2")
	if strings.Contains(s.Name(), "hunter2") || strings.Contains(s.Name(), "password") {
		t.Errorf("Name() = %q, want no password", s.Name())
	}
}

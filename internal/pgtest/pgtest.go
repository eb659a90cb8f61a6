// Package pgtest gives tests a real, throwaway PostgreSQL.
//
// Call [Main] from TestMain; then each test that needs a database calls
// [NewDatabase], which returns the URL of a fresh, empty database of its own
// and drops it when the test ends. One cluster serves the whole `go test`
// process: it is started on first use from Debian's PostgreSQL binaries
// (/usr/lib/postgresql/*/bin, or $FACTORGATE_PG_BINDIR) in a temporary
// directory, listening on a free loopback port, and stopped by [Main].
//
// When $FACTORGATE_TEST_PG_URL is set, no cluster is started: databases are
// created on the server that URL names (its user needs CREATEDB).
//
// Without PostgreSQL the tests that need it are skipped, unless
// $FACTORGATE_REQUIRE_POSTGRES=1 (as in CI), which makes the skip a failure.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// startTimeout bounds initdb and the server's start.
const startTimeout = 90 * time.Second

var (
	once    sync.Once
	cluster *Cluster
	errPG   error
	dbSeq   atomic.Int64
)

// Cluster is a running PostgreSQL server that tests create databases in.
type Cluster struct {
	// AdminURL is the URL of the maintenance database, for CREATE DATABASE.
	AdminURL string
	dir      string
	cmd      *exec.Cmd
	done     chan struct{}
}

// Main runs the tests of m and stops the cluster if one was started. Use it
// as `func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }`.
func Main(m *testing.M) int {
	code := m.Run()
	if cluster != nil {
		cluster.Stop()
	}
	return code
}

// Available reports whether PostgreSQL can be had, starting the cluster if
// needed, and why not.
func Available() error {
	once.Do(func() { cluster, errPG = start() })
	return errPG
}

// NewDatabase returns the URL of a new, empty database for t, dropped when t
// ends. It skips t when PostgreSQL is missing, or fails it when
// $FACTORGATE_REQUIRE_POSTGRES=1.
func NewDatabase(t testing.TB) string {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("FACTORGATE_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL required (FACTORGATE_REQUIRE_POSTGRES=1): %v", err)
		}
		t.Skipf("no PostgreSQL: %v", err)
	}
	name := fmt.Sprintf("fgtest_%d_%d", os.Getpid(), dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := adminExec(ctx, cluster.AdminURL, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := adminExec(ctx, cluster.AdminURL, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(cluster.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func adminExec(ctx context.Context, adminURL, sql string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// start finds or starts the server.
func start() (*Cluster, error) {
	if u := os.Getenv("FACTORGATE_TEST_PG_URL"); u != "" {
		return &Cluster{AdminURL: u}, nil
	}
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	// The server refuses to run as root: run it as the postgres user.
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		pu, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root and there is no postgres user to run the server as: %w", err)
		}
		uid, _ := strconv.Atoi(pu.Uid)
		gid, _ := strconv.Atoi(pu.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	// The postgres user must reach the cluster's directory: under root's
	// own temporary directory it may not.
	parent := os.TempDir()
	if st, err := os.Stat(parent); cred != nil && (err != nil || st.Mode().Perm()&0o001 == 0) {
		parent = "/tmp"
	}
	dir, err := os.MkdirTemp(parent, "factorgate-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, done: make(chan struct{})}
	if err := c.boot(bin, cred); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

func (c *Cluster) boot(bin string, cred *syscall.Credential) error {
	if cred != nil {
		if err := os.Chown(c.dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return err
		}
	}
	data := filepath.Join(c.dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = c.dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v: %s", err, lastLine(out))
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	logPath := filepath.Join(c.dir, "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	// Started directly, not through pg_ctl, so that it dies with the test
	// process even when that is killed.
	c.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port), "-k", c.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=50")
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL, Setpgid: true}
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.Dir = c.dir
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	go func() { c.cmd.Wait(); close(c.done) }()
	c.AdminURL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	for {
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(pctx, c.AdminURL)
		pcancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case <-c.done:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited: %s", lastLine(log))
		case <-ctx.Done():
			c.Stop()
			return fmt.Errorf("postgres did not accept connections within %s: %v", startTimeout, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop shuts the server down and removes its files.
func (c *Cluster) Stop() {
	if c.cmd != nil && c.cmd.Process != nil {
		c.cmd.Process.Signal(syscall.SIGQUIT) // immediate shutdown: the data is thrown away
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
			<-c.done
		}
	}
	if c.dir != "" {
		os.RemoveAll(c.dir)
	}
}

// binDir finds the directory of initdb and postgres.
func binDir() (string, error) {
	if d := os.Getenv("FACTORGATE_PG_BINDIR"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("initdb not found in /usr/lib/postgresql/*/bin or $PATH (apt-get install postgresql)")
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

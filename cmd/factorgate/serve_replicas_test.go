package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/factorgate/factorgate/internal/pgtest"
	"github.com/factorgate/factorgate/internal/testutil"
)

// replicaWait bounds each wait of the replica tests: for a process to
// listen, for the runs to come, for a process to stop.
const replicaWait = 10 * time.Second

// TestServeReplicaProcesses runs two `factorgate serve` processes on one
// PostgreSQL history with a one-second schedule, stops them with SIGTERM,
// and counts the runs: each tick of the schedule was run by one process,
// never both, no two runs overlap, both served the pages all along, and
// each says in its metrics that it left ticks to the other. The advisory
// lock keeps a tick that comes during a run from starting a second one
// (audits longer than a tick); the claim of each tick keeps a process that
// wakes up late from running a tick already run (a replica late for a
// tick).
//
// The processes are the test binary itself, run as `factorgate` through
// the command testscript.Main puts in $PATH: the real main, with its
// signal handling, and no build of its own.
func TestServeReplicaProcesses(t *testing.T) {
	// An audit that takes no time: the host has no credentials, so it is
	// judged unreachable without a connection. Once, the second process
	// stalls across a tick (paused, as by a slow machine): it wakes up for
	// a tick the first has run, and must not run it again.
	t.Run("quick audits, a replica late for a tick", func(t *testing.T) {
		inv := filepath.Join(t.TempDir(), "fleet.yaml")
		writeFile(t, inv, "hosts:\n  - {name: web-01, address: 127.0.0.1, port: 1}\n")
		checkReplicas(t, replicaCase{inventory: inv, wantRuns: 4, lateTick: true})
	})
	// An audit longer than a tick: the host accepts the connection and
	// never answers, so each run waits out the handshake timeout. While
	// one process runs, the other must not start the next tick.
	t.Run("audits longer than a tick", func(t *testing.T) {
		port := stallingServer(t)
		dir := t.TempDir()
		inv := filepath.Join(dir, "fleet.yaml")
		writeFile(t, inv, fmt.Sprintf(`defaults:
  ssh: {user: ops, password_env: FG_REPLICA_PW, known_hosts: %s}
hosts:
  - {name: stall-01, address: 127.0.0.1, port: %d}
`, filepath.Join(dir, "known_hosts"), port))
		checkReplicas(t, replicaCase{inventory: inv, wantRuns: 3,
			args: []string{"--timeout-handshake", "1300ms", "--retries", "0"},
			env:  []string{"FG_REPLICA_PW=not-a-real-password"}})
	})
}

// replica is one `factorgate serve` process.
type replica struct {
	name string
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT
	done chan struct{}
	err  error // of Wait, once done is closed

	mu     sync.Mutex
	stderr bytes.Buffer
}

func (r *replica) log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stderr.String()
}

// historyRun is a run as `factorgate history list --format json` prints it.
type historyRun struct {
	ID          int64      `json:"id"`
	StartedAt   time.Time  `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	Source      string     `json:"source"`
	Status      string     `json:"status"`
	Error       string     `json:"error"`
	ScheduledAt *time.Time `json:"scheduled_at"`
}

// replicaCase is how checkReplicas runs its two processes.
type replicaCase struct {
	inventory string
	args, env []string // more arguments of serve, more environment
	wantRuns  int      // stop after this many runs
	lateTick  bool     // pause the second process across a tick
}

// checkReplicas runs two serve processes on the inventory until the runs
// wanted are finished, stops them, and checks the claims of the replicas.
func checkReplicas(t *testing.T, rc replicaCase) {
	inv := rc.inventory
	dsn := pgtest.NewDatabase(t)
	exe, err := exec.LookPath("factorgate")
	if err != nil {
		t.Fatalf("the factorgate command testscript.Main installs: %v", err)
	}
	env := append(replicaEnv(t), rc.env...)
	var reps [2]*replica
	for i := range reps {
		reps[i] = startReplica(t, exe, fmt.Sprint("r", i), env, append([]string{"serve", "--db", dsn, "-i", inv,
			"--schedule", "@every 1s", "--run-at-start=false", "--listen", "127.0.0.1:0",
			"--shutdown-grace", "5s", "--no-ssh-config"}, rc.args...)...)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, r := range reps {
				if r == nil {
					continue
				}
				t.Logf("%s stderr:\n%s", r.name, r.log())
			}
		}
	})

	// Both serve while the runs go on; the runs are read from the first.
	deadline := time.Now().Add(replicaWait)
	var late time.Time
	for {
		for _, r := range reps {
			if code, body := httpGet(t, r.base+"/healthz"); code != http.StatusOK {
				t.Fatalf("%s: /healthz = %d %s while running", r.name, code, body)
			}
		}
		n := finishedRuns(t, reps[0])
		if n >= rc.wantRuns {
			break
		}
		if rc.lateTick && late.IsZero() && n >= 1 {
			late = pauseAcrossTick(t, reps[1], reps[0])
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d runs finished within %s", rc.wantRuns, replicaWait)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var skipped, ran [2]float64
	for i, r := range reps {
		code, body := httpGet(t, r.base+"/")
		if code != http.StatusOK || !strings.Contains(body, "<html") || !strings.Contains(body, filepath.Base(inv)) {
			t.Errorf("%s: / = %d, want the dashboard of %s:\n%.300s", r.name, code, inv, body)
		}
		// A page of another host is refused: the guard is on.
		if code, _ := httpGetHost(t, r.base+"/", "evil.example"); code != http.StatusMisdirectedRequest {
			t.Errorf("%s: / for Host evil.example = %d, want 421", r.name, code)
		}
		_, metrics := httpGet(t, r.base+"/metrics")
		skipped[i] = metricValue(t, metrics, `factorgate_runs_total{outcome="other_replica"}`)
		ran[i] = metricValue(t, metrics, `factorgate_runs_total{outcome="ok"}`)
	}
	for _, r := range reps {
		if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatalf("%s: SIGTERM: %v", r.name, err)
		}
	}
	for _, r := range reps {
		select {
		case <-r.done:
			if r.err != nil {
				t.Errorf("%s: after SIGTERM: %v, want exit 0", r.name, r.err)
			}
		case <-time.After(replicaWait):
			t.Fatalf("%s did not stop within %s of SIGTERM", r.name, replicaWait)
		}
	}

	// The history, as the CLI lists it.
	list := exec.Command(exe, "history", "list", "--db", dsn, "--format", "json", "--limit", "0")
	list.Env = env
	out, err := list.Output()
	if err != nil {
		t.Fatalf("factorgate history list: %v", err)
	}
	var runs []historyRun
	if err := json.Unmarshal(out, &runs); err != nil {
		t.Fatalf("history list --format json: %v\n%s", err, out)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].StartedAt.Before(runs[j].StartedAt) })
	ticks := map[time.Time]int64{}
	for _, r := range runs {
		if r.Status != "ok" || r.Source != "serve" || r.ScheduledAt == nil || r.FinishedAt == nil {
			t.Errorf("run %d: %s (%s) from %q for tick %v; want an ok run of serve for a tick", r.ID, r.Status, r.Error, r.Source, r.ScheduledAt)
			continue
		}
		at := r.ScheduledAt.UTC()
		if other, ok := ticks[at]; ok {
			t.Errorf("tick %s run twice: runs %d and %d", at.Format(time.RFC3339), other, r.ID)
		}
		ticks[at] = r.ID
	}
	// Never two audits at once.
	for i := 1; i < len(runs); i++ {
		if prev := runs[i-1]; prev.FinishedAt != nil && runs[i].StartedAt.Before(*prev.FinishedAt) {
			t.Errorf("runs %d and %d overlap: %d started at %s, before %d finished at %s", prev.ID, runs[i].ID,
				runs[i].ID, runs[i].StartedAt.Format(time.RFC3339Nano), prev.ID, prev.FinishedAt.Format(time.RFC3339Nano))
		}
	}
	if rc.lateTick {
		if _, ok := ticks[late.UTC()]; !ok {
			t.Errorf("the tick %s that %s was late for was not run", late.Format(time.RFC3339), reps[1].name)
		}
		if !slices.ContainsFunc(skippedInLog(reps[1].log()), late.Equal) {
			t.Errorf("%s does not log the tick %s it was late for as run by another replica", reps[1].name, late.Format(time.RFC3339))
		}
	}
	if len(ticks) < 3 {
		t.Errorf("%d ticks run, want at least 3", len(ticks))
	}

	// Each run was run by one process: the runs each logs as finished
	// make up the history, with none in both.
	byRun := map[int64]string{}
	var perReplica [2]int
	for i, r := range reps {
		for _, id := range finishedInLog(r.log()) {
			if other, ok := byRun[id]; ok {
				t.Errorf("run %d finished by both %s and %s", id, other, r.name)
			}
			byRun[id] = r.name
			perReplica[i]++
		}
	}
	for _, r := range runs {
		if _, ok := byRun[r.ID]; !ok {
			t.Errorf("run %d is in the history but neither process logs it", r.ID)
		}
	}
	if len(byRun) != len(runs) {
		t.Errorf("the processes log %d runs, the history holds %d", len(byRun), len(runs))
	}
	// Each process left to the other the ticks it did not run, and says
	// so in its metrics; what each counts as run it did run.
	if skipped[0]+skipped[1] == 0 {
		t.Errorf(`factorgate_runs_total{outcome="other_replica"} is 0 on both processes`)
	}
	for i, r := range reps {
		if int(ran[i]) > perReplica[i] {
			t.Errorf(`%s: factorgate_runs_total{outcome="ok"} = %v, but it logs %d runs`, r.name, ran[i], perReplica[i])
		}
	}
	t.Logf("%d runs for %d ticks: %d run by r0, %d by r1; other_replica r0=%v r1=%v (before SIGTERM)",
		len(runs), len(ticks), perReplica[0], perReplica[1], skipped[0], skipped[1])
}

// replicaEnv is the environment of the processes: none of the caller's,
// so that no cloud credentials, webhook or SSH agent of the one running
// the tests reaches them, and they reach nothing beyond loopback.
func replicaEnv(t *testing.T) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	if d := os.Getenv("GOCOVERDIR"); d != "" {
		env = append(env, "GOCOVERDIR="+d)
	}
	return env
}

// startReplica starts `factorgate ARGS` and waits until it listens.
func startReplica(t *testing.T, exe, name string, env []string, args ...string) *replica {
	t.Helper()
	r := &replica{name: name, cmd: exec.Command(exe, args...), done: make(chan struct{})}
	r.cmd.Env = env
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		url := regexp.MustCompile(`msg="factorgate serve" url=(http://127\.0\.0\.1:\d+)/`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			r.mu.Lock()
			r.stderr.Write(sc.Bytes())
			r.stderr.WriteByte('\n')
			r.mu.Unlock()
			if m := url.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() {
		<-logged // Wait closes the pipe: read it all first
		r.err = r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	select {
	case r.base = <-urls:
	case <-r.done:
		t.Fatalf("%s exited before listening: %v\n%s", name, r.err, r.log())
	case <-time.After(replicaWait):
		t.Fatalf("%s did not listen within %s:\n%s", name, replicaWait, r.log())
	}
	return r
}

// servedRuns returns the runs r serves at /runs.
func servedRuns(t *testing.T, r *replica) []historyRun {
	t.Helper()
	code, body := httpGet(t, r.base+"/runs?limit=0")
	if code != http.StatusOK {
		t.Fatalf("%s: /runs = %d %s", r.name, code, body)
	}
	var runs []historyRun
	if err := json.Unmarshal([]byte(body), &runs); err != nil {
		t.Fatalf("%s: /runs: %v", r.name, err)
	}
	return runs
}

// finishedRuns counts the finished runs r serves at /runs.
func finishedRuns(t *testing.T, r *replica) int {
	t.Helper()
	n := 0
	for _, run := range servedRuns(t, r) {
		if run.FinishedAt != nil {
			n++
		}
	}
	return n
}

func httpGet(t *testing.T, url string) (int, string) { return httpGetHost(t, url, "") }

// httpGetHost GETs url with Host header host (the URL's when empty).
func httpGetHost(t *testing.T, url, host string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// metricValue reads the sample named series (name and labels) in a
// Prometheus text exposition.
func metricValue(t *testing.T, exposition, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(exposition, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no %s in the metrics:\n%s", series, exposition)
	return 0
}

// finishedInLog returns the runs a serve log says it finished.
func finishedInLog(log string) []int64 {
	var ids []int64
	for _, m := range regexp.MustCompile(`msg="run finished" run=(\d+)`).FindAllStringSubmatch(log, -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		ids = append(ids, id)
	}
	return ids
}

// skippedInLog returns the ticks a serve log says another replica ran.
func skippedInLog(log string) []time.Time {
	var ticks []time.Time
	for _, m := range regexp.MustCompile(`msg="another replica runs this audit; skipping it" tick=(\S+)`).FindAllStringSubmatch(log, -1) {
		if at, err := time.Parse(time.RFC3339Nano, m[1]); err == nil {
			ticks = append(ticks, at)
		}
	}
	return ticks
}

// pauseAcrossTick stops process late (SIGSTOP) between two ticks, when no
// run is in progress, keeps it stopped across the next tick until the other
// process has finished that tick's run, then lets it go on (SIGCONT): its
// schedule then fires for the tick it missed. It returns that tick.
func pauseAcrossTick(t *testing.T, late, other *replica) time.Time {
	t.Helper()
	deadline := time.Now().Add(replicaWait)
	for {
		// A third of a second past a tick, its run is done.
		now := time.Now()
		time.Sleep(now.Truncate(time.Second).Add(1300 * time.Millisecond).Sub(now))
		if !runInProgress(t, other) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no moment without a run within %s", replicaWait)
		}
	}
	if err := late.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("%s: SIGSTOP: %v", late.name, err)
	}
	defer func() {
		if err := late.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatalf("%s: SIGCONT: %v", late.name, err)
		}
	}()
	tick := time.Now().Truncate(time.Second).Add(time.Second)
	for {
		time.Sleep(200 * time.Millisecond)
		if tickFinished(t, other, tick) {
			return tick
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not run the tick %s while %s was stopped", other.name, tick.Format(time.RFC3339), late.name)
		}
	}
}

// runInProgress reports whether r serves a run not yet finished.
func runInProgress(t *testing.T, r *replica) bool {
	for _, run := range servedRuns(t, r) {
		if run.FinishedAt == nil {
			return true
		}
	}
	return false
}

// tickFinished reports whether r serves a finished run of tick.
func tickFinished(t *testing.T, r *replica, tick time.Time) bool {
	for _, run := range servedRuns(t, r) {
		if run.FinishedAt != nil && run.ScheduledAt != nil && run.ScheduledAt.Equal(tick) {
			return true
		}
	}
	return false
}

// stallingServer accepts TCP connections on loopback and never answers
// them, until the test ends; it returns its port.
func stallingServer(t *testing.T) int {
	t.Helper()
	_, p, _ := net.SplitHostPort(testutil.SilentListener(t))
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

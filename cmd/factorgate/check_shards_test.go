package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/fleetsim"
	"github.com/factorgate/factorgate/internal/pgtest"
)

// shardWait bounds each factorgate process of the shard tests.
const shardWait = 20 * time.Second

// shardRun is a run as `factorgate history list --format json` prints it,
// with its shards.
type shardRun struct {
	ID         int64                   `json:"id"`
	Status     string                  `json:"status"`
	Source     string                  `json:"source"`
	Inventory  string                  `json:"inventory"`
	Hosts      int                     `json:"hosts"`
	Counts     map[contract.Status]int `json:"counts"`
	AuditID    string                  `json:"audit_id"`
	Shards     int                     `json:"shards"`
	ShardsDone int                     `json:"shards_done"`
}

// TestCheckShardsRecordOneRun runs the shards of an audit as separate
// `factorgate check -i --record --shard K/N --audit-id ID` processes at
// once, against one simulated fleet and one PostgreSQL history, as the
// pods of deploy/kubernetes/cronjob-sharded.yaml do. The shards make one
// run of the history: every host of the inventory once, each with the
// status an unsharded check gives it. Until its last shard is in, the run
// lists as "K of N shards" and history show refuses it.
//
// The processes are the test binary itself, run as `factorgate` through
// the command testscript.Main puts in $PATH.
func TestCheckShardsRecordOneRun(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	exe, err := exec.LookPath("factorgate")
	if err != nil {
		t.Fatalf("the factorgate command testscript.Main installs: %v", err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fleet, err := fleetsim.Start(ctx, fleetsim.Config{N: 36, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer fleet.Close()
	inv := filepath.Join(dir, "fleet.yaml")
	if err := fleet.WriteInventory(inv); err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, h := range fleet.Hosts() {
		hosts = append(hosts, h.Name)
	}
	slices.Sort(hosts)
	env := replicaEnv(t)

	// The statuses of an unsharded check of the same fleet.
	wholePath := filepath.Join(dir, "whole.json")
	runFactorgate(t, exe, env, "check", "-i", inv, "--no-ssh-config", "--fail-on", "none", "--format", "json", "-o", wholePath)
	want := hostStatuses(t, "the unsharded check", readReport(t, wholePath), hosts)
	if kinds := distinct(want); len(kinds) < 3 {
		t.Fatalf("the fleet gives too few statuses to compare (%v): pick other profiles", kinds)
	}
	t.Logf("%d hosts: %v", len(hosts), readReport(t, wholePath).Summary)

	t.Run("three shards at once", func(t *testing.T) {
		reports := runShards(t, exe, env, dsn, inv, dir, "job-1", 3, 1, 2, 3)
		checkShardReports(t, reports, hosts)
		run := auditRun(t, exe, env, dsn, "job-1")
		checkCompleteRun(t, exe, env, dsn, run, 3, want, hosts)
	})

	t.Run("a run in progress until its last shard", func(t *testing.T) {
		reports := runShards(t, exe, env, dsn, inv, dir, "job-2", 4, 1, 2, 3)
		run := auditRun(t, exe, env, dsn, "job-2")
		if run.Status != "running" || run.Shards != 4 || run.ShardsDone != 3 {
			t.Errorf("run of job-2 with 3 shards in: status %q, %d of %d shards; want running, 3 of 4", run.Status, run.ShardsDone, run.Shards)
		}
		table := runFactorgate(t, exe, env, "history", "list", "--db", dsn)
		line := regexp.MustCompile(fmt.Sprintf(`(?m)^%d +\S+ \S+ +3 of 4 shards `, run.ID))
		if !line.MatchString(table) {
			t.Errorf("history list does not say the run %d has 3 of 4 shards:\n%s", run.ID, table)
		}
		stderr := failFactorgate(t, exe, env, "history", "show", fmt.Sprint(run.ID), "--db", dsn, "--format", "json")
		wantErr := fmt.Sprintf("factorgate: run %d (audit job-2) has 3 of 4 shards recorded in ", run.ID)
		if !strings.HasPrefix(stderr, wantErr) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("history show of the partial run: stderr %q, want one line beginning %q", stderr, wantErr)
		}
		job1 := auditRun(t, exe, env, dsn, "job-1")
		stderr = failFactorgate(t, exe, env, "diff", fmt.Sprint(job1.ID), fmt.Sprint(run.ID), "--db", dsn)
		if !strings.HasPrefix(stderr, wantErr) {
			t.Errorf("diff with the partial run: stderr %q, want %q...", stderr, wantErr)
		}
		// latest is the newest complete run: job-1's, not the partial one.
		latest := readReportText(t, runFactorgate(t, exe, env, "history", "show", "latest", "--db", dsn, "--format", "json"))
		if got := len(latest.Decisions); got != len(hosts) {
			t.Errorf("history show latest while job-2 is partial: %d hosts, want job-1's %d", got, len(hosts))
		}

		reports = append(reports, runShards(t, exe, env, dsn, inv, dir, "job-2", 4, 4)...)
		checkShardReports(t, reports, hosts)
		run = auditRun(t, exe, env, dsn, "job-2")
		checkCompleteRun(t, exe, env, dsn, run, 4, want, hosts)
		// Complete, it is compared: the same fleet, nothing changed.
		out := runFactorgate(t, exe, env, "diff", fmt.Sprint(job1.ID), fmt.Sprint(run.ID), "--db", dsn, "--format", "json")
		var d struct {
			From, To                int64
			Changed, Added, Removed []json.RawMessage
			Appeared, Fixed, Events []json.RawMessage
		}
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("diff --format json: %v\n%s", err, out)
		}
		if d.From != job1.ID || d.To != run.ID || len(d.Changed)+len(d.Added)+len(d.Removed)+len(d.Appeared)+len(d.Fixed)+len(d.Events) > 0 {
			t.Errorf("diff %d %d between two sharded runs of one fleet: want runs %d to %d and no change:\n%s", job1.ID, run.ID, job1.ID, run.ID, out)
		}
	})
}

// runShards runs shards ks of n of audit id as concurrent check processes
// recording into dsn, and returns their JSON reports.
func runShards(t *testing.T, exe string, env []string, dsn, inv, dir, id string, n int, ks ...int) []*contract.Report {
	t.Helper()
	reports := make([]*contract.Report, len(ks))
	errs := make([]string, len(ks))
	var wg sync.WaitGroup
	for i, k := range ks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := filepath.Join(dir, fmt.Sprintf("%s-%d-of-%d.json", id, k, n))
			shard := fmt.Sprintf("%d/%d", k, n)
			stdout, stderr, err := execFactorgate(exe, env, "check", "-i", inv, "--no-ssh-config", "--record", "--db", dsn,
				"--fail-on", "none", "--shard", shard, "--audit-id", id, "--format", "json", "-o", out)
			switch {
			case err != nil:
				errs[i] = fmt.Sprintf("shard %s: %v\nstdout: %s\nstderr: %s", shard, err, stdout, stderr)
				return
			case !regexp.MustCompile(fmt.Sprintf(`(?m)^factorgate: recorded shard %s \(\d+ hosts\) of run \d+ in `, regexp.QuoteMeta(shard))).MatchString(stderr):
				errs[i] = fmt.Sprintf("shard %s does not say it recorded its shard:\n%s", shard, stderr)
				return
			}
			b, err := os.ReadFile(out)
			if err != nil {
				errs[i] = err.Error()
				return
			}
			var r contract.Report
			if err := json.Unmarshal(b, &r); err != nil {
				errs[i] = fmt.Sprintf("shard %s: %s: %v", shard, out, err)
				return
			}
			reports[i] = &r
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Fatal(e)
		}
	}
	return reports
}

// checkShardReports checks that the shards' reports hold every host once
// between them.
func checkShardReports(t *testing.T, reports []*contract.Report, hosts []string) {
	t.Helper()
	seen := map[string]int{}
	for i, r := range reports {
		if len(r.Decisions) == 0 {
			t.Errorf("shard report %d holds no host", i+1)
		}
		for _, d := range r.Decisions {
			seen[d.Host]++
		}
	}
	for _, h := range hosts {
		if seen[h] != 1 {
			t.Errorf("host %s is in %d shard reports, want 1", h, seen[h])
		}
	}
	if len(seen) != len(hosts) {
		t.Errorf("the shard reports hold %d hosts, the inventory %d", len(seen), len(hosts))
	}
}

// auditRun returns the one run of audit id that history list shows.
func auditRun(t *testing.T, exe string, env []string, dsn, id string) shardRun {
	t.Helper()
	var runs []shardRun
	out := runFactorgate(t, exe, env, "history", "list", "--db", dsn, "--format", "json", "--limit", "0")
	if err := json.Unmarshal([]byte(out), &runs); err != nil {
		t.Fatalf("history list --format json: %v\n%s", err, out)
	}
	var found []shardRun
	for _, r := range runs {
		if r.AuditID == id {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("history list holds %d runs of audit %s, want 1:\n%s", len(found), id, out)
	}
	return found[0]
}

// checkCompleteRun checks that run, of n shards, is complete, holds every
// host once, and gives each host the status of want.
func checkCompleteRun(t *testing.T, exe string, env []string, dsn string, run shardRun, n int, want map[string]contract.Status, hosts []string) {
	t.Helper()
	if run.Status != "ok" || run.Shards != n || run.ShardsDone != n || run.Source != "check" {
		t.Errorf("run %d: status %q, %d of %d shards, source %q; want ok, %d of %d, check", run.ID, run.Status, run.ShardsDone, run.Shards, run.Source, n, n)
	}
	if run.Hosts != len(hosts) {
		t.Errorf("run %d counts %d hosts, the inventory holds %d", run.ID, run.Hosts, len(hosts))
	}
	wantCounts := map[contract.Status]int{}
	for _, s := range want {
		wantCounts[s]++
	}
	for _, s := range contract.Statuses {
		if run.Counts[s] != wantCounts[s] {
			t.Errorf("run %d counts %d %s, the unsharded check %d", run.ID, run.Counts[s], s, wantCounts[s])
		}
	}
	r := readReportText(t, runFactorgate(t, exe, env, "history", "show", fmt.Sprint(run.ID), "--db", dsn, "--format", "json"))
	got := hostStatuses(t, fmt.Sprintf("run %d", run.ID), r, hosts)
	for _, h := range hosts {
		if got[h] != want[h] {
			t.Errorf("run %d: host %s is %s, the unsharded check says %s", run.ID, h, got[h], want[h])
		}
	}
}

// hostStatuses returns the status of each host of r, failing t unless r
// holds every host of hosts once, and no other.
func hostStatuses(t *testing.T, what string, r *contract.Report, hosts []string) map[string]contract.Status {
	t.Helper()
	st := map[string]contract.Status{}
	for _, d := range r.Decisions {
		if _, ok := st[d.Host]; ok {
			t.Errorf("%s: host %s is there twice", what, d.Host)
		}
		st[d.Host] = d.Status
	}
	for _, h := range hosts {
		if _, ok := st[h]; !ok {
			t.Errorf("%s: host %s is missing", what, h)
		}
	}
	if len(st) != len(hosts) {
		t.Errorf("%s holds %d hosts, the inventory %d", what, len(st), len(hosts))
	}
	return st
}

func distinct(m map[string]contract.Status) []contract.Status {
	var out []contract.Status
	for _, v := range m {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

func readReport(t *testing.T, path string) *contract.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return readReportText(t, string(b))
}

func readReportText(t *testing.T, s string) *contract.Report {
	t.Helper()
	var r contract.Report
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("not a JSON report: %v\n%s", err, s)
	}
	return &r
}

// execFactorgate runs `factorgate ARGS` in env, bounded by shardWait.
func execFactorgate(exe string, env []string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), shardWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// runFactorgate runs `factorgate ARGS` and returns its stdout, failing t
// unless it exits 0.
func runFactorgate(t *testing.T, exe string, env []string, args ...string) string {
	t.Helper()
	stdout, stderr, err := execFactorgate(exe, env, args...)
	if err != nil {
		t.Fatalf("factorgate %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr)
	}
	return stdout
}

// failFactorgate runs `factorgate ARGS`, which must fail with exit 1 or
// 2, and returns its stderr.
func failFactorgate(t *testing.T, exe string, env []string, args ...string) string {
	t.Helper()
	stdout, stderr, err := execFactorgate(exe, env, args...)
	if err == nil {
		t.Fatalf("factorgate %s succeeded, want an error\nstdout: %s", strings.Join(args, " "), stdout)
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() < 1 || ee.ExitCode() > 2 {
		t.Fatalf("factorgate %s: %v, want exit 1 or 2\nstderr: %s", strings.Join(args, " "), err, stderr)
	}
	return stderr
}

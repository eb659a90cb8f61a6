// Package history keeps the audit runs of factorgate and finds the drift
// between two of them.
//
// Open a [Store] with [Open]: a file path (or `sqlite:PATH`) keeps the history
// in an SQLite file, a `postgres://` or `postgresql://` URL in PostgreSQL. Both
// backends sit behind the same API and pass the same tests.
//
// # Recording a run
//
// A run is begun with [Store.BeginRun], which returns its [RunID]; hosts may be
// streamed in with [Store.AddHost] as they are judged, and the run is closed
// with [Store.FinishRun], which records the remaining hosts, the counts by
// status and the outcome. [Store.Record] does both for a run that is already
// complete. A run still "running" when its process died is closed by
// [Store.InterruptStale]; old runs are deleted by [Store.Prune].
//
// # Shards
//
// An audit split into N shards (shard K of N, each run by its own process)
// records into one run: each shard calls [Store.RecordShard] with the
// audit's ID and its [Shard]. The run is complete, and seen by
// [Store.Latest], drift and metrics, once all N shards are in; until then
// it is running and [Run.StatusText] says "3 of 4 shards". A shard
// recorded again replaces itself.
//
// # Reading runs back
//
// [Store.ListRuns] lists runs newest first without their hosts;
// [Store.GetRun] and [Store.Latest] return one run with its [contract.Report]
// and Facts; [Store.Resolve] turns what a user typed ("12", "latest",
// "previous") into a [RunID].
//
// # Drift
//
// [Diff] compares two runs: hosts whose status changed, violations that
// appeared, changed their message and were fixed, hosts added and removed,
// and the drift [Event]s an operator is alerted on (a host entered
// enabled_ineligible, fell from eligible, or disappeared).
package history

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/factorgate/factorgate/contract"
)

// RunID names one run. Users see it as a short integer.
type RunID int64

// String returns the ID as users type it.
func (id RunID) String() string { return strconv.FormatInt(int64(id), 10) }

// Status is how a run ended.
type Status string

// The statuses of a run.
const (
	// StatusRunning is a run begun and not yet finished.
	StatusRunning Status = "running"
	// StatusOK is a run that judged every host it could reach.
	StatusOK Status = "ok"
	// StatusFailed is a run that could not do its job (bad inventory, bad
	// policy, no credentials).
	StatusFailed Status = "failed"
	// StatusInterrupted is a run stopped before it finished: the process was
	// told to stop, or died.
	StatusInterrupted Status = "interrupted"
)

// ErrNotFound is returned by [Store.GetRun], [Store.Latest], [Store.Resolve]
// and [Store.Previous] when no run matches.
var ErrNotFound = errors.New("run not found")

// ErrBadRun is returned by [Store.Resolve] for what names no run: neither a
// run number nor latest or previous.
var ErrBadRun = errors.New("want a run number, latest or previous")

// Meta is what is known of a run when it begins.
type Meta struct {
	// StartedAt is when the run began; zero means now.
	StartedAt time.Time
	// Inventory is the inventory file the run audits, as the user named it.
	Inventory string
	// InventoryDigest is the hex SHA-256 of the inventory file, if known.
	InventoryDigest string
	// Source says what started the run: "check", "serve", "import".
	Source string
	// ScheduledAt is the tick of the schedule the run is for, when a
	// schedule started it (see [Store.ClaimTick]); zero for none.
	ScheduledAt time.Time
}

// Result is what a run produced, handed to [Store.FinishRun].
type Result struct {
	// Facts are the hosts' facts. Facts of a host without a decision are
	// not kept.
	Facts []contract.Facts
	// Decisions are the verdicts, one per host.
	Decisions []contract.Decision
	// NotScanned are hosts the cloud knows that the inventory lacks.
	NotScanned []contract.CloudHost
	// Inventory and InventoryDigest, when set, replace those of [Meta]
	// (the digest is often known only once the inventory is loaded).
	Inventory       string
	InventoryDigest string
	// Err is why the run did not finish: nil is [StatusOK], an error that
	// wraps context.Canceled is [StatusInterrupted], any other [StatusFailed].
	Err error
	// FinishedAt is when the run ended; zero means now.
	FinishedAt time.Time
}

// Run is one stored run.
type Run struct {
	ID        RunID     `json:"id"`
	StartedAt time.Time `json:"started_at"`
	// FinishedAt is nil while the run is running.
	FinishedAt      *time.Time `json:"finished_at"`
	Inventory       string     `json:"inventory"`
	InventoryDigest string     `json:"inventory_digest"`
	Source          string     `json:"source"`
	Status          Status     `json:"status"`
	// Error is why the run failed or was interrupted, in one line.
	Error string `json:"error,omitempty"`
	// Duration is how long the run took; zero while running.
	Duration time.Duration `json:"-"`
	// Hosts is the number of hosts judged.
	Hosts int `json:"hosts"`
	// Counts is the number of hosts of each status, every status present.
	Counts map[contract.Status]int `json:"counts"`
	// Report holds the decisions, sorted by host. It is nil in the runs
	// [Store.ListRuns] returns.
	Report *contract.Report `json:"-"`
	// Facts holds the facts kept with the decisions, sorted by host. It is
	// nil in the runs [Store.ListRuns] returns.
	Facts []contract.Facts `json:"-"`
	// AuditID names the audit whose shards make the run, empty for a run
	// recorded whole (see [Store.RecordShard]).
	AuditID string `json:"audit_id,omitempty"`
	// Shards is how many shards make the run (N), zero for a run recorded
	// whole; ShardsDone is how many are recorded. A sharded run is
	// "running" until every shard is in.
	Shards     int `json:"shards,omitempty"`
	ShardsDone int `json:"shards_done,omitempty"`
	// ScheduledAt is the tick of the schedule the run is for, if any.
	ScheduledAt *time.Time `json:"scheduled_at,omitempty"`
}

// Partial reports whether r is a sharded run some of whose shards are not
// recorded yet: it is shown, diffed and counted once they all are.
func (r *Run) Partial() bool { return r.Shards > 0 && r.ShardsDone < r.Shards }

// StatusText is the run's status as people read it: "3 of 4 shards" for a
// sharded run not yet complete, else its status.
func (r *Run) StatusText() string {
	if r.Partial() {
		return fmt.Sprintf("%d of %d shards", r.ShardsDone, r.Shards)
	}
	return string(r.Status)
}

// MarshalJSON writes a run with its duration in seconds.
func (r Run) MarshalJSON() ([]byte, error) {
	type plain Run
	return json.Marshal(struct {
		plain
		DurationSeconds float64 `json:"duration_seconds"`
	}{plain(r), r.Duration.Seconds()})
}

// statusColumns maps each decision status to its count column.
var statusColumns = map[contract.Status]string{
	contract.StatusEligible:          "eligible",
	contract.StatusEnabled:           "enabled",
	contract.StatusIneligible:        "ineligible",
	contract.StatusEnabledIneligible: "enabled_ineligible",
	contract.StatusUnreachable:       "unreachable",
}

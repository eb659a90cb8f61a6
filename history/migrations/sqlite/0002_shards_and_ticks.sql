-- Shards of one audit recorded into one run, and the schedule ticks that
-- replicas of serve claim so that each runs once.
ALTER TABLE runs ADD COLUMN audit_id TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN shards INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN shards_done INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN scheduled_at TEXT;

CREATE UNIQUE INDEX runs_audit_id ON runs (audit_id) WHERE audit_id <> '';

ALTER TABLE run_hosts ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;

CREATE TABLE run_shards (
	run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	shard       INTEGER NOT NULL,
	started_at  TEXT    NOT NULL,
	finished_at TEXT    NOT NULL,
	status      TEXT    NOT NULL CHECK (status IN ('ok', 'failed', 'interrupted')),
	error       TEXT    NOT NULL DEFAULT '',
	hosts       INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (run_id, shard)
);

CREATE TABLE schedule_ticks (
	schedule_key TEXT NOT NULL,
	tick_at      TEXT NOT NULL,
	claimed_at   TEXT NOT NULL,
	PRIMARY KEY (schedule_key, tick_at)
);

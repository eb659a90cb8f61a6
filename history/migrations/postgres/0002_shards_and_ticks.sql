-- Shards of one audit recorded into one run, and the schedule ticks that
-- replicas of serve claim so that each runs once.
ALTER TABLE runs ADD COLUMN audit_id TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN shards INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN shards_done INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN scheduled_at TIMESTAMPTZ;

CREATE UNIQUE INDEX runs_audit_id ON runs (audit_id) WHERE audit_id <> '';

ALTER TABLE run_hosts ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;

CREATE TABLE run_shards (
	run_id      BIGINT      NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	shard       INTEGER     NOT NULL,
	started_at  TIMESTAMPTZ NOT NULL,
	finished_at TIMESTAMPTZ NOT NULL,
	status      TEXT        NOT NULL CHECK (status IN ('ok', 'failed', 'interrupted')),
	error       TEXT        NOT NULL DEFAULT '',
	hosts       INTEGER     NOT NULL DEFAULT 0,
	PRIMARY KEY (run_id, shard)
);

CREATE TABLE schedule_ticks (
	schedule_key TEXT        NOT NULL,
	tick_at      TIMESTAMPTZ NOT NULL,
	claimed_at   TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (schedule_key, tick_at)
);

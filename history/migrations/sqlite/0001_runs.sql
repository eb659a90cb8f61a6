-- Runs and the hosts judged in each.
CREATE TABLE runs (
	id                 INTEGER PRIMARY KEY AUTOINCREMENT,
	started_at         TEXT    NOT NULL,
	finished_at        TEXT,
	inventory          TEXT    NOT NULL DEFAULT '',
	inventory_digest   TEXT    NOT NULL DEFAULT '',
	source             TEXT    NOT NULL DEFAULT '',
	status             TEXT    NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'interrupted')),
	error              TEXT    NOT NULL DEFAULT '',
	duration_ms        INTEGER NOT NULL DEFAULT 0,
	hosts              INTEGER NOT NULL DEFAULT 0,
	eligible           INTEGER NOT NULL DEFAULT 0,
	enabled            INTEGER NOT NULL DEFAULT 0,
	ineligible         INTEGER NOT NULL DEFAULT 0,
	enabled_ineligible INTEGER NOT NULL DEFAULT 0,
	unreachable        INTEGER NOT NULL DEFAULT 0,
	not_scanned        TEXT
);

CREATE INDEX runs_status_id ON runs (status, id);

CREATE TABLE run_hosts (
	run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	host     TEXT    NOT NULL,
	status   TEXT    NOT NULL,
	facts    TEXT,
	decision TEXT    NOT NULL,
	PRIMARY KEY (run_id, host)
);

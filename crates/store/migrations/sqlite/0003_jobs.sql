-- Jobs shared by several processes: each running job is held under a lease (its worker renews
-- `lease_until` while it works; once expired, another worker takes the job over), failed jobs
-- wait for their retry in the `scheduled` state (`run_at`), and a schedule's tick makes exactly
-- one job, whichever process sees it first (`dedupe_key`).
ALTER TABLE stocksync_tasks ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stocksync_tasks ADD COLUMN run_at TEXT;
ALTER TABLE stocksync_tasks ADD COLUMN worker TEXT;
ALTER TABLE stocksync_tasks ADD COLUMN lease_until TEXT;
ALTER TABLE stocksync_tasks ADD COLUMN dedupe_key TEXT;
-- What the job works on, as JSON (the products a webhook named).
ALTER TABLE stocksync_tasks ADD COLUMN payload TEXT;
CREATE UNIQUE INDEX stocksync_tasks_dedupe ON stocksync_tasks (dedupe_key);

-- Named leases (one outbox pusher per account across processes).
CREATE TABLE stocksync_leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- One row per schedule (`sync:<account>`, `reconcile`): the last tick acted on, by any process,
-- and the ticks skipped because a run of the same work was still going or the POS budget asked
-- for a longer wait.
CREATE TABLE stocksync_schedules (
    name TEXT PRIMARY KEY,
    last_tick TEXT NOT NULL,
    last_fired TEXT,
    skipped_overlap INTEGER NOT NULL DEFAULT 0,
    skipped_budget INTEGER NOT NULL DEFAULT 0
);

-- Jobs an earlier version left running (it re-queued them at start-up) have no lease to expire:
-- queue them again.
UPDATE stocksync_tasks SET state = 'enqueued', started_at = NULL WHERE state = 'running';

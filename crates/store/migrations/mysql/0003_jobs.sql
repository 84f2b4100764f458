-- Jobs shared by several processes: each running job is held under a lease (its worker renews
-- `lease_until` while it works; once expired, another worker takes the job over), failed jobs
-- wait for their retry in the `scheduled` state (`run_at`), and a schedule's tick makes exactly
-- one job, whichever process sees it first (`dedupe_key`).
ALTER TABLE stocksync_tasks
    ADD COLUMN attempts INT NOT NULL DEFAULT 0,
    ADD COLUMN run_at DATETIME(6) NULL,
    ADD COLUMN worker VARCHAR(191) NULL,
    ADD COLUMN lease_until DATETIME(6) NULL,
    ADD COLUMN dedupe_key VARCHAR(255) NULL,
    -- What the job works on, as JSON (the products a webhook named).
    ADD COLUMN payload MEDIUMTEXT NULL,
    ADD UNIQUE KEY stocksync_tasks_dedupe (dedupe_key);

-- Claims of jobs are serialised on this row, so that two processes never start two jobs of the
-- same account at once.
CREATE TABLE stocksync_locks (
    name VARCHAR(64) NOT NULL PRIMARY KEY
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
INSERT INTO stocksync_locks (name) VALUES ('jobs');

-- Named leases (one outbox pusher per account across processes).
CREATE TABLE stocksync_leases (
    name VARCHAR(255) NOT NULL PRIMARY KEY,
    owner VARCHAR(191) NOT NULL,
    expires_at DATETIME(6) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- One row per schedule (`sync:<account>`, `reconcile`): the last tick acted on, by any process,
-- and the ticks skipped because a run of the same work was still going or the POS budget asked
-- for a longer wait.
CREATE TABLE stocksync_schedules (
    name VARCHAR(255) NOT NULL PRIMARY KEY,
    last_tick DATETIME(6) NOT NULL,
    last_fired DATETIME(6) NULL,
    skipped_overlap BIGINT NOT NULL DEFAULT 0,
    skipped_budget BIGINT NOT NULL DEFAULT 0
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Jobs an earlier version left running (it re-queued them at start-up) have no lease to expire:
-- queue them again.
UPDATE stocksync_tasks SET state = 'enqueued', started_at = NULL WHERE state = 'running';

-- Setting names carry an account id (up to 191 characters), as in `schedule.cron.<account>`.
ALTER TABLE stocksync_settings MODIFY name VARCHAR(255) NOT NULL;

-- The original program's `stock` table (one row per link). When it already exists (a database
-- taken over from the original program) its rows are kept and its columns brought to these types.
CREATE TABLE IF NOT EXISTS stock (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    idProductPOS VARCHAR(191) NOT NULL,
    idProductEcommerce VARCHAR(191) NOT NULL,
    quantity BIGINT NOT NULL DEFAULT 0,
    accountID VARCHAR(191) NOT NULL,
    description VARCHAR(512) NOT NULL DEFAULT '',
    limitQuantity BIGINT NOT NULL DEFAULT 0
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The original's columns may hold NULLs where ours do not.
UPDATE stock SET quantity = 0 WHERE quantity IS NULL;
UPDATE stock SET description = '' WHERE description IS NULL;
UPDATE stock SET limitQuantity = 0 WHERE limitQuantity IS NULL;

ALTER TABLE stock
    MODIFY id BIGINT NOT NULL AUTO_INCREMENT,
    MODIFY idProductPOS VARCHAR(191) NOT NULL,
    MODIFY idProductEcommerce VARCHAR(191) NOT NULL,
    MODIFY quantity BIGINT NOT NULL DEFAULT 0,
    MODIFY accountID VARCHAR(191) NOT NULL,
    MODIFY description VARCHAR(512) NOT NULL DEFAULT '',
    MODIFY limitQuantity BIGINT NOT NULL DEFAULT 0;

-- Fails with a duplicate-entry error if the original table links one POS product twice:
-- remove the extra rows, then start again.
ALTER TABLE stock ADD UNIQUE KEY stock_account_pos (accountID, idProductPOS);
ALTER TABLE stock ADD KEY stock_ecommerce (idProductEcommerce);

-- The link a shop item's web sales go to first, when it has several (at most one per item).
CREATE TABLE stocksync_primary_links (
    link_id BIGINT NOT NULL PRIMARY KEY
) ENGINE = InnoDB;

CREATE TABLE stocksync_observations (
    link_id BIGINT NOT NULL PRIMARY KEY,
    pos_quantity BIGINT NOT NULL,
    observed_at DATETIME(6) NOT NULL,
    counted_at DATETIME(6) NULL
) ENGINE = InnoDB;

CREATE TABLE stocksync_sales (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    idempotency_key VARCHAR(191) NULL,
    link_id BIGINT NOT NULL,
    item_ecommerce_id VARCHAR(191) NOT NULL,
    account_id VARCHAR(191) NOT NULL,
    pos_ref VARCHAR(191) NOT NULL,
    delta BIGINT NOT NULL,
    balance_cents BIGINT NOT NULL,
    state VARCHAR(16) NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT NULL,
    pos_reference VARCHAR(191) NULL,
    next_attempt_at DATETIME(6) NULL,
    confirmed_at DATETIME(6) NULL,
    restored BOOLEAN NOT NULL DEFAULT FALSE,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    UNIQUE KEY sales_idempotency (idempotency_key),
    KEY sales_state (state, link_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE stocksync_ledger (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    link_id BIGINT NOT NULL,
    at DATETIME(6) NOT NULL,
    reason VARCHAR(32) NOT NULL,
    quantity_before BIGINT NOT NULL,
    quantity_after BIGINT NOT NULL,
    sale_id VARCHAR(36) NULL,
    pos_ref VARCHAR(191) NOT NULL,
    detail TEXT NULL,
    KEY ledger_link (link_id, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE stocksync_tasks (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    kind VARCHAR(32) NOT NULL,
    account_id VARCHAR(191) NULL,
    state VARCHAR(16) NOT NULL,
    summary TEXT NULL,
    result MEDIUMTEXT NULL,
    error TEXT NULL,
    created_at DATETIME(6) NOT NULL,
    started_at DATETIME(6) NULL,
    finished_at DATETIME(6) NULL,
    KEY tasks_state (state, created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE stocksync_settings (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE stocksync_webhook_events (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    source VARCHAR(16) NOT NULL,
    account_id VARCHAR(191) NOT NULL,
    event_id VARCHAR(191) NULL,
    received_at DATETIME(6) NOT NULL,
    body MEDIUMTEXT NOT NULL,
    UNIQUE KEY stocksync_webhook_event (source, account_id, event_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

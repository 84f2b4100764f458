-- The original program's `stock` table (one row per link), unique per POS product and account.
CREATE TABLE IF NOT EXISTS stock (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idProductPOS TEXT NOT NULL,
    idProductEcommerce TEXT NOT NULL,
    quantity INTEGER NOT NULL DEFAULT 0,
    accountID TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    limitQuantity INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX stock_account_pos ON stock (accountID, idProductPOS);
CREATE INDEX stock_ecommerce ON stock (idProductEcommerce);

-- The link a shop item's web sales go to first, when it has several (at most one per item).
CREATE TABLE stocksync_primary_links (
    link_id INTEGER NOT NULL PRIMARY KEY
);

-- The last count read from the POS for each link.
CREATE TABLE stocksync_observations (
    link_id INTEGER PRIMARY KEY,
    pos_quantity INTEGER NOT NULL,
    observed_at TEXT NOT NULL,
    counted_at TEXT
);

-- Web sales: accepted durably, then pushed to the POS (the outbox).
CREATE TABLE stocksync_sales (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT UNIQUE,
    link_id INTEGER NOT NULL,
    item_ecommerce_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    pos_ref TEXT NOT NULL,
    delta INTEGER NOT NULL,
    balance_cents INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    pos_reference TEXT,
    -- When the outbox may try again (NULL: at once).
    next_attempt_at TEXT,
    -- When the POS answered that it recorded the sale.
    confirmed_at TEXT,
    -- Whether the units were put back in the shop because the POS refused the sale for good.
    restored INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX stocksync_sales_state ON stocksync_sales (state, link_id);

-- Every stock movement of every link, append-only.
CREATE TABLE stocksync_ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    link_id INTEGER NOT NULL,
    at TEXT NOT NULL,
    reason TEXT NOT NULL,
    quantity_before INTEGER NOT NULL,
    quantity_after INTEGER NOT NULL,
    sale_id TEXT,
    pos_ref TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX stocksync_ledger_link ON stocksync_ledger (link_id, id);

-- Asynchronous tasks (`/api/itemstask/{id}`).
CREATE TABLE stocksync_tasks (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    -- The one account a sync is for (all accounts when NULL).
    account_id TEXT,
    state TEXT NOT NULL,
    summary TEXT,
    result TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX stocksync_tasks_state ON stocksync_tasks (state, created_at);

-- Small named values that must survive a restart (the synchronizer's started/stopped state).
CREATE TABLE stocksync_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Webhook notifications as received (raw), so they can be looked at and replayed.
CREATE TABLE stocksync_webhook_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    account_id TEXT NOT NULL,
    -- The sender's own event id, when it has one (Square's event_id): duplicates are dropped.
    event_id TEXT,
    received_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX stocksync_webhook_event ON stocksync_webhook_events (source, account_id, event_id);

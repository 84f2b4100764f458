-- The shop platform (WooCommerce, …) reached through its API: what stocksync wants each shop
-- item to show, what the shop last said it has, and the push that brings one to the other.
-- Written in the transaction of every change of a link's quantity or limit (`mirror_to_shop`);
-- one row per item, so a value not yet pushed is replaced by the newer one (coalesced).
CREATE TABLE stocksync_shop_items (
    item_ecommerce_id TEXT PRIMARY KEY,
    -- What the platform needs besides the id (WooCommerce: a variation's parent product).
    locator TEXT NULL,
    -- Sum over the item's links of max(0, quantity - limitQuantity).
    wanted INTEGER NOT NULL,
    -- The shop's quantity as last read or written; NULL: read it before writing.
    shop_quantity INTEGER NULL,
    -- 1 while wanted <> shop_quantity (or the shop's quantity is unknown).
    due INTEGER NOT NULL,
    -- The shop does not track this item's stock: reported, never written.
    unmanaged INTEGER NOT NULL DEFAULT 0,
    -- The shop's quantity before stocksync first wrote it is in the ledger.
    adopted INTEGER NOT NULL DEFAULT 0,
    -- Bumped at every change of what stocksync knows the shop has (shop_quantity, unmanaged):
    -- a reconciliation records what it read only if nothing newer was learnt meanwhile.
    shop_version INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NULL,
    last_error TEXT NULL,
    -- When wanted last changed, and when the shop last took a write.
    changed_at TEXT NOT NULL,
    pushed_at TEXT NULL
);
CREATE INDEX stocksync_shop_items_due ON stocksync_shop_items (due, next_attempt_at);

-- Every order line seen, with the units it has taken from the POS so far (`applied`, through
-- web sales and returns keyed shop:<kind>:<order>:<line>:<move>): a line seen again moves only
-- by the difference between what it owes now and what it took.
CREATE TABLE stocksync_shop_lines (
    order_id TEXT NOT NULL,
    line_id TEXT NOT NULL,
    item_ecommerce_id TEXT NOT NULL,
    applied INTEGER NOT NULL,
    moves INTEGER NOT NULL,
    -- 1: the line was first seen while no link fed its item; it never moved the POS and never
    -- will (a cancellation after a later link must not return a sale the POS never got).
    unlinked INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (order_id, line_id)
);

-- How far the shop's orders have been read: the newest modification seen, from which the next
-- poll starts (less an overlap); and when stocksync was first connected to the shop (orders
-- placed before are not stocksync's to send to the POS).
CREATE TABLE stocksync_shop_state (
    shop TEXT PRIMARY KEY,
    watermark TEXT NULL,
    connected_at TEXT NULL,
    last_poll_at TEXT NULL,
    last_order_at TEXT NULL,
    last_error TEXT NULL
);

-- What a merchant must hear of: an order line the stock no longer covered (oversold), a line of
-- an item no link feeds, an item the shop does not track, a write the shop refused.
CREATE TABLE stocksync_shop_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    item_ecommerce_id TEXT NOT NULL,
    order_id TEXT NULL,
    units INTEGER NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX stocksync_shop_events_kind ON stocksync_shop_events (kind, id);

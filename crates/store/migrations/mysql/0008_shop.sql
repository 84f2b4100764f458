-- The shop platform (WooCommerce, …) reached through its API: what stocksync wants each shop
-- item to show, what the shop last said it has, and the push that brings one to the other.
-- Written in the transaction of every change of a link's quantity or limit (`mirror_to_shop`);
-- one row per item, so a value not yet pushed is replaced by the newer one (coalesced).
CREATE TABLE stocksync_shop_items (
    item_ecommerce_id VARCHAR(191) NOT NULL PRIMARY KEY,
    -- What the platform needs besides the id (WooCommerce: a variation's parent product).
    locator VARCHAR(191) NULL,
    -- Sum over the item's links of max(0, quantity - limitQuantity).
    wanted BIGINT NOT NULL,
    -- The shop's quantity as last read or written; NULL: read it before writing.
    shop_quantity BIGINT NULL,
    -- 1 while wanted <> shop_quantity (or the shop's quantity is unknown).
    due TINYINT NOT NULL,
    -- The shop does not track this item's stock: reported, never written.
    unmanaged TINYINT NOT NULL DEFAULT 0,
    -- The shop's quantity before stocksync first wrote it is in the ledger.
    adopted TINYINT NOT NULL DEFAULT 0,
    -- Bumped at every change of what stocksync knows the shop has (shop_quantity, unmanaged):
    -- a reconciliation records what it read only if nothing newer was learnt meanwhile.
    shop_version BIGINT NOT NULL DEFAULT 0,
    attempts INT NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6) NULL,
    last_error TEXT NULL,
    -- When wanted last changed, and when the shop last took a write.
    changed_at DATETIME(6) NOT NULL,
    pushed_at DATETIME(6) NULL,
    KEY stocksync_shop_items_due (due, next_attempt_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Every order line seen, with the units it has taken from the POS so far (`applied`, through
-- web sales and returns keyed shop:<kind>:<order>:<line>:<move>): a line seen again moves only
-- by the difference between what it owes now and what it took.
CREATE TABLE stocksync_shop_lines (
    order_id VARCHAR(64) NOT NULL,
    line_id VARCHAR(64) NOT NULL,
    item_ecommerce_id VARCHAR(191) NOT NULL,
    applied BIGINT NOT NULL,
    moves INT NOT NULL,
    -- 1: the line was first seen while no link fed its item; it never moved the POS and never
    -- will (a cancellation after a later link must not return a sale the POS never got).
    unlinked TINYINT NOT NULL DEFAULT 0,
    status VARCHAR(32) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (order_id, line_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- How far the shop's orders have been read: the newest modification seen, from which the next
-- poll starts (less an overlap); and when stocksync was first connected to the shop (orders
-- placed before are not stocksync's to send to the POS).
CREATE TABLE stocksync_shop_state (
    shop VARCHAR(32) NOT NULL PRIMARY KEY,
    watermark DATETIME(6) NULL,
    connected_at DATETIME(6) NULL,
    last_poll_at DATETIME(6) NULL,
    last_order_at DATETIME(6) NULL,
    last_error TEXT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- What a merchant must hear of: an order line the stock no longer covered (oversold), a line of
-- an item no link feeds, an item the shop does not track, a write the shop refused.
CREATE TABLE stocksync_shop_events (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    at DATETIME(6) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    item_ecommerce_id VARCHAR(191) NOT NULL,
    order_id VARCHAR(64) NULL,
    units BIGINT NOT NULL,
    detail TEXT NOT NULL,
    KEY stocksync_shop_events_kind (kind, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

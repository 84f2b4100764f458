-- The sales listed newest first (GET /api/sales: `ORDER BY created_at DESC, id`), read in
-- order from an index with a state and without one, rather than sorting every sale.
-- (state, created_at) stays for the oldest sales of a state (the outbox).
CREATE INDEX stocksync_sales_state_listed ON stocksync_sales (state, created_at DESC, id);
CREATE INDEX stocksync_sales_listed ON stocksync_sales (created_at DESC, id);

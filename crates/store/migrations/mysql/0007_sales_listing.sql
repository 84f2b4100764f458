-- The sales listed newest first (GET /api/sales: `ORDER BY created_at DESC, id`), read in
-- order from an index with a state and without one, rather than sorting every sale.
-- sales_state_created (state, created_at) stays for the oldest sales of a state (the outbox).
ALTER TABLE stocksync_sales
    ADD KEY sales_state_listed (state, created_at DESC, id),
    ADD KEY sales_listed (created_at DESC, id);

-- Indexes for the queries that read sales, so that none scans the whole sales history.
-- What a sync subtracts (accepted, confirmed since its read began, dead), read while the
-- account's links are locked; also the products of recently confirmed sales and the outbox's
-- next sale of an account.
CREATE INDEX stocksync_sales_account_state ON stocksync_sales (account_id, state, confirmed_at);
-- A link's sales in flight, by its product (the link view, and each row of the dashboard).
CREATE INDEX stocksync_sales_product ON stocksync_sales (account_id, pos_ref, state);
-- The oldest sale in the outbox and the sales listed by state, newest first; replaces
-- (state, link_id), which no query reads by any more.
DROP INDEX stocksync_sales_state;
CREATE INDEX stocksync_sales_state_created ON stocksync_sales (state, created_at);
-- A POS budget's sales this month.
CREATE INDEX stocksync_sales_account_created ON stocksync_sales (account_id, created_at);

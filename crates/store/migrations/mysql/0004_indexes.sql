-- Indexes for the queries that read sales, so that none scans the whole sales history.
-- sales_account_state: what a sync subtracts (accepted, confirmed since its read began, dead),
-- read while the account's links are locked; also the products of recently confirmed sales and
-- the outbox's next sale of an account.
-- sales_product: a link's sales in flight, by its product (the link view, and each row of the
-- dashboard).
-- sales_state_created: the oldest sale in the outbox and the sales listed by state, newest
-- first; replaces sales_state (state, link_id), which no query reads by any more.
-- sales_account_created: a POS budget's sales this month.
ALTER TABLE stocksync_sales
    DROP KEY sales_state,
    ADD KEY sales_account_state (account_id, state, confirmed_at),
    ADD KEY sales_product (account_id, pos_ref, state),
    ADD KEY sales_state_created (state, created_at),
    ADD KEY sales_account_created (account_id, created_at);

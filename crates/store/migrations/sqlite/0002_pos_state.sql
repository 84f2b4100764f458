-- OAuth tokens as last rotated (Lightspeed refresh tokens are single-use).
CREATE TABLE stocksync_pos_tokens (
    account_id TEXT PRIMARY KEY,
    access_token TEXT NOT NULL,
    refresh_token TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Calls made to a POS per calendar month (Hiboutik's monthly quota).
CREATE TABLE stocksync_pos_calls (
    account_id TEXT NOT NULL,
    month TEXT NOT NULL,
    calls INTEGER NOT NULL,
    PRIMARY KEY (account_id, month)
);

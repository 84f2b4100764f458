-- Dashboard sessions: one row per login, keyed by the SHA-256 of its random token (the token
-- itself is only in the browser's cookie). Logging out deletes the row, so a copied cookie
-- stops working in every process sharing the database; expired rows are refused, and purged.
CREATE TABLE stocksync_sessions (
    token_hash TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX stocksync_sessions_expiry ON stocksync_sessions (expires_at);

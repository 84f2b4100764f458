-- Dashboard sessions: one row per login, keyed by the SHA-256 of its random token (the token
-- itself is only in the browser's cookie). Logging out deletes the row, so a copied cookie
-- stops working in every process sharing the database; expired rows are refused, and purged.
CREATE TABLE stocksync_sessions (
    token_hash CHAR(64) NOT NULL PRIMARY KEY,
    created_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    KEY stocksync_sessions_expiry (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

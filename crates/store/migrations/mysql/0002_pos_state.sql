-- OAuth tokens as last rotated (Lightspeed refresh tokens are single-use; they are long).
CREATE TABLE stocksync_pos_tokens (
    account_id VARCHAR(191) NOT NULL PRIMARY KEY,
    access_token TEXT NOT NULL,
    refresh_token TEXT NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Calls made to a POS per calendar month (Hiboutik's monthly quota).
CREATE TABLE stocksync_pos_calls (
    account_id VARCHAR(191) NOT NULL,
    month CHAR(7) NOT NULL,
    calls BIGINT NOT NULL,
    PRIMARY KEY (account_id, month)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

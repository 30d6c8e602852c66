-- Keys for third parties. Only a SHA-256 of each secret is stored (the
-- secrets are 256 random bits, so a fast hash is enough); the secret is
-- shown once, when the key is made.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    -- The first characters of the secret, to tell keys apart in lists.
    prefix TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    -- Space-separated: content:read, content:full.
    scopes TEXT NOT NULL,
    rate_limit_per_minute INTEGER NOT NULL CHECK (rate_limit_per_minute > 0),
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);

-- Requests per key per minute, shared by every node.
CREATE TABLE rate_limit_windows (
    bucket TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

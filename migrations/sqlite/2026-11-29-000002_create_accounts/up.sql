-- Accounts, their refresh-token sessions, and failed logins for throttling.

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    -- Trimmed and lower-cased by the application: one mailbox, one account.
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    -- An argon2id PHC string; never the password.
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reader', 'editor', 'admin')),
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- One row per refresh token ever issued. A login starts a family; each
-- refresh marks the presented token used and issues the next one in the same
-- family. Presenting a used token again revokes the whole family.
CREATE TABLE refresh_tokens (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family TEXT NOT NULL,
    -- SHA-256 of the token, hex; the token itself is never stored.
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- Failed logins, by account (`email:<address>`) and by client (`client:<ip>`),
-- kept in the database so that every node sees the same throttle.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_scope_idx ON login_failures (scope, failed_at);

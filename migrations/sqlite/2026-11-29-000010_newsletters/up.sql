-- Newsletters, their sign-ups (double opt-in), and the mail outbox.

CREATE TABLE newsletters (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

INSERT INTO newsletters (slug, name, description, created_at)
VALUES ('daily', 'The Daily Dispatch',
        'Our expressly international daily newsletter: the day''s translations from foreign outlets, every morning.',
        CURRENT_TIMESTAMP);

-- One row per address and newsletter. Tokens are stored as SHA-256 only:
-- the confirmation token is single-use and expires; the unsubscribe token
-- lasts as long as the sign-up.
CREATE TABLE newsletter_signups (
    id INTEGER PRIMARY KEY,
    newsletter_id BIGINT NOT NULL REFERENCES newsletters (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed')),
    confirm_token_hash TEXT UNIQUE,
    confirm_sent_at TIMESTAMP,
    unsubscribe_token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    unsubscribed_at TIMESTAMP,
    UNIQUE (newsletter_id, email)
);

-- Mail waiting to be sent. A worker on any node claims due rows, sends them
-- and marks them sent; a failure is retried later with a growing delay.
-- Nothing is deleted, so a restart loses nothing.
CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    -- For RFC 8058: the one-click unsubscribe URL, when the mail has one.
    unsubscribe_url TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);

-- Paid subscriptions, the idempotency keys that make starting one safe to
-- retry, and the payment processor's events already processed.

CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY,
    -- The id readers and the payment processor see: `sub_` and 32 hex digits.
    public_id TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- A plan in use is deactivated, never deleted.
    plan_id BIGINT NOT NULL REFERENCES plans (id),
    -- `test` or `webhook`: who takes the payments.
    provider TEXT NOT NULL,
    -- The state the last change left; what it is now also depends on the
    -- clock (see domain::subscription).
    status TEXT NOT NULL CHECK (status IN ('incomplete', 'active', 'past_due', 'canceled', 'expired')),
    current_period_start TIMESTAMP,
    current_period_end TIMESTAMP,
    cancel_at_period_end BOOLEAN NOT NULL DEFAULT FALSE,
    grace_until TIMESTAMP,
    last_payment_at TIMESTAMP,
    canceled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (current_period_end IS NULL OR current_period_end > current_period_start)
);
-- A reader's latest subscription is the one that counts.
CREATE INDEX subscriptions_by_user ON subscriptions (user_id, id);

-- The answer given to a request that carried an Idempotency-Key, so that a
-- retry gets the same answer. Keys are per user.
CREATE TABLE idempotency_keys (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    -- SHA-256 of the operation and its body: the same key with another body is refused.
    request_hash TEXT NOT NULL,
    response_status INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);

-- Each payment-processor event is processed once; a redelivery finds its id here.
CREATE TABLE payment_events (
    event_id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    -- What processing it did: applied, ignored (and why).
    outcome TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL
);

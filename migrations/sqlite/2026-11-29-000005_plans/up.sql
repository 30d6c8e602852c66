-- Subscription plans are data. A plan in use is deactivated, never deleted.
CREATE TABLE plans (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- The price in the currency's minor units (cents for USD).
    price_minor BIGINT NOT NULL CHECK (price_minor >= 0),
    -- ISO 4217, upper case.
    currency TEXT NOT NULL,
    billing_interval TEXT NOT NULL CHECK (billing_interval IN ('month', 'year')),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

INSERT INTO plans (code, name, price_minor, currency, billing_interval, active, created_at, updated_at)
VALUES
    ('monthly', 'Monthly', 290, 'USD', 'month', TRUE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('yearly', 'Yearly', 1990, 'USD', 'year', TRUE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);

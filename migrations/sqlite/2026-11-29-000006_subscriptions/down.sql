DROP TABLE payment_events;
DROP TABLE idempotency_keys;
DROP TABLE subscriptions;

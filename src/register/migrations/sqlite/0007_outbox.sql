-- Notifications: an outbox of deliveries, written in the transaction of the case they tell of,
-- and every attempt to send one. `status` is 'pending', 'delivered' or 'failed'; a pending row
-- is sent from `next_attempt_at` by whichever server holds its lease (`leased_until`, with the
-- `lease_token` it took it with). A row names its target; the address, format and secret are
-- the policy's in force when sent (`origin` only shows where it went), and the body is made from
-- the case when sent, so an erasure or retention reaches it too.
-- The same change as migrations/postgres.

CREATE TABLE delivery (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES moderation_case (id),
    event TEXT NOT NULL,
    target TEXT NOT NULL,
    origin TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    leased_until TEXT,
    lease_token INTEGER,
    delivered_at TEXT
);

CREATE INDEX delivery_due ON delivery (status, next_attempt_at);
CREATE INDEX delivery_case ON delivery (case_id);

CREATE TABLE delivery_attempt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES delivery (id),
    at TEXT NOT NULL,
    http_status INTEGER,
    error TEXT,
    millis INTEGER NOT NULL
);

CREATE INDEX delivery_attempt_delivery ON delivery_attempt (delivery_id);

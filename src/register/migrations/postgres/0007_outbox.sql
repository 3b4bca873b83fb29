-- Notifications: an outbox of deliveries, written in the transaction of the case they tell of,
-- and every attempt to send one. `status` is 'pending', 'delivered' or 'failed'; a pending row
-- is sent from `next_attempt_at` by whichever server holds its lease (`leased_until`, with the
-- `lease_token` it took it with). A row names its target; the address, format and secret are
-- the policy's in force when sent (`origin` only shows where it went), and the body is made from
-- the case when sent, so an erasure or retention reaches it too.
-- The same change as migrations/sqlite.

CREATE TABLE delivery (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES moderation_case (id),
    event TEXT NOT NULL,
    target TEXT NOT NULL,
    origin TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    leased_until TIMESTAMPTZ,
    lease_token BIGINT,
    delivered_at TIMESTAMPTZ
);

CREATE INDEX delivery_due ON delivery (status, next_attempt_at);
CREATE INDEX delivery_case ON delivery (case_id);

CREATE TABLE delivery_attempt (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES delivery (id),
    at TIMESTAMPTZ NOT NULL,
    http_status BIGINT,
    error TEXT,
    millis BIGINT NOT NULL
);

CREATE INDEX delivery_attempt_delivery ON delivery_attempt (delivery_id);

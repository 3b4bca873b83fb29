-- The register of difficult cases: one row per recorded comment, the authors behind them,
-- and an append-only audit log of every automated and human action.
-- The same tables as migrations/sqlite, in PostgreSQL's own types.

CREATE TABLE author (
    id TEXT PRIMARY KEY,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,
    cases BIGINT NOT NULL DEFAULT 0,
    prioritized BIGINT NOT NULL DEFAULT 0,
    reviewed BIGINT NOT NULL DEFAULT 0,
    hidden BIGINT NOT NULL DEFAULT 0,
    deleted BIGINT NOT NULL DEFAULT 0,
    blocked BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE moderation_case (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    comment_id TEXT NOT NULL UNIQUE,
    channel TEXT,
    thread_id TEXT,
    author_id TEXT REFERENCES author (id),
    language TEXT NOT NULL,
    text TEXT NOT NULL,
    action TEXT NOT NULL,
    priority TEXT NOT NULL,
    route TEXT,
    scores JSONB NOT NULL,
    sentiment JSONB NOT NULL,
    signals JSONB NOT NULL,
    reasons JSONB NOT NULL,
    policy_name TEXT NOT NULL,
    policy_version BIGINT NOT NULL,
    model_version TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    created_at TIMESTAMPTZ NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX moderation_case_queue ON moderation_case (status, priority, recorded_at);
CREATE INDEX moderation_case_author ON moderation_case (author_id);

CREATE TABLE audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id BIGINT REFERENCES moderation_case (id),
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    detail JSONB NOT NULL
);

CREATE INDEX audit_case ON audit (case_id);

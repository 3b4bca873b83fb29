-- The register of difficult cases: one row per recorded comment, the authors behind them,
-- and an append-only audit log of every automated and human action.

CREATE TABLE author (
    id TEXT PRIMARY KEY NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    cases INTEGER NOT NULL DEFAULT 0,
    prioritized INTEGER NOT NULL DEFAULT 0,
    reviewed INTEGER NOT NULL DEFAULT 0,
    hidden INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    blocked INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE moderation_case (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    comment_id TEXT NOT NULL UNIQUE,
    channel TEXT,
    thread_id TEXT,
    author_id TEXT REFERENCES author (id),
    language TEXT NOT NULL,
    text TEXT NOT NULL,
    action TEXT NOT NULL,
    priority TEXT NOT NULL,
    route TEXT,
    scores TEXT NOT NULL,
    sentiment TEXT NOT NULL,
    signals TEXT NOT NULL,
    reasons TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    policy_version INTEGER NOT NULL,
    model_version TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    created_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);

CREATE INDEX moderation_case_queue ON moderation_case (status, priority, recorded_at);
CREATE INDEX moderation_case_author ON moderation_case (author_id);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER REFERENCES moderation_case (id),
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    detail TEXT NOT NULL
);

CREATE INDEX audit_case ON audit (case_id);

-- Policies as versioned data: every version of each policy (the default's whole TOML, a
-- channel's overrides) with who made it, when and why, and the version in force per policy.
-- Each case also keeps its author's history as it was when scored, so replaying a candidate
-- policy escalates exactly as the live decision did.
-- The same change as migrations/sqlite.

CREATE TABLE policy_version (
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    source TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    note TEXT,
    PRIMARY KEY (name, version)
);

CREATE TABLE policy_active (
    name TEXT PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL,
    activated_by TEXT NOT NULL,
    activated_at TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (name, version) REFERENCES policy_version (name, version)
);

ALTER TABLE moderation_case ADD COLUMN author_removed BIGINT NOT NULL DEFAULT 0;

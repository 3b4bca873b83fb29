-- Incidents: many authors reporting one problem. A case joins at most one (`incident_id`);
-- `status` is 'open', 'closed' or 'merged' (then `merged_into` names the one it went into).
-- `words` and `channels` are JSON arrays; `reports` counts the comments that made or joined it.
-- The same change as migrations/sqlite.

CREATE TABLE incident (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    merged_into BIGINT REFERENCES incident (id),
    category TEXT,
    words JSONB NOT NULL,
    channels JSONB NOT NULL,
    reports BIGINT NOT NULL,
    authors BIGINT NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,
    opened_at TIMESTAMPTZ NOT NULL,
    closed_at TIMESTAMPTZ
);

CREATE INDEX incident_status ON incident (status);
ALTER TABLE moderation_case ADD COLUMN incident_id BIGINT REFERENCES incident (id);
CREATE INDEX moderation_case_incident ON moderation_case (incident_id);

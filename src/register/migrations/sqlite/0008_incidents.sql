-- Incidents: many authors reporting one problem. A case joins at most one (`incident_id`);
-- `status` is 'open', 'closed' or 'merged' (then `merged_into` names the one it went into).
-- `words` and `channels` are JSON arrays; `reports` counts the comments that made or joined it.
-- The same change as migrations/postgres.

CREATE TABLE incident (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    merged_into INTEGER REFERENCES incident (id),
    category TEXT,
    words TEXT NOT NULL,
    channels TEXT NOT NULL,
    reports INTEGER NOT NULL,
    authors INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT
);

CREATE INDEX incident_status ON incident (status);
ALTER TABLE moderation_case ADD COLUMN incident_id INTEGER REFERENCES incident (id);
CREATE INDEX moderation_case_incident ON moderation_case (incident_id);

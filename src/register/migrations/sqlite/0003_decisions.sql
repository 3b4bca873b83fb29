-- Moderators' work on the register. A case keeps the automated action it was recorded with and
-- gets its outcome (the action in force: the automated one until a moderator decides), an
-- expiring claim, and the time of its first human decision (for reply-time targets).
-- Decisions are append-only: an undo is a new decision. A protective case was hidden only to
-- protect the author's own personal data and does not count against them. An author is
-- blocked while any of their cases has the outcome block_author.

ALTER TABLE moderation_case ADD COLUMN outcome TEXT;
UPDATE moderation_case SET outcome = action;
ALTER TABLE moderation_case ADD COLUMN protective INTEGER NOT NULL DEFAULT 0;
ALTER TABLE moderation_case ADD COLUMN claimed_by TEXT;
ALTER TABLE moderation_case ADD COLUMN claimed_until TEXT;
ALTER TABLE moderation_case ADD COLUMN answered_at TEXT;
CREATE INDEX moderation_case_outcome ON moderation_case (author_id, outcome);

CREATE TABLE decision (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES moderation_case (id),
    decision TEXT NOT NULL,
    moderator TEXT NOT NULL,
    note TEXT,
    route TEXT,
    labels TEXT NOT NULL,
    decided_at TEXT NOT NULL
);

CREATE INDEX decision_case ON decision (case_id);
CREATE INDEX audit_at ON audit (at);

-- When each case should have its first reply (reply-time targets in service hours), and how
-- many of an author's cases were hidden only to protect their own personal data: those are no
-- offence and do not count toward escalation. The same change as migrations/sqlite.

ALTER TABLE moderation_case ADD COLUMN respond_by TIMESTAMPTZ;
CREATE INDEX moderation_case_due ON moderation_case (status, respond_by);

ALTER TABLE author ADD COLUMN protected BIGINT NOT NULL DEFAULT 0;

-- When each case should have its first reply (reply-time targets in service hours), and how
-- many of an author's cases were hidden only to protect their own personal data: those are no
-- offence and do not count toward escalation.

ALTER TABLE moderation_case ADD COLUMN respond_by TEXT;
CREATE INDEX moderation_case_due ON moderation_case (status, respond_by);

ALTER TABLE author ADD COLUMN protected INTEGER NOT NULL DEFAULT 0;

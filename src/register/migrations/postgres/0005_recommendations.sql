-- The advice recorded with each case (move_to_private_messages, supervisor_replies), so the
-- moderators' page can show it beside the evidence. The same change as migrations/sqlite.

ALTER TABLE moderation_case ADD COLUMN recommendations JSONB NOT NULL DEFAULT '[]';

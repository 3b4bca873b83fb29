-- Trends: each case keeps the intents it carried (a JSON array of names, strongest first), so
-- volumes can be counted by intent. Cases recorded before have none.
-- The same change as migrations/sqlite.

ALTER TABLE moderation_case ADD COLUMN intents JSONB;

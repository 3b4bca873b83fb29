-- Erasure and retention: a case's text and the words its signals and reasons quote from it can
-- be removed (an author's erasure, or the channel's retention period) while its scores,
-- decisions and audit stay. `text_removed` says why: 'erasure' or 'retention'.
-- The same change as migrations/sqlite.

ALTER TABLE moderation_case ADD COLUMN text_removed TEXT;
CREATE INDEX moderation_case_recorded ON moderation_case (recorded_at);

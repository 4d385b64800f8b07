-- Retention of channel statements (issue 22). An applied migration is never edited: add a new
-- file instead.
--
-- An expired statement keeps its record (channel, day, hash, size, row count, who imported
-- it: runs, tickets and settlements name it) but not its file's bytes nor its parsed rows;
-- `expired_at` says when they went. Importing the same file again brings them back.
ALTER TABLE recon_statements ADD COLUMN expired_at TEXT;
-- What the retention job walks: the statements still holding their file, by age.
CREATE INDEX recon_statements_unexpired ON recon_statements (imported_at) WHERE expired_at IS NULL;

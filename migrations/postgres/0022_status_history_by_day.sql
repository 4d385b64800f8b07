-- Reconciliation (issue 20) reads a channel's day of payments and refunds by when they
-- succeeded: the status changes of one kind of entity to one status, by time.
-- An applied migration is never edited: add a new file instead.
CREATE INDEX status_history_by_day ON status_history (entity, to_status, at);

-- Decisions in time partitions (issue 22) are PostgreSQL's (its 0026 moves one decision per
-- request id into `decision_requests`). SQLite keeps one table, its unique index on
-- `request_id` and its foreign keys; this view gives queries written once for both backends
-- the same name. An applied migration is never edited: add a new file instead.
CREATE VIEW decision_requests (request_id, decision_id, created_at) AS
    SELECT request_id, decision_id, created_at FROM decisions;

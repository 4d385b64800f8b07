-- The outbox as a pull feed (`GET /v1/events`), PostgreSQL.
-- An applied migration is never edited: add a new file instead.
--
-- Outbox ids come from a sequence, and sequence values are taken when a row is inserted, not
-- when its transaction commits: id 11 can be visible while id 10 is still uncommitted, so a feed
-- that hands out `id > after` would pass 10 and never show it. Each row therefore records the
-- transaction that wrote it (`txid`, the top-level transaction id, also inside savepoints), and
-- the feed hands out only rows whose transaction is older than every transaction still running
-- (`txid < pg_snapshot_xmin(pg_current_snapshot())`), in `(txid, id)` order. No transaction that
-- can still commit has a txid below that horizon, so nothing can appear behind a consumer's
-- position later. Rows that existed before this migration all get its transaction id and keep
-- their id order.
ALTER TABLE outbox ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX outbox_feed ON outbox (txid, id);

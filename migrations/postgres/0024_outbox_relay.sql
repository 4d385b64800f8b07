-- The outbox relay to NATS JetStream (issue 21): where each relay stands in the outbox feed and
-- which replica runs it; and where the feed starts once retention has deleted its oldest events. An applied migration is never edited: add a new file instead.
--
-- One row per relay (`name`; the default deployment has one). `holder` runs it until
-- `expires_at` and renews as it goes; a replica takes it over once it has lapsed. `after_id` is
-- the feed position of the last event the stream acknowledged (0: none yet), the `after` of
-- `GET /v1/events`.
CREATE TABLE outbox_relay (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    after_id   BIGINT NOT NULL DEFAULT 0 CHECK (after_id >= 0),
    relayed_at TIMESTAMPTZ
);

-- Retention deletes the feed's oldest events, always a prefix of the feed, and records the last
-- one it deleted: a consumer (or the relay) whose position is that event goes on from there, one
-- behind it is told its events expired. One row at most; `last_txid` is the deleted event's
-- writing transaction on PostgreSQL (the feed's order there), NULL on SQLite (id order).
CREATE TABLE outbox_horizon (
    one       INTEGER PRIMARY KEY CHECK (one = 1),
    last_id   BIGINT NOT NULL CHECK (last_id > 0),
    last_txid BIGINT
);

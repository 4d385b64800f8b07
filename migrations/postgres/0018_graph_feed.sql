-- The link graph's feed (issue 18), PostgreSQL: what replicas follow to see each other's
-- decisions and labels. An applied migration is never edited: add a new file instead.
--
-- `decision_links` is a narrow copy of the entities each decision names, written in the
-- decision's own transaction, with the replica that made it (so it can skip its own) and the
-- writing transaction (`txid`). As for the outbox feed (0005), rows are handed out only below
-- the oldest running transaction (`txid < pg_snapshot_xmin(pg_current_snapshot())`), in
-- `(txid, decision_id)` order, so a row that commits late always lands ahead of a follower's
-- position. A replica also builds its graph from these rows at start, up to the horizon it
-- then follows from: no row is seen twice or missed between the two. Rows older than the
-- graph's window are deleted by the replicas (oldest first, in small batches).
CREATE TABLE decision_links (
    txid                  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    decision_id           TEXT NOT NULL,
    replica               TEXT NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    user_id               TEXT NOT NULL,
    device_id             TEXT,
    card_fingerprint      TEXT,
    email                 TEXT,
    phone                 TEXT,
    shipping_address_hash TEXT,
    ip                    TEXT
);
CREATE INDEX decision_links_feed ON decision_links (txid, decision_id);

-- The decisions already stored, as one transaction's rows (in id, that is time, order).
INSERT INTO decision_links (decision_id, replica, created_at, user_id, device_id,
                            card_fingerprint, email, phone, shipping_address_hash, ip)
SELECT decision_id, '', created_at,
       body->'context'->>'user_id',
       body->'context'->>'device_id',
       body->'context'->>'card_fingerprint',
       body->'context'->>'email',
       body->'context'->>'phone',
       body->'context'->>'shipping_address_hash',
       body->'context'->>'ip'
FROM decisions
WHERE body->'context'->>'user_id' IS NOT NULL;

-- Labels are only ever inserted (the latest per decision counts), so the same horizon rule
-- makes them a feed: a fraud mark reaches every replica, also one that was down.
ALTER TABLE labels ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX labels_feed ON labels (txid, label_id);

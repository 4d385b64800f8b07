-- One list entry per (list, kind, value): adding the same entry twice is idempotent, and
-- deleting an entry lifts it. Twins written before this migration are collapsed first,
-- keeping the one that stays in force longest (no expiry, else the latest expiry).
DELETE FROM list_entries WHERE id NOT IN (
    SELECT id FROM (
        SELECT id, ROW_NUMBER() OVER (
            PARTITION BY list, kind, value
            ORDER BY (expires_at IS NULL) DESC, expires_at DESC, created_at, id
        ) AS n
        FROM list_entries
    ) ranked
    WHERE n = 1
);
CREATE UNIQUE INDEX list_entries_identity ON list_entries (list, kind, value);

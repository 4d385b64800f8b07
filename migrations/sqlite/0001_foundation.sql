-- Decision log, lists, API keys and policy sets (SQLite).
-- An applied migration is never edited: add a new file instead.
-- STRICT tables: a value of the wrong type is refused instead of silently stored.
-- Timestamps are RFC 3339 UTC text with microseconds (`2024-05-01T12:00:00.123456Z`), so text
-- order is time order.

CREATE TABLE decisions (
    decision_id        TEXT PRIMARY KEY,
    request_id         TEXT NOT NULL,
    body_hash          TEXT NOT NULL,
    event              TEXT NOT NULL,
    action             TEXT NOT NULL,
    score              REAL NOT NULL,
    policy_set_version INTEGER NOT NULL,
    model_version      INTEGER,
    created_at         TEXT NOT NULL,
    -- The full decision (reasons, enriched context, per-layer results) as JSON.
    body               TEXT NOT NULL
) STRICT;
-- INVARIANT: one decision per request_id, whatever the concurrency of duplicates.
CREATE UNIQUE INDEX decisions_request_id ON decisions (request_id);
CREATE INDEX decisions_created_at ON decisions (created_at);

CREATE TABLE list_entries (
    id         TEXT PRIMARY KEY,
    list       TEXT NOT NULL CHECK (list IN ('block', 'allow', 'watch')),
    kind       TEXT NOT NULL CHECK (kind IN ('user', 'device', 'ip', 'card', 'email', 'phone', 'address')),
    value      TEXT NOT NULL,
    reason     TEXT NOT NULL,
    expires_at TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
) STRICT;
CREATE INDEX list_entries_kind_value ON list_entries (kind, value);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,
    scopes     TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE policy_sets (
    version    INTEGER PRIMARY KEY,
    thresholds TEXT NOT NULL,
    weights    TEXT NOT NULL,
    policies   TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

-- One row: which policy set version serves traffic.
CREATE TABLE policy_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    active_version INTEGER NOT NULL REFERENCES policy_sets (version)
) STRICT;

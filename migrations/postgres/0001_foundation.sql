-- Decision log, lists, API keys and policy sets (PostgreSQL).
-- An applied migration is never edited: add a new file instead.

CREATE TABLE decisions (
    decision_id        TEXT PRIMARY KEY,
    request_id         TEXT NOT NULL,
    body_hash          TEXT NOT NULL,
    event              TEXT NOT NULL,
    action             TEXT NOT NULL,
    score              DOUBLE PRECISION NOT NULL,
    policy_set_version BIGINT NOT NULL,
    model_version      BIGINT,
    created_at         TIMESTAMPTZ NOT NULL,
    -- The full decision (reasons, enriched context, per-layer results).
    body               JSONB NOT NULL
);
-- INVARIANT: one decision per request_id, whatever the concurrency of duplicates.
CREATE UNIQUE INDEX decisions_request_id ON decisions (request_id);
CREATE INDEX decisions_created_at ON decisions (created_at);

CREATE TABLE list_entries (
    id         TEXT PRIMARY KEY,
    list       TEXT NOT NULL CHECK (list IN ('block', 'allow', 'watch')),
    kind       TEXT NOT NULL CHECK (kind IN ('user', 'device', 'ip', 'card', 'email', 'phone', 'address')),
    value      TEXT NOT NULL,
    reason     TEXT NOT NULL,
    expires_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX list_entries_kind_value ON list_entries (kind, value);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,
    scopes     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE policy_sets (
    version    BIGINT PRIMARY KEY,
    thresholds JSONB NOT NULL,
    weights    JSONB NOT NULL,
    policies   JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- One row: which policy set version serves traffic.
CREATE TABLE policy_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    active_version BIGINT NOT NULL REFERENCES policy_sets (version)
);

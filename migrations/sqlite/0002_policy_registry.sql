-- Policy modules, rollouts and the audit log (SQLite).
-- An applied migration is never edited: add a new file instead.
-- STRICT tables and RFC 3339 UTC text timestamps with microseconds, as in 0001.

-- Uploaded modules: the bytes as uploaded and the runtime's precompiled form.
CREATE TABLE policy_modules (
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL CHECK (version >= 1),
    sha256      TEXT NOT NULL,
    size_bytes  INTEGER NOT NULL CHECK (size_bytes >= 0),
    wasm        BLOB NOT NULL,
    precompiled BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    PRIMARY KEY (name, version),
    -- INVARIANT: the same bytes under the same name are one version.
    UNIQUE (name, sha256)
) STRICT;

CREATE TABLE rollouts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    stable     INTEGER NOT NULL REFERENCES policy_sets (version),
    candidate  INTEGER NOT NULL REFERENCES policy_sets (version),
    percent    INTEGER NOT NULL CHECK (percent BETWEEN 0 AND 100),
    mode       TEXT NOT NULL CHECK (mode IN ('live', 'shadow')),
    -- The guard as JSON, NULL when the rollout has none.
    guard      TEXT,
    status     TEXT NOT NULL CHECK (status IN ('active', 'promoted', 'rolled_back')),
    reason     TEXT,
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    created_by TEXT NOT NULL,
    CHECK ((status = 'active') = (ended_at IS NULL))
) STRICT;
-- INVARIANT: at most one active rollout, whatever the number of writers.
CREATE UNIQUE INDEX rollouts_one_active ON rollouts (status) WHERE status = 'active';

-- AUTOINCREMENT: ids are never reused, so they page the log stably.
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    -- JSON.
    detail TEXT NOT NULL
) STRICT;

-- Policy modules, rollouts and the audit log (PostgreSQL).
-- An applied migration is never edited: add a new file instead.

-- Uploaded modules: the bytes as uploaded and the runtime's precompiled form.
CREATE TABLE policy_modules (
    name        TEXT NOT NULL,
    version     BIGINT NOT NULL CHECK (version >= 1),
    sha256      TEXT NOT NULL,
    size_bytes  BIGINT NOT NULL CHECK (size_bytes >= 0),
    wasm        BYTEA NOT NULL,
    precompiled BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT NOT NULL,
    PRIMARY KEY (name, version),
    -- INVARIANT: the same bytes under the same name are one version.
    UNIQUE (name, sha256)
);

CREATE TABLE rollouts (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stable     BIGINT NOT NULL REFERENCES policy_sets (version),
    candidate  BIGINT NOT NULL REFERENCES policy_sets (version),
    percent    INTEGER NOT NULL CHECK (percent BETWEEN 0 AND 100),
    mode       TEXT NOT NULL CHECK (mode IN ('live', 'shadow')),
    -- NULL when the rollout has none.
    guard      JSONB,
    status     TEXT NOT NULL CHECK (status IN ('active', 'promoted', 'rolled_back')),
    reason     TEXT,
    started_at TIMESTAMPTZ NOT NULL,
    ended_at   TIMESTAMPTZ,
    created_by TEXT NOT NULL,
    CHECK ((status = 'active') = (ended_at IS NULL))
);
-- INVARIANT: at most one active rollout, whatever the number of replicas.
CREATE UNIQUE INDEX rollouts_one_active ON rollouts (status) WHERE status = 'active';

CREATE TABLE audit_log (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     TIMESTAMPTZ NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail JSONB NOT NULL
);

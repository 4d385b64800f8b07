-- Backtests (issue 16): what a replay reads, written with each decision, and the runs.
-- An applied migration is never edited: add a new file instead.

-- The narrow projection a backtest reads instead of the 2–3 kB decision body: the columns it
-- filters and compares on, and `replay`, the JSON of the engine's `ReplayInput` (the context
-- as the rules saw it, the list verdict, the model outcome). Text, not JSONB: it is written
-- once and read whole, never queried inside, and text skips the JSONB parse on insert.
CREATE TABLE decision_features (
    decision_id        TEXT PRIMARY KEY REFERENCES decisions (decision_id) ON DELETE CASCADE,
    created_at         TIMESTAMPTZ NOT NULL,
    checkpoint         TEXT NOT NULL,
    policy_set_version BIGINT NOT NULL,
    model_version      BIGINT,
    action             TEXT NOT NULL,
    score              DOUBLE PRECISION NOT NULL,
    amount_minor       BIGINT,
    currency           TEXT,
    replay             TEXT NOT NULL,
    -- What the shadow candidate of a rollout answered, when one ran: its set version, action
    -- and score, and the modules that fired (comma-separated). A rollout's shadow summary
    -- reads these.
    shadow_version     BIGINT,
    shadow_action      TEXT,
    shadow_score       DOUBLE PRECISION,
    shadow_hits        TEXT
);
-- A backtest pages through a window in (created_at, decision_id) order.
CREATE INDEX decision_features_window ON decision_features (created_at, decision_id);

-- Decisions stored before this migration get their projection from their JSONB body. A JSONB
-- number keeps its decimal value, so its text parses back to the same float.
INSERT INTO decision_features
    (decision_id, created_at, checkpoint, policy_set_version, model_version, action, score,
     amount_minor, currency, replay, shadow_version, shadow_action, shadow_score, shadow_hits)
SELECT decision_id, created_at, event, policy_set_version, model_version, action, score,
       (body->'context'->'amount'->>'minor_units')::bigint,
       body->'context'->'amount'->>'currency',
       jsonb_build_object(
           'context', body->'context',
           'list_verdict', body->'layers'->'lists'->'verdict',
           'model', body->'layers'->'model')::text,
       (body->'shadow'->>'policy_set_version')::bigint,
       body->'shadow'->>'action',
       (body->'shadow'->>'score')::double precision,
       -- A module fired when it did not fault and gave an action, a score or a reason.
       (SELECT string_agg(r->>'name', ',') FROM jsonb_array_elements(
            CASE WHEN jsonb_typeof(body->'shadow'->'rules') = 'array'
                 THEN body->'shadow'->'rules' ELSE '[]'::jsonb END) r
        WHERE jsonb_typeof(r->'fault') IS DISTINCT FROM 'object'
          AND (r->>'action' <> 'none' OR (r->>'score')::double precision <> 0
               OR jsonb_array_length(r->'reasons') > 0))
FROM decisions;

-- One row per run. `spec` and `result` are the engine's JSON, stored and returned whole.
CREATE TABLE backtests (
    backtest_id  TEXT PRIMARY KEY,
    status       TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
    -- The policy set version tried (also in `spec`): a promotion looks for its backtests.
    candidate    BIGINT NOT NULL,
    spec         TEXT NOT NULL,
    read_count   BIGINT NOT NULL DEFAULT 0,
    total_count  BIGINT NOT NULL DEFAULT 0,
    result       TEXT,
    error        TEXT,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    -- Written with each progress update; a running row whose heartbeat stopped belongs to a
    -- process that died, and is failed by the next start or sweep.
    heartbeat_at TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,
    CHECK ((status = 'running') = (finished_at IS NULL)),
    CHECK ((status = 'succeeded') = (result IS NOT NULL))
);
CREATE INDEX backtests_running ON backtests (status) WHERE status = 'running';
CREATE INDEX backtests_candidate ON backtests (candidate, finished_at) WHERE status = 'succeeded';

-- Backtests (issue 16): what a replay reads, written with each decision, and the runs.
-- An applied migration is never edited: add a new file instead.

-- The narrow projection a backtest reads instead of the 2–3 kB decision body: the columns it
-- filters and compares on, and `replay`, the JSON of the engine's `ReplayInput` (the context
-- as the rules saw it, the list verdict, the model outcome). Written in the decision's own
-- transaction; removed with its decision.
CREATE TABLE decision_features (
    decision_id        TEXT PRIMARY KEY REFERENCES decisions (decision_id) ON DELETE CASCADE,
    created_at         TEXT NOT NULL,
    checkpoint         TEXT NOT NULL,
    policy_set_version INTEGER NOT NULL,
    model_version      INTEGER,
    action             TEXT NOT NULL,
    score              REAL NOT NULL,
    amount_minor       INTEGER,
    currency           TEXT,
    replay             TEXT NOT NULL,
    -- What the shadow candidate of a rollout answered, when one ran: its set version, action
    -- and score, and the modules that fired (comma-separated). A rollout's shadow summary
    -- reads these.
    shadow_version     INTEGER,
    shadow_action      TEXT,
    shadow_score       REAL,
    shadow_hits        TEXT
) STRICT;
-- A backtest pages through a window in (created_at, decision_id) order.
CREATE INDEX decision_features_window ON decision_features (created_at, decision_id);

-- Decisions stored before this migration get their projection from their body. json_extract
-- of an object returns its JSON text with numbers as they were written, so a replay of these
-- rows is as exact as of new ones.
INSERT INTO decision_features
    (decision_id, created_at, checkpoint, policy_set_version, model_version, action, score,
     amount_minor, currency, replay, shadow_version, shadow_action, shadow_score, shadow_hits)
SELECT decision_id, created_at, event, policy_set_version, model_version, action, score,
       json_extract(body, '$.context.amount.minor_units'),
       json_extract(body, '$.context.amount.currency'),
       json_object(
           'context', json_extract(body, '$.context'),
           'list_verdict', json_extract(body, '$.layers.lists.verdict'),
           'model', json_extract(body, '$.layers.model')),
       json_extract(body, '$.shadow.policy_set_version'),
       json_extract(body, '$.shadow.action'),
       json_extract(body, '$.shadow.score'),
       -- A module fired when it did not fault and gave an action, a score or a reason.
       (SELECT group_concat(json_extract(r.value, '$.name'), ',') FROM json_each(body, '$.shadow.rules') r
        WHERE IFNULL(json_type(r.value, '$.fault'), 'null') = 'null'
          AND (json_extract(r.value, '$.action') <> 'none' OR json_extract(r.value, '$.score') <> 0
               OR json_array_length(r.value, '$.reasons') > 0))
FROM decisions;

-- One row per run. `spec` and `result` are the engine's JSON, stored and returned whole.
CREATE TABLE backtests (
    backtest_id  TEXT PRIMARY KEY,
    status       TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
    -- The policy set version tried (also in `spec`): a promotion looks for its backtests.
    candidate    INTEGER NOT NULL,
    spec         TEXT NOT NULL,
    read_count   INTEGER NOT NULL DEFAULT 0,
    total_count  INTEGER NOT NULL DEFAULT 0,
    result       TEXT,
    error        TEXT,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    -- Written with each progress update; a running row whose heartbeat stopped belongs to a
    -- process that died, and is failed by the next start or sweep.
    heartbeat_at TEXT NOT NULL,
    finished_at  TEXT,
    CHECK ((status = 'running') = (finished_at IS NULL)),
    CHECK ((status = 'succeeded') = (result IS NOT NULL))
) STRICT;
CREATE INDEX backtests_running ON backtests (status) WHERE status = 'running';
CREATE INDEX backtests_candidate ON backtests (candidate, finished_at) WHERE status = 'succeeded';

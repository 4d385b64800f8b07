-- Decisions in time partitions (issue 22): retention drops a whole partition instead of
-- deleting its rows one by one. An applied migration is never edited: add a new file instead.
--
-- `decisions` and `decision_features` are partitioned by range of `part`, which is the
-- decision's `created_at` while it lives in a time partition (`decisions_p<start>`, made ahead
-- by the retention job, `postgres/partitions.rs`). A decision something still needs when its
-- partition expires (a label, a review, an order's or payment's risk record) is moved first,
-- by setting `part` to -infinity: it lands in `decisions_held`, which never expires. A row
-- outside every time partition lands in `decisions_default` and expires by batched deletes.
--
-- A unique index on a partitioned table must contain the partition key, so two things move
-- out of the table: one decision per request id is now `decision_requests`' primary key, and
-- the foreign keys from `reviews`, `labels` and `decision_features` go (the store checks a
-- label's decision in the label's own statement; reviews and projections are written with
-- their decision).

ALTER TABLE reviews DROP CONSTRAINT reviews_decision_id_fkey;
ALTER TABLE labels DROP CONSTRAINT labels_decision_id_fkey;

-- INVARIANT: one decision per request_id, whatever the concurrency of duplicates.
CREATE TABLE decision_requests (
    request_id  TEXT PRIMARY KEY,
    decision_id TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
INSERT INTO decision_requests (request_id, decision_id, created_at)
SELECT request_id, decision_id, created_at FROM decisions;
CREATE INDEX decision_requests_created ON decision_requests (created_at);

ALTER TABLE decision_features RENAME TO decision_features_unpartitioned;
ALTER TABLE decisions RENAME TO decisions_unpartitioned;

CREATE TABLE decisions (
    decision_id        TEXT NOT NULL,
    request_id         TEXT NOT NULL,
    body_hash          TEXT NOT NULL,
    event              TEXT NOT NULL,
    action             TEXT NOT NULL,
    score              DOUBLE PRECISION NOT NULL,
    policy_set_version BIGINT NOT NULL,
    model_version      BIGINT,
    created_at         TIMESTAMPTZ NOT NULL,
    body               JSONB NOT NULL,
    order_id           TEXT,
    amount_minor       BIGINT,
    currency           TEXT,
    part               TIMESTAMPTZ NOT NULL
) PARTITION BY RANGE (part);

CREATE TABLE decision_features (
    decision_id        TEXT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    checkpoint         TEXT NOT NULL,
    policy_set_version BIGINT NOT NULL,
    model_version      BIGINT,
    action             TEXT NOT NULL,
    score              DOUBLE PRECISION NOT NULL,
    amount_minor       BIGINT,
    currency           TEXT,
    replay             TEXT NOT NULL,
    shadow_version     BIGINT,
    shadow_action      TEXT,
    shadow_score       DOUBLE PRECISION,
    shadow_hits        TEXT,
    part               TIMESTAMPTZ NOT NULL
) PARTITION BY RANGE (part);

CREATE TABLE decisions_held PARTITION OF decisions
    FOR VALUES FROM (MINVALUE) TO ('1970-01-01 00:00:00+00');
CREATE TABLE decision_features_held PARTITION OF decision_features
    FOR VALUES FROM (MINVALUE) TO ('1970-01-01 00:00:00+00');
CREATE TABLE decisions_default PARTITION OF decisions DEFAULT;
CREATE TABLE decision_features_default PARTITION OF decision_features DEFAULT;

-- Decisions already stored go to one partition reaching to the end of today (UTC), which
-- expires whole like any other once its last day is old enough; the retention job's
-- partitions start where it ends.
DO $$
DECLARE
    upper_bound TIMESTAMPTZ := date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                               + INTERVAL '1 day';
BEGIN
    IF EXISTS (SELECT 1 FROM decisions_unpartitioned) THEN
        EXECUTE format('CREATE TABLE decisions_legacy PARTITION OF decisions '
                       'FOR VALUES FROM (%L) TO (%L)', '1970-01-01 00:00:00+00', upper_bound);
        EXECUTE format('CREATE TABLE decision_features_legacy PARTITION OF decision_features '
                       'FOR VALUES FROM (%L) TO (%L)', '1970-01-01 00:00:00+00', upper_bound);
    END IF;
END $$;

INSERT INTO decisions (decision_id, request_id, body_hash, event, action, score,
                       policy_set_version, model_version, created_at, body, order_id,
                       amount_minor, currency, part)
SELECT decision_id, request_id, body_hash, event, action, score, policy_set_version,
       model_version, created_at, body, order_id, amount_minor, currency, created_at
FROM decisions_unpartitioned;

INSERT INTO decision_features (decision_id, created_at, checkpoint, policy_set_version,
                               model_version, action, score, amount_minor, currency, replay,
                               shadow_version, shadow_action, shadow_score, shadow_hits, part)
SELECT decision_id, created_at, checkpoint, policy_set_version, model_version, action, score,
       amount_minor, currency, replay, shadow_version, shadow_action, shadow_score,
       shadow_hits, created_at
FROM decision_features_unpartitioned;

DROP TABLE decision_features_unpartitioned;
DROP TABLE decisions_unpartitioned;

-- A decision is found by its id in every partition (ids are unique by construction: v7).
ALTER TABLE decisions ADD PRIMARY KEY (decision_id, part);
CREATE INDEX decisions_created_at ON decisions (created_at);
CREATE INDEX decisions_order_id ON decisions (order_id) WHERE order_id IS NOT NULL;
ALTER TABLE decision_features ADD PRIMARY KEY (decision_id, part);
-- A backtest pages through a window in (created_at, decision_id) order.
CREATE INDEX decision_features_window ON decision_features (created_at, decision_id);

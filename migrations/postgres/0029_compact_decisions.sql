-- The compact stored decision (issue 23): a decision is stored once, in one row of a few
-- hundred bytes. An applied migration is never edited: add a new file instead.
--
-- `packed`: the decision as JSON without the ids and hash its own columns hold, compressed with
-- zstd against a dictionary trained on decisions (storage's `stored_decision`). `chain`: the
-- previous decision of each entity kind it names, seven 16-byte ids (null when none), which an
-- entity's history walks. New rows have no `body`; rows stored before keep their whole JSON
-- there and no `packed`, and are read as they were.
ALTER TABLE decisions
    ADD COLUMN packed BYTEA,
    ADD COLUMN chain BYTEA,
    ALTER COLUMN body DROP NOT NULL;
-- Exactly one of the two forms. Time partitions are made with the parent's checks.
ALTER TABLE decisions ADD CONSTRAINT decisions_one_form CHECK ((body IS NULL) <> (packed IS NULL));

-- The backtest projection (`decision_features`, migrations 0011 and 0026) goes: its columns
-- were copies of the decision's own, its replay input (~1.3 kB) the context again, which a
-- replay now decodes from the stored decision. What only it held, the shadow candidate's
-- answer that a rollout's summary reads, moves into `decisions`.
ALTER TABLE decisions
    ADD COLUMN shadow_version BIGINT,
    ADD COLUMN shadow_action TEXT,
    ADD COLUMN shadow_score DOUBLE PRECISION,
    ADD COLUMN shadow_hits TEXT;
UPDATE decisions d SET
    shadow_version = f.shadow_version,
    shadow_action = f.shadow_action,
    shadow_score = f.shadow_score,
    shadow_hits = f.shadow_hits,
    amount_minor = COALESCE(d.amount_minor, f.amount_minor),
    currency = COALESCE(d.currency, f.currency)
FROM decision_features f
WHERE f.decision_id = d.decision_id AND f.part = d.part
  AND (f.shadow_version IS NOT NULL OR (d.amount_minor IS NULL AND f.amount_minor IS NOT NULL));
DROP TABLE decision_features;
-- A partition the retention job had detached and not dropped yet leaves its projection's twin
-- behind (`expired_decision_features_…`, no longer part of any table): dropped with it.
DO $$
DECLARE t text;
BEGIN
    FOR t IN SELECT relname::text FROM pg_class
             WHERE relkind = 'r' AND relname::text LIKE 'expired\_decision\_features\_%'
               AND relnamespace = current_schema()::regnamespace
    LOOP
        EXECUTE format('DROP TABLE %I', t);
    END LOOP;
END $$;

-- The compact stored decision (issue 23): a decision is stored once, in one row of a few
-- hundred bytes. An applied migration is never edited: add a new file instead.
--
-- `packed`: the decision as JSON without the ids and hash its own columns hold, compressed with
-- zstd against a dictionary trained on decisions (storage's `stored_decision`). `chain`: the
-- previous decision of each entity kind it names, seven 16-byte ids (null when none), which an
-- entity's history walks. New rows keep `body` empty (its NOT NULL stays: SQLite cannot drop
-- it without rebuilding the table its foreign keys point at); rows stored before keep their
-- whole JSON there and no `packed`, and are read as they were.
ALTER TABLE decisions ADD COLUMN packed BLOB;
ALTER TABLE decisions ADD COLUMN chain BLOB;

-- The backtest projection (`decision_features`, migration 0011) goes: its columns were copies
-- of the decision's own, its replay input (~1.3 kB) the context again, which a replay now
-- decodes from the stored decision. What only it held, the shadow candidate's answer that a
-- rollout's summary reads, moves into `decisions`.
ALTER TABLE decisions ADD COLUMN shadow_version INTEGER;
ALTER TABLE decisions ADD COLUMN shadow_action TEXT;
ALTER TABLE decisions ADD COLUMN shadow_score REAL;
ALTER TABLE decisions ADD COLUMN shadow_hits TEXT;
UPDATE decisions SET
    shadow_version = f.shadow_version,
    shadow_action = f.shadow_action,
    shadow_score = f.shadow_score,
    shadow_hits = f.shadow_hits,
    amount_minor = COALESCE(decisions.amount_minor, f.amount_minor),
    currency = COALESCE(decisions.currency, f.currency)
FROM decision_features f
WHERE f.decision_id = decisions.decision_id
  AND (f.shadow_version IS NOT NULL
       OR (decisions.amount_minor IS NULL AND f.amount_minor IS NOT NULL));
DROP TABLE decision_features;

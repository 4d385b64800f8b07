-- Reviews, labels and model versions: the feedback loop (SQLite).
-- An applied migration is never edited: add a new file instead.

-- Copies of body fields that reports and label lookups filter on. NULL for decisions written
-- before this migration (reports then count them without a value).
ALTER TABLE decisions ADD COLUMN order_id TEXT;
ALTER TABLE decisions ADD COLUMN amount_minor INTEGER;
ALTER TABLE decisions ADD COLUMN currency TEXT;
CREATE INDEX decisions_order_id ON decisions (order_id) WHERE order_id IS NOT NULL;

-- One review per challenged decision, opened in the decision's own transaction.
CREATE TABLE reviews (
    review_id   TEXT PRIMARY KEY,
    decision_id TEXT NOT NULL UNIQUE REFERENCES decisions (decision_id),
    status      TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    opened_at   TEXT NOT NULL,
    resolved_at TEXT,
    outcome     TEXT CHECK (outcome IN ('approve', 'reject')),
    label       TEXT CHECK (label IN ('fraud', 'legit', 'account_takeover')),
    reviewer    TEXT,
    note        TEXT,
    resolved_by TEXT,
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
) STRICT;
CREATE INDEX reviews_queue ON reviews (status, opened_at, review_id);

-- Every label ever given; the latest per decision is the one training uses.
CREATE TABLE labels (
    label_id    TEXT PRIMARY KEY,
    decision_id TEXT NOT NULL REFERENCES decisions (decision_id),
    label       TEXT NOT NULL CHECK (label IN ('fraud', 'legit', 'chargeback', 'account_takeover')),
    source      TEXT NOT NULL CHECK (source IN ('review', 'chargeback', 'customer', 'analyst')),
    -- The channel's id for an imported row (a chargeback id), so a re-import is a duplicate.
    external_id TEXT,
    note        TEXT,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;
CREATE INDEX labels_decision ON labels (decision_id, created_at);
-- INVARIANT: an external row is imported once, whatever the number of imports.
CREATE UNIQUE INDEX labels_external ON labels (source, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE training_jobs (
    job_id        TEXT PRIMARY KEY,
    status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    finished_at   TEXT,
    model_version INTEGER,
    error         TEXT
) STRICT;

CREATE TABLE model_versions (
    version    INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The model artifact (coefficients, standardisation, metrics) as JSON.
    artifact   TEXT NOT NULL,
    job_id     TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

-- Which model version is active and which runs in shadow (champion / challenger).
CREATE TABLE model_slots (
    slot       TEXT PRIMARY KEY CHECK (slot IN ('active', 'shadow')),
    version    INTEGER REFERENCES model_versions (version),
    updated_at TEXT NOT NULL
) STRICT;

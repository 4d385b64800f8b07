-- Reconciliation runs, their difference tickets, the statements settled in the ledger, and the
-- daily job's claims (issue 20).
-- An applied migration is never edited: add a new file instead.
--
-- A statement is one file of one channel's day: two days may hold byte-identical files (a day
-- without movements), so the same file is the same statement only for the same day. SQLite
-- cannot drop a table constraint: `recon_statements` is rebuilt with it, its rows moved aside
-- first so that no drop leaves a reference dangling (foreign keys stay enforced).
CREATE TABLE recon_statements_next (
    id             TEXT PRIMARY KEY,
    channel        TEXT NOT NULL,
    statement_date TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    size_bytes     INTEGER NOT NULL CHECK (size_bytes >= 0),
    row_count      INTEGER NOT NULL CHECK (row_count >= 0),
    content        BLOB NOT NULL,
    imported_by    TEXT NOT NULL,
    imported_at    TEXT NOT NULL,
    UNIQUE (channel, statement_date, sha256)
) STRICT;
INSERT INTO recon_statements_next SELECT id, channel, statement_date, sha256, size_bytes,
    row_count, content, imported_by, imported_at FROM recon_statements;
CREATE TABLE recon_statement_rows_aside AS SELECT * FROM recon_statement_rows;
DROP TABLE recon_statement_rows;
DROP TABLE recon_statements;
ALTER TABLE recon_statements_next RENAME TO recon_statements;
CREATE INDEX recon_statements_day ON recon_statements (channel, statement_date);
CREATE TABLE recon_statement_rows (
    statement_id   TEXT NOT NULL REFERENCES recon_statements (id),
    line           INTEGER NOT NULL,
    row_id         TEXT NOT NULL,
    kind           TEXT NOT NULL,
    channel_txn_id TEXT NOT NULL,
    our_ref        TEXT,
    currency       TEXT NOT NULL,
    gross_minor    INTEGER NOT NULL,
    fee_minor      INTEGER NOT NULL,
    net_minor      INTEGER NOT NULL,
    booked_at      TEXT NOT NULL,
    PRIMARY KEY (statement_id, row_id)
) STRICT;
INSERT INTO recon_statement_rows SELECT statement_id, line, row_id, kind, channel_txn_id,
    our_ref, currency, gross_minor, fee_minor, net_minor, booked_at
    FROM recon_statement_rows_aside;
DROP TABLE recon_statement_rows_aside;

-- A run is kept with its counts; each difference it finds is a ticket, one per channel, day,
-- kind and reference however often the day is run again.
CREATE TABLE recon_runs (
    id             TEXT PRIMARY KEY,
    channel        TEXT NOT NULL,
    statement_date TEXT NOT NULL,
    statement_id   TEXT NOT NULL REFERENCES recon_statements (id),
    row_count      INTEGER NOT NULL CHECK (row_count >= 0),
    matched        INTEGER NOT NULL CHECK (matched >= 0),
    pending        INTEGER NOT NULL CHECK (pending >= 0),
    by_kind        TEXT NOT NULL,
    clean          INTEGER NOT NULL CHECK (clean IN (0, 1)),
    ran_by         TEXT NOT NULL,
    ran_at         TEXT NOT NULL
) STRICT;
CREATE INDEX recon_runs_day ON recon_runs (channel, statement_date, ran_at);

CREATE TABLE recon_tickets (
    id             TEXT PRIMARY KEY,
    run_id         TEXT NOT NULL REFERENCES recon_runs (id),
    channel        TEXT NOT NULL,
    statement_date TEXT NOT NULL,
    kind           TEXT NOT NULL,
    reference      TEXT NOT NULL,
    line           INTEGER,
    detail         TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('OPEN', 'RESOLVED', 'CLEARED')),
    opened_at      TEXT NOT NULL,
    closed_by      TEXT,
    closed_at      TEXT,
    note           TEXT,
    UNIQUE (channel, statement_date, kind, reference)
) STRICT;
CREATE INDEX recon_tickets_status ON recon_tickets (status, id);

-- The statement a channel's day is settled from: its fees and payout are posted once, and a
-- corrected statement of the day reverses them before posting its own.
CREATE TABLE recon_settlements (
    channel        TEXT NOT NULL,
    statement_date TEXT NOT NULL,
    statement_id   TEXT NOT NULL REFERENCES recon_statements (id),
    run_id         TEXT NOT NULL REFERENCES recon_runs (id),
    settled_at     TEXT NOT NULL,
    PRIMARY KEY (channel, statement_date)
) STRICT;

-- A scheduled job's claim on one unit of work (a channel's day): taken by one replica, taken
-- over when it lapses unfinished, never taken again once done.
CREATE TABLE job_claims (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    done_at     TEXT
) STRICT;

-- A day's journals are read by time and settlements by reference.
CREATE INDEX ledger_journals_created ON ledger_journals (created_at);
CREATE INDEX ledger_journals_reference ON ledger_journals (reference);

-- Reconciliation runs, their difference tickets, the statements settled in the ledger, and the
-- daily job's claims (issue 20).
-- An applied migration is never edited: add a new file instead.
--
-- A statement is one file of one channel's day: two days may hold byte-identical files (a day
-- without movements), so the same file is the same statement only for the same day.
ALTER TABLE recon_statements DROP CONSTRAINT recon_statements_channel_sha256_key;
ALTER TABLE recon_statements ADD CONSTRAINT recon_statements_channel_day_sha256_key
    UNIQUE (channel, statement_date, sha256);

-- A run is kept with its counts; each difference it finds is a ticket, one per channel, day,
-- kind and reference however often the day is run again.
CREATE TABLE recon_runs (
    id             TEXT PRIMARY KEY,
    channel        TEXT NOT NULL,
    statement_date TEXT NOT NULL,
    statement_id   TEXT NOT NULL REFERENCES recon_statements (id),
    row_count      BIGINT NOT NULL CHECK (row_count >= 0),
    matched        BIGINT NOT NULL CHECK (matched >= 0),
    pending        BIGINT NOT NULL CHECK (pending >= 0),
    by_kind        TEXT NOT NULL,
    clean          BOOLEAN NOT NULL,
    ran_by         TEXT NOT NULL,
    ran_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX recon_runs_day ON recon_runs (channel, statement_date, ran_at);

CREATE TABLE recon_tickets (
    id             TEXT PRIMARY KEY,
    run_id         TEXT NOT NULL REFERENCES recon_runs (id),
    channel        TEXT NOT NULL,
    statement_date TEXT NOT NULL,
    kind           TEXT NOT NULL,
    reference      TEXT NOT NULL,
    line           BIGINT,
    detail         TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('OPEN', 'RESOLVED', 'CLEARED')),
    opened_at      TIMESTAMPTZ NOT NULL,
    closed_by      TEXT,
    closed_at      TIMESTAMPTZ,
    note           TEXT,
    UNIQUE (channel, statement_date, kind, reference)
);
CREATE INDEX recon_tickets_status ON recon_tickets (status, id);

-- The statement a channel's day is settled from: its fees and payout are posted once, and a
-- corrected statement of the day reverses them before posting its own.
CREATE TABLE recon_settlements (
    channel        TEXT NOT NULL,
    statement_date TEXT NOT NULL,
    statement_id   TEXT NOT NULL REFERENCES recon_statements (id),
    run_id         TEXT NOT NULL REFERENCES recon_runs (id),
    settled_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (channel, statement_date)
);

-- A scheduled job's claim on one unit of work (a channel's day): taken by one replica, taken
-- over when it lapses unfinished, never taken again once done.
CREATE TABLE job_claims (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    done_at     TIMESTAMPTZ
);

-- A day's journals are read by time and settlements by reference.
CREATE INDEX ledger_journals_created ON ledger_journals (created_at);
CREATE INDEX ledger_journals_reference ON ledger_journals (reference);

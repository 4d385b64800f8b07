-- Channel statements for reconciliation (issue 20).
-- An applied migration is never edited: add a new file instead.
--
-- A statement file is archived unchanged, with its content hash, size and who imported it;
-- the same file (same channel, same SHA-256) imported again is the statement already held.
-- Its rows, as read, are kept beside it for matching; a file that does not read imports
-- nothing (the rows and the archive are written in one transaction).
CREATE TABLE recon_statements (
    id             TEXT PRIMARY KEY,
    channel        TEXT NOT NULL,
    statement_date TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    size_bytes     BIGINT NOT NULL CHECK (size_bytes >= 0),
    row_count      BIGINT NOT NULL CHECK (row_count >= 0),
    content        BYTEA NOT NULL,
    imported_by    TEXT NOT NULL,
    imported_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (channel, sha256)
);
CREATE INDEX recon_statements_day ON recon_statements (channel, statement_date);

CREATE TABLE recon_statement_rows (
    statement_id   TEXT NOT NULL REFERENCES recon_statements (id),
    line           BIGINT NOT NULL,
    row_id         TEXT NOT NULL,
    kind           TEXT NOT NULL,
    channel_txn_id TEXT NOT NULL,
    our_ref        TEXT,
    currency       TEXT NOT NULL,
    gross_minor    BIGINT NOT NULL,
    fee_minor      BIGINT NOT NULL,
    net_minor      BIGINT NOT NULL,
    booked_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (statement_id, row_id)
);

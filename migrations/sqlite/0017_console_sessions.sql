-- Reviewer console sessions (issue 17). The cookie holds a random secret; only its SHA-256 is
-- stored, so neither the cookie nor this table is an API key. Ended by a sign-out; rows a
-- day past their expiry are deleted by the next sign-in.
-- An applied migration is never edited: add a new file instead.
CREATE TABLE console_sessions (
    id_hash    TEXT PRIMARY KEY,
    key_id     TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at   TEXT
) STRICT;
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- Rule snoozes (issue 17): a reviewer silences one rule for one entity until an expiry.
-- An applied migration is never edited: add a new file instead.

-- `value` is normalised as the matching decision field is (the address kind holds its
-- hash), like a list entry's. A revoked snooze is kept (revoked_at set): decisions name the
-- rules it silenced, and the audit log names it.
CREATE TABLE rule_snoozes (
    id              TEXT PRIMARY KEY,
    rule            TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('user', 'device', 'ip', 'card', 'email', 'phone', 'address')),
    value           TEXT NOT NULL,
    reason          TEXT NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    created_by      TEXT NOT NULL,
    created_by_name TEXT NOT NULL,
    revoked_at      TIMESTAMPTZ
);
-- The pipeline's snapshot loads the live ones; a listing filters by entity.
CREATE INDEX rule_snoozes_live ON rule_snoozes (expires_at) WHERE revoked_at IS NULL;
CREATE INDEX rule_snoozes_entity ON rule_snoozes (kind, value);

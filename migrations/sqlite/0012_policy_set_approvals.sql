-- Maker-checker (issue 16, guarded activation): a second key's approval of a policy set
-- version for live traffic. A deployment started with --require-approval refuses a live
-- rollout or a promotion of a set no other key than the caller's has approved.
-- An applied migration is never edited: add a new file instead.
CREATE TABLE policy_set_approvals (
    version     INTEGER NOT NULL REFERENCES policy_sets (version),
    approved_by TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    note        TEXT,
    PRIMARY KEY (version, approved_by)
) STRICT;

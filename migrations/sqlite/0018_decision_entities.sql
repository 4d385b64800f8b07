-- Decisions by entity (issue 17): which decisions named a user, device, card, e-mail, phone,
-- shipping address or IP. The console's entity page lists them, and a case compares its
-- decision with the customer's usual behaviour from them.
-- An applied migration is never edited: add a new file instead.

-- One row per entity a decision names, written in the decision's own transaction. `entity`
-- is the value as the decision's enriched context holds it (normalised; the address kind holds
-- its hash), exactly what the link graph keys its nodes by. Decision ids are UUIDv7, so the
-- key's order within one entity is time order: a page is one range of the primary key, and no
-- second index is written per row. No foreign key: retention deletes these rows with their
-- decision (an index on decision_id for the cascade would double the cost of every write).
CREATE TABLE decision_entities (
    kind        TEXT NOT NULL CHECK (kind IN ('user', 'device', 'ip', 'card', 'email', 'phone', 'address')),
    entity      TEXT NOT NULL,
    decision_id TEXT NOT NULL,
    PRIMARY KEY (kind, entity, decision_id)
) STRICT, WITHOUT ROWID;

-- Decisions stored before this migration get their rows from their bodies; empty values are
-- skipped, as the link graph skips them.
WITH k (kind, path) AS (
    VALUES ('user', '$.context.user_id'), ('device', '$.context.device_id'),
           ('card', '$.context.card_fingerprint'), ('email', '$.context.email'),
           ('phone', '$.context.phone'), ('address', '$.context.shipping_address_hash'),
           ('ip', '$.context.ip'))
INSERT INTO decision_entities (kind, entity, decision_id)
SELECT k.kind, json_extract(d.body, k.path), d.decision_id
FROM decisions d CROSS JOIN k
WHERE IFNULL(json_extract(d.body, k.path), '') <> '';

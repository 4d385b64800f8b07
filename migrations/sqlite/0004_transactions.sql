-- The transaction core (SQLite): catalogue and stock, reservations, orders, payments, refunds,
-- the double-entry ledger, the outbox, the due-time queue and the channel callback log.
-- An applied migration is never edited: add a new file instead.
-- STRICT tables; money as integer minor units plus an ISO 4217 code; RFC 3339 UTC text
-- timestamps with microseconds (fixed width, so text order is time order).

CREATE TABLE skus (
    sku         TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    price_minor INTEGER NOT NULL CHECK (price_minor >= 0),
    currency    TEXT NOT NULL,
    total       INTEGER NOT NULL DEFAULT 0,
    reserved    INTEGER NOT NULL DEFAULT 0,
    sold        INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    -- INVARIANT: stock is conserved and never oversold, whatever the code above does.
    CHECK (reserved >= 0 AND sold >= 0 AND reserved + sold <= total)
) STRICT;

CREATE TABLE reservations (
    id         TEXT PRIMARY KEY,
    status     TEXT NOT NULL CHECK (status IN ('held', 'confirmed', 'released')),
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE reservation_lines (
    reservation_id TEXT NOT NULL REFERENCES reservations (id),
    sku            TEXT NOT NULL REFERENCES skus (sku),
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (reservation_id, sku)
) STRICT;

CREATE TABLE orders (
    id                 TEXT PRIMARY KEY,
    -- INVARIANT: one order per idempotency key.
    idempotency_key    TEXT NOT NULL UNIQUE,
    body_hash          TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('CREATING', 'PENDING_PAYMENT', 'PAID',
        'FULFILLING', 'FULFILLED', 'DONE', 'REJECTED', 'CANCELLED', 'CANCELLED_AFTER_PAY')),
    user_id            TEXT NOT NULL,
    -- The client's request as JSON: an idempotency record read back whole, never queried.
    request            TEXT NOT NULL,
    total_minor        INTEGER NOT NULL CHECK (total_minor >= 0),
    currency           TEXT NOT NULL,
    reservation_id     TEXT NOT NULL REFERENCES reservations (id),
    challenge_required INTEGER NOT NULL DEFAULT 0,
    risk_action        TEXT,
    risk_decision_id   TEXT,
    risk_fault         TEXT,
    risk_fail_mode     TEXT,
    expires_at         TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
) STRICT;

CREATE TABLE order_items (
    order_id         TEXT NOT NULL REFERENCES orders (id),
    line             INTEGER NOT NULL,
    sku              TEXT NOT NULL REFERENCES skus (sku),
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_minor INTEGER NOT NULL CHECK (unit_price_minor >= 0),
    currency         TEXT NOT NULL,
    PRIMARY KEY (order_id, line)
) STRICT;

CREATE TABLE payments (
    id                 TEXT PRIMARY KEY,
    order_id           TEXT NOT NULL REFERENCES orders (id),
    idempotency_key    TEXT NOT NULL UNIQUE,
    body_hash          TEXT NOT NULL,
    channel            TEXT NOT NULL,
    channel_payment_id TEXT NOT NULL UNIQUE,
    status             TEXT NOT NULL CHECK (status IN ('INIT', 'PROCESSING', 'SUCCEEDED', 'FAILED')),
    amount_minor       INTEGER NOT NULL CHECK (amount_minor > 0),
    currency           TEXT NOT NULL,
    risk_action        TEXT,
    risk_decision_id   TEXT,
    risk_fault         TEXT,
    risk_fail_mode     TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
) STRICT;
CREATE INDEX payments_order ON payments (order_id);

CREATE TABLE refunds (
    id                TEXT PRIMARY KEY,
    payment_id        TEXT NOT NULL REFERENCES payments (id),
    idempotency_key   TEXT NOT NULL UNIQUE,
    body_hash         TEXT NOT NULL,
    channel_refund_id TEXT NOT NULL UNIQUE,
    status            TEXT NOT NULL CHECK (status IN ('REQUESTED', 'PROCESSING', 'SUCCEEDED', 'FAILED')),
    amount_minor      INTEGER NOT NULL CHECK (amount_minor > 0),
    currency          TEXT NOT NULL,
    reason            TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) STRICT;
CREATE INDEX refunds_payment ON refunds (payment_id);

-- Every status change of an order, payment or refund, in order.
CREATE TABLE status_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    entity      TEXT NOT NULL CHECK (entity IN ('order', 'payment', 'refund')),
    entity_id   TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    note        TEXT NOT NULL,
    at          TEXT NOT NULL
) STRICT;
CREATE INDEX status_history_entity ON status_history (entity, entity_id, id);

CREATE TABLE ledger_journals (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    reference  TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

-- Debits positive, credits negative; a journal's entries sum to zero per currency.
CREATE TABLE ledger_entries (
    journal_id   TEXT NOT NULL REFERENCES ledger_journals (id),
    line         INTEGER NOT NULL,
    account      TEXT NOT NULL,
    amount_minor INTEGER NOT NULL CHECK (amount_minor <> 0),
    currency     TEXT NOT NULL,
    PRIMARY KEY (journal_id, line)
) STRICT;
CREATE INDEX ledger_entries_account ON ledger_entries (account, currency);

-- Kept balances, updated with every journal; `ledger check` re-sums them from the entries.
CREATE TABLE ledger_balances (
    account       TEXT NOT NULL,
    currency      TEXT NOT NULL,
    balance_minor INTEGER NOT NULL,
    PRIMARY KEY (account, currency)
) STRICT;

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    topic        TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    published_at TEXT
) STRICT;

CREATE TABLE due_items (
    kind         TEXT NOT NULL,
    key          TEXT NOT NULL,
    due_at       TEXT NOT NULL,
    leased_until TEXT,
    PRIMARY KEY (kind, key)
) STRICT;
CREATE INDEX due_items_due ON due_items (due_at);

-- INVARIANT: a channel event is applied at most once.
CREATE TABLE applied_events (
    channel    TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (channel, event_id)
) STRICT;

-- Every callback received, applied or not: raw body, verdict, time.
CREATE TABLE channel_callbacks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    channel     TEXT NOT NULL,
    event_id    TEXT,
    raw         BLOB NOT NULL,
    verdict     TEXT NOT NULL,
    detail      TEXT,
    received_at TEXT NOT NULL
) STRICT;

-- Payment channels beyond the card (issue 19).
-- An applied migration is never edited: add a new file instead.
--
-- What the paying client needs from the channel once it has the payment (Alipay's and WeChat
-- Pay's QR code, a redirect, a card form's client secret): stored the first time the channel
-- answers, so a repeated start with the same Idempotency-Key gets the same code.
CREATE TABLE payment_client_actions (
    payment_id TEXT PRIMARY KEY REFERENCES payments (id),
    kind       TEXT NOT NULL CHECK (kind IN ('qr_code', 'redirect', 'client_secret')),
    value      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- The compensation worker's scan: payments still at their channel, oldest first.
CREATE INDEX payments_processing ON payments (updated_at) WHERE status = 'PROCESSING';

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
    created_at TEXT NOT NULL
) STRICT;

-- The compensation worker's scan: payments still at their channel, oldest first.
CREATE INDEX payments_processing ON payments (updated_at) WHERE status = 'PROCESSING';

-- The channel table: which channels new payments may go through. An operator switches one off
-- (`arbiter channels disable alipay`, `POST /v1/channels/{name}/disable`) and new payments
-- go to the next eligible one (enabled, configured with credentials on the server, taking the
-- payment's method and currency), highest priority first. `credentials` says where they come
-- from; no secret is ever stored here.
CREATE TABLE payment_channels (
    name        TEXT PRIMARY KEY,
    enabled     INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    priority    INTEGER NOT NULL,
    methods     TEXT NOT NULL,
    currencies  TEXT NOT NULL,
    credentials TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL
) STRICT;
INSERT INTO payment_channels (name, enabled, priority, methods, currencies, credentials, updated_at, updated_by) VALUES
    ('card',   1, 10, 'card', '*',   'the card webhook secret (ARBITER_CARD_WEBHOOK_SECRET or <data-dir>/card-webhook.secret)', '2026-12-06T00:00:00.000000Z', 'migration'),
    ('alipay', 1, 30, 'qr',   'CNY', 'the --alipay-* flags and key files, or --channel-simulator', '2026-12-06T00:00:00.000000Z', 'migration'),
    ('wechat', 1, 20, 'qr',   'CNY', 'the --wechat-* flags and key files, or --channel-simulator', '2026-12-06T00:00:00.000000Z', 'migration');

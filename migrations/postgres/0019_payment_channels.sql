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

-- The channel table: which channels new payments may go through. An operator switches one off
-- (`arbiter channels disable alipay`, `POST /v1/channels/{name}/disable`) and new payments
-- go to the next eligible one (enabled, configured with credentials on the server, taking the
-- payment's method and currency), highest priority first. `credentials` says where they come
-- from; no secret is ever stored here.
CREATE TABLE payment_channels (
    name        TEXT PRIMARY KEY,
    enabled     BOOLEAN NOT NULL,
    priority    INTEGER NOT NULL,
    methods     TEXT NOT NULL,
    currencies  TEXT NOT NULL,
    credentials TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    updated_by  TEXT NOT NULL
);
INSERT INTO payment_channels (name, enabled, priority, methods, currencies, credentials, updated_at, updated_by) VALUES
    ('card',   TRUE, 10, 'card', '*',   'the card webhook secret (ARBITER_CARD_WEBHOOK_SECRET or <data-dir>/card-webhook.secret)', now(), 'migration'),
    ('alipay', TRUE, 30, 'qr',   'CNY', 'the --alipay-* flags and key files, or --channel-simulator', now(), 'migration'),
    ('wechat', TRUE, 20, 'qr',   'CNY', 'the --wechat-* flags and key files, or --channel-simulator', now(), 'migration');

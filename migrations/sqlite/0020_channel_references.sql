-- The card channel's own ids (issue 19).
-- An applied migration is never edited: add a new file instead.
--
-- Stripe names a payment with its own id (`pi_…`), given in the answer to the create, and
-- every later call about the payment (read it, cancel it, refund it) names that id. It is
-- kept beside the client action that came in the same answer; Alipay and WeChat Pay name
-- payments by ours and leave it empty.
ALTER TABLE payment_client_actions ADD COLUMN channel_reference TEXT;

-- The card channel now also has an API key (for intents, cancels, refunds and queries).
UPDATE payment_channels
   SET credentials = 'the card webhook secret (ARBITER_CARD_WEBHOOK_SECRET or <data-dir>/card-webhook.secret), and for its API --card-api-key-file, or --channel-simulator'
 WHERE name = 'card' AND updated_by = 'migration';

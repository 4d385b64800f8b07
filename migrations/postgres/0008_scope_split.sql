-- `decide` no longer covers orders, payments and refunds (issue 15): those are `orders:write`
-- and `refunds:write`. Keys minted before the split keep what they could do there, so a
-- running checkout does not start failing on upgrade; reading a decision's detail (now
-- `decisions:read`) is not carried over: it exposes personal data a checkout never needed.
UPDATE api_keys SET scopes = scopes || ',orders:write,refunds:write'
WHERE ',' || scopes || ',' LIKE '%,decide,%';

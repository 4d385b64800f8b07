-- Keys become named records (issue 15): a name, who created it, an optional expiry, when it
-- was last used and when it was revoked. Keys minted before this release get their id as
-- their name (`key_<hex>`, which is what logs and the audit log already called them) and
-- `unknown` as their creator: nothing recorded who minted them. The defaults serve only this
-- backfill and are dropped after it, so every later insert must name a key.
ALTER TABLE api_keys ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE api_keys ADD COLUMN last_used_at TIMESTAMPTZ;
ALTER TABLE api_keys ADD COLUMN revoked_at TIMESTAMPTZ;
UPDATE api_keys SET name = id, created_by = 'unknown';
ALTER TABLE api_keys ALTER COLUMN name DROP DEFAULT;
ALTER TABLE api_keys ALTER COLUMN created_by DROP DEFAULT;

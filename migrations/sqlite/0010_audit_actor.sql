-- The audit log names the acting key by its name and keeps its id beside it (issue 15):
-- names are chosen by people and need not be unique. Entries written before this release
-- recorded the key id as the actor; they keep it as `actor_id` and get the key's name where
-- the key still exists.
ALTER TABLE audit_log ADD COLUMN actor_id TEXT NOT NULL DEFAULT '';
UPDATE audit_log SET actor_id = actor;
UPDATE audit_log SET actor = (SELECT name FROM api_keys WHERE api_keys.id = audit_log.actor)
WHERE EXISTS (SELECT 1 FROM api_keys WHERE api_keys.id = audit_log.actor);

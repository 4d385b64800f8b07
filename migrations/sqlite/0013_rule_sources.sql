-- Rule authoring (issue 24): a module compiled by the server from a rule file keeps the
-- file's text beside it, so `GET /v1/rules/{name}/versions/{version}` shows what an analyst
-- wrote and a later compiler can rebuild it. NULL for a module uploaded as WebAssembly.
-- An applied migration is never edited: add a new file instead.
ALTER TABLE policy_modules ADD COLUMN source TEXT;

-- The reviewer console (issue 17): claims with a lease, escalation, and the reason codes the
-- queue filters on.
-- An applied migration is never edited: add a new file instead.

-- The decision's checkpoint, copied so the queue filters and counts without reading decisions.
ALTER TABLE reviews ADD COLUMN checkpoint TEXT NOT NULL DEFAULT '';
-- The decision's reason codes, every layer's, as `,code,code,` ('' without any): the queue's
-- reason filter is one `LIKE '%,code,%'` on the review row instead of a scan of the bodies.
ALTER TABLE reviews ADD COLUMN reason_codes TEXT NOT NULL DEFAULT '';
-- The last claim: the key that holds (or held) the case, its name, and when the lease ends.
-- A lapsed lease is simply in the past; no job clears it.
ALTER TABLE reviews ADD COLUMN claimed_by TEXT;
ALTER TABLE reviews ADD COLUMN claimed_by_name TEXT;
ALTER TABLE reviews ADD COLUMN claimed_until TIMESTAMPTZ;
-- Passed to a senior reviewer: still open, flagged.
ALTER TABLE reviews ADD COLUMN escalated_at TIMESTAMPTZ;
ALTER TABLE reviews ADD COLUMN escalated_by TEXT;
ALTER TABLE reviews ADD COLUMN escalation_note TEXT;

-- Reviews opened before this migration get both from their decision.
UPDATE reviews SET checkpoint = (SELECT d.event FROM decisions d WHERE d.decision_id = reviews.decision_id);
UPDATE reviews SET reason_codes = COALESCE(
    (SELECT ',' || string_agg(DISTINCT r->>'code', ',') || ','
     FROM decisions d, jsonb_array_elements(
         CASE WHEN jsonb_typeof(d.body->'reasons') = 'array' THEN d.body->'reasons'
              ELSE '[]'::jsonb END) r
     WHERE d.decision_id = reviews.decision_id),
    '');

-- The compact stored decision (issue 23): a decision is stored once, in a few hundred bytes.
-- An applied migration is never edited: add a new file instead.
--
-- `packed`: the decision as JSON without the ids and hash its own columns hold, compressed with
-- zstd against a dictionary trained on decisions (storage's `stored_decision`). `chain`: the
-- previous decision of each entity kind it names, seven 16-byte ids (null when none), which an
-- entity's history walks. New rows have no `body`; rows stored before keep their whole JSON
-- there and no `packed`, and are read as they were.
ALTER TABLE decisions
    ADD COLUMN packed BYTEA,
    ADD COLUMN chain BYTEA,
    ALTER COLUMN body DROP NOT NULL;
-- Exactly one of the two forms.
ALTER TABLE decisions ADD CONSTRAINT decisions_one_form CHECK ((body IS NULL) <> (packed IS NULL));

-- A replay's input was the decision's context again (~1.3 kB); replays now read it from the
-- stored decision, which holds it.
ALTER TABLE decision_features DROP COLUMN replay;

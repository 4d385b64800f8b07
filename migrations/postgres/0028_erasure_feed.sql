-- Erasures reach the other replicas (issue 22): each replica reads the erasures' audit entries
-- after the last it applied (their detail names the person's entities by pseudonym), and its
-- version check asks for the newest every two seconds. This index keeps both to the erasures
-- instead of a walk of the whole log. An applied migration is never edited: add a new file
-- instead.
CREATE INDEX audit_log_erasures ON audit_log (id) WHERE action = 'subject.erase';

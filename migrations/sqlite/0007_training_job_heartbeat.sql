-- A running training job's process writes a heartbeat; a job whose heartbeat stopped (the
-- process crashed or was killed) is marked failed by the next start or sweep instead of
-- staying `running` for ever.
ALTER TABLE training_jobs ADD COLUMN heartbeat_at TEXT;

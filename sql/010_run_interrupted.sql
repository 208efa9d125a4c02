-- 010_run_interrupted.sql -- a run can end `interrupted`: stopped by SIGTERM or SIGINT (it
-- rolled back its open day and closed its row), or found `running` by a later run although
-- no process holds its lock any more (it was killed, or lost its machine or connection).
ALTER TABLE livekit.archive_runs DROP CONSTRAINT archive_runs_status_check;
ALTER TABLE livekit.archive_runs ADD CONSTRAINT archive_runs_status_check
    CHECK (status IN ('running', 'ok', 'incomplete', 'failed', 'interrupted'));

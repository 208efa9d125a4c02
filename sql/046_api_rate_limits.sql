-- 046_api_rate_limits.sql -- the request rate each rate domain (a project with its API key)
-- was last found to allow, so that the next night starts from it instead of learning it again
-- from 429 answers. A plain table on the coordinator under Citus, like the ledger.
CREATE TABLE livekit.api_rate_limits (
    project_id            text             NOT NULL,
    api_key               text             NOT NULL,
    requests_per_minute   double precision NOT NULL CHECK (requests_per_minute > 0),
    limited               boolean          NOT NULL,
    updated_at            timestamptz      NOT NULL DEFAULT now(),
    run_id                bigint,
    last_run_requests     bigint           NOT NULL DEFAULT 0,
    last_run_throttled    bigint           NOT NULL DEFAULT 0,
    last_run_wait_seconds double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, api_key)
);
COMMENT ON TABLE livekit.api_rate_limits IS
    'Internal: the API request rate each project (with its API key) was last found to allow; a run starts from it';
COMMENT ON COLUMN livekit.api_rate_limits.project_id IS 'The project';
COMMENT ON COLUMN livekit.api_rate_limits.api_key IS 'The API key its requests were signed with (the rate limit belongs to the project and its credentials)';
COMMENT ON COLUMN livekit.api_rate_limits.requests_per_minute IS 'The rate a run ended at: learned from 429 answers and rate-limit headers, or the fastest it went without one';
COMMENT ON COLUMN livekit.api_rate_limits.limited IS 'true: the API limited the run (429 or rate-limit headers), so this is near the limit; false: no limit was met, the limit is at least this';
COMMENT ON COLUMN livekit.api_rate_limits.updated_at IS 'When a run last wrote this row';
COMMENT ON COLUMN livekit.api_rate_limits.run_id IS 'The run that last wrote this row (livekit.archive_runs)';
COMMENT ON COLUMN livekit.api_rate_limits.last_run_requests IS 'Requests that run sent for the project, retries included';
COMMENT ON COLUMN livekit.api_rate_limits.last_run_throttled IS 'Of those, answered 429 (rate limited)';
COMMENT ON COLUMN livekit.api_rate_limits.last_run_wait_seconds IS 'Seconds that run spent waiting on the rate limit for the project';

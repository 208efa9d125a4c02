-- 001_schema.sql -- the archive: sessions, participants, connections, and the run/day ledger.
--
-- Column names follow the external contract (interface.md, restated in the README).
-- Every table carries project_id. Timestamps are timestamptz (UTC); "not set" is NULL.
-- Fields the upstream API adds later are kept in jsonb `extra`, never dropped.
-- `archived_at` is when a row first entered the archive; `updated_at` changes only when a
-- row's data really changed (upserts compare with IS DISTINCT FROM), so re-running a window
-- leaves every row exactly as it was.

CREATE SCHEMA IF NOT EXISTS livekit;

CREATE TABLE livekit.sessions (
    project_id              text        NOT NULL,
    session_id              text        NOT NULL,
    room_name               text,
    created_at              timestamptz,
    ended_at                timestamptz,
    last_active             timestamptz,
    bandwidth_in            bigint,
    bandwidth_out           bigint,
    egress                  smallint,
    num_participants        integer,
    num_active_participants integer,
    start_time              timestamptz,
    end_time                timestamptz,
    bandwidth               bigint,
    connection_minutes      numeric,
    -- details' own numParticipants (the contract's num_participants is the list's)
    details_num_participants integer,
    -- the UTC day whose list returned the session (the day it was archived under)
    list_day                date,
    -- unknown or unconvertible fields, kept apart by source so each upsert owns its half
    list_extra              jsonb       NOT NULL DEFAULT '{}',
    details_extra           jsonb       NOT NULL DEFAULT '{}',
    extra                   jsonb       GENERATED ALWAYS AS (list_extra || details_extra) STORED,
    details_archived        boolean     NOT NULL DEFAULT false,
    -- a hash of the list entry as lkarchive last stored it: an ended, fully archived session
    -- whose list entry hashes the same is not staged again (a night's unchanged days are cheap)
    list_hash               bigint,
    archived_at             timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, session_id)
);
CREATE INDEX sessions_created_at ON livekit.sessions (project_id, created_at);
CREATE INDEX sessions_list_day ON livekit.sessions (project_id, list_day);

CREATE TABLE livekit.participants (
    project_id                   text        NOT NULL,
    session_id                   text        NOT NULL,
    participant_identity         text        NOT NULL,
    participant_name             text,
    joined_at                    timestamptz,
    left_at                      timestamptz,
    region                       text,
    connection_type              text,
    sdk_version                  text,
    published_camera_track       boolean,
    published_microphone_track   boolean,
    published_screen_share_track boolean,
    published_screen_share_audio boolean,
    extra                        jsonb       NOT NULL DEFAULT '{}',
    archived_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, session_id, participant_identity),
    FOREIGN KEY (project_id, session_id) REFERENCES livekit.sessions (project_id, session_id)
);

CREATE TABLE livekit.participant_connections (
    project_id           text        NOT NULL,
    session_id           text        NOT NULL,
    connection_id        text        NOT NULL,
    participant_identity text        NOT NULL,
    joined_at            timestamptz,
    left_at              timestamptz,
    extra                jsonb       NOT NULL DEFAULT '{}',
    archived_at          timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, session_id, connection_id),
    FOREIGN KEY (project_id, session_id) REFERENCES livekit.sessions (project_id, session_id)
);
CREATE INDEX participant_connections_participant
    ON livekit.participant_connections (project_id, session_id, participant_identity);

CREATE TABLE livekit.archive_runs (
    run_id              bigserial   PRIMARY KEY,
    started_at          timestamptz NOT NULL DEFAULT now(),
    finished_at         timestamptz,
    status              text        NOT NULL DEFAULT 'running'
                        CHECK (status IN ('running', 'ok', 'incomplete', 'failed')),
    today               date        NOT NULL,
    window_start        date        NOT NULL,
    window_end          date        NOT NULL,
    projects            text[]      NOT NULL,
    days_complete       integer     NOT NULL DEFAULT 0,
    days_pending        integer     NOT NULL DEFAULT 0,
    days_failed         integer     NOT NULL DEFAULT 0,
    sessions            bigint      NOT NULL DEFAULT 0,
    participants        bigint      NOT NULL DEFAULT 0,
    connections         bigint      NOT NULL DEFAULT 0,
    requests            bigint      NOT NULL DEFAULT 0,
    details_fetched     bigint      NOT NULL DEFAULT 0,
    details_skipped     bigint      NOT NULL DEFAULT 0,
    warnings            bigint      NOT NULL DEFAULT 0,
    new_fields          text[]      NOT NULL DEFAULT '{}',
    version             text        NOT NULL,
    message             text
);

CREATE TABLE livekit.archive_days (
    project_id        text        NOT NULL,
    day               date        NOT NULL,
    status            text        NOT NULL CHECK (status IN ('complete', 'pending', 'failed')),
    complete          boolean     GENERATED ALWAYS AS (status = 'complete') STORED,
    completed_at      timestamptz,
    completed_run_id  bigint      REFERENCES livekit.archive_runs (run_id),
    last_run_id       bigint      REFERENCES livekit.archive_runs (run_id),
    last_attempt_at   timestamptz NOT NULL DEFAULT now(),
    attempts          integer     NOT NULL DEFAULT 1,
    sessions          integer     NOT NULL DEFAULT 0,
    active_sessions   integer     NOT NULL DEFAULT 0,
    participants      integer     NOT NULL DEFAULT 0,
    connections       integer     NOT NULL DEFAULT 0,
    pages             integer     NOT NULL DEFAULT 0,
    -- why a day is not complete yet: 'day not over', 'active sessions' or 'error'
    pending_reason    text,
    last_error        text,
    -- a day that left the 7-day window incomplete is a gap; acknowledged ones stop failing runs
    gap_acknowledged_at timestamptz,
    PRIMARY KEY (project_id, day)
);

-- Field names the API sent that lkarchive does not map to a column (kept in `extra`):
-- the run summary names the ones seen for the first time, so upstream schema drift shows.
CREATE TABLE livekit.seen_fields (
    path          text        PRIMARY KEY,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    first_run_id  bigint      REFERENCES livekit.archive_runs (run_id)
);

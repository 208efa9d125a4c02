-- stage.sql -- the day's stage (store_stage.c).

-- name: create_stage
-- The stage: temporary, emptied at each commit, partitioned by kind (L list, D details,
-- P participant, C connection rows: each merge reads its kind's rows only, not the whole
-- stage); its columns are the binary COPY's (store_stage.c's column table). lk_new holds the
-- staged sessions new to the archive (merge.sql's collect_new_sessions). Several statements:
-- sent as a simple query.
CREATE TEMP TABLE IF NOT EXISTS lk_stage (
    seq bigint, attempt integer, kind "char", session_id text, participant_identity text,
    connection_id text, room_name text, created_at timestamptz, ended_at timestamptz,
    last_active timestamptz, bandwidth_in bigint, bandwidth_out bigint, egress smallint,
    num_participants integer, num_active_participants integer, start_time timestamptz,
    end_time timestamptz, bandwidth bigint, connection_minutes text,
    details_num_participants integer, participant_name text, joined_at timestamptz,
    left_at timestamptz, region text, connection_type text, sdk_version text,
    camera boolean, microphone boolean, screen_share boolean, screen_share_audio boolean,
    extra jsonb, list_hash bigint) PARTITION BY LIST (kind) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS lk_stage_l PARTITION OF lk_stage FOR VALUES IN ('L')
    ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS lk_stage_d PARTITION OF lk_stage FOR VALUES IN ('D')
    ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS lk_stage_p PARTITION OF lk_stage FOR VALUES IN ('P')
    ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS lk_stage_c PARTITION OF lk_stage FOR VALUES IN ('C')
    ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS lk_new (session_id text PRIMARY KEY) ON COMMIT DELETE ROWS

-- name: sessions_needing_details
-- The newest staged list row per session, compared with what the archive holds: rows
-- (session id, whether its details are needed); a session listed here without needing details
-- only changed its list entry. $1 project $2 discarded attempts $3 full $4 day $5 settling
-- seconds ("active" counts a session still settling too: its details are fetched again).
SELECT session_id, list_changed OR details_missing OR active OR $3::boolean AS needs_details
FROM (SELECT s.session_id, s.seq,
             t.session_id IS NULL
             OR (s.room_name, s.created_at, s.ended_at, s.last_active, s.bandwidth_in,
                 s.bandwidth_out, s.egress, s.num_participants, s.num_active_participants,
                 s.extra, LEAST(t.list_day, $4::date), s.list_hash)
                IS DISTINCT FROM (t.room_name, t.created_at, t.ended_at, t.last_active,
                 t.bandwidth_in, t.bandwidth_out, t.egress, t.num_participants,
                 t.num_active_participants, t.list_extra, t.list_day, t.list_hash)
                AS list_changed,
             t.session_id IS NULL OR NOT t.details_archived AS details_missing,
             s.ended_at IS NULL
             OR s.ended_at > now() - make_interval(secs => $5::double precision) AS active
      FROM (SELECT DISTINCT ON (session_id COLLATE "C") * FROM lk_stage
            WHERE kind = 'L' AND attempt <> ALL ($2::integer[])
            ORDER BY session_id COLLATE "C", seq DESC) s
      LEFT JOIN livekit.sessions t ON t.project_id = $1::text AND t.session_id = s.session_id) c
WHERE list_changed OR details_missing OR active OR $3::boolean
ORDER BY seq

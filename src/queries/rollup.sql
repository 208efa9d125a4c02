-- rollup.sql -- the daily rollup's two halves around the day's merges (store_rollup.c).
-- $1 project $2 discarded attempts (integer[]).

-- name: rollup_days_before
-- Before the merges: the days the archive holds the staged sessions (not new ones) under.
SELECT livekit.rollup_days_of_sessions($1::text,
           ARRAY(SELECT DISTINCT session_id FROM lk_stage
                 WHERE attempt <> ALL ($2::integer[])
                   AND session_id NOT IN (SELECT session_id FROM lk_new)))::text

-- name: rollup_refresh
-- After them: those days ($3, date[]) and the staged sessions' days now, recomputed.
SELECT livekit.rollup_refresh($1::text,
           $3::date[] || livekit.rollup_days_of_sessions($1::text,
               ARRAY(SELECT DISTINCT session_id FROM lk_stage
                     WHERE attempt <> ALL ($2::integer[]))))

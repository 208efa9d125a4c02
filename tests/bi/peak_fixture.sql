-- peak_fixture.sql -- the connection intervals whose peak concurrency is easy to get wrong, for
-- test_bi_rollup.sh: project p_peak, rows straight into the base tables, then the rollup
-- refreshed as a run refreshes it. Intervals are half-open [joined_at, left_at). Expected
-- (test_bi_rollup.sh checks these and livekit_bi_reference.daily_peak_concurrency):
--   2026-11-10: A [10:00, 11:00) and B [11:00, 12:00) touch: 1 at 10:00. Then C, D, E all
--               start at 13:00:00 (a tie) and end 13:30: 3 at 13:00. F [13:30, 14:00) starts
--               when they end: still 3 at 13:00. -> 3 at 13:00
--   2026-11-11: G [2026-11-10 23:00, 2026-11-11 01:00) and H [2026-11-10 23:30, open to its
--               session's end 2026-11-11 00:30): 2 open at midnight; I starts at 00:30:00 as
--               H ends: 2 again, later -> 2 at 00:00
--   2026-11-12: J starts exactly at midnight [00:00, 00:10), K [00:05, 00:20), L [00:05, 00:06):
--               3 at 00:05 -> 3 at 00:05
--   2026-11-13: nothing starts; M [2026-11-12 23:59:59.999999, 2026-11-13 00:00:00) ends at
--               midnight: 0 open -> no row
--   2026-11-14: N, O, P [08:00, 08:00:00.000001) each a microsecond; Q [07:00, 09:00):
--               4 at 08:00 -> 4 at 08:00
INSERT INTO livekit.sessions (project_id, session_id, room_name, created_at, ended_at,
                              last_active, start_time, end_time, list_day)
VALUES ('p_peak', 'RM_p10', 'peak', '2026-11-10 10:00+00', '2026-11-10 14:00+00',
        '2026-11-10 14:00+00', '2026-11-10 10:00+00', '2026-11-10 14:00+00', '2026-11-10'),
       ('p_peak', 'RM_p10b', 'peak', '2026-11-10 23:00+00', '2026-11-11 00:30+00',
        '2026-11-11 00:30+00', '2026-11-10 23:00+00', '2026-11-11 00:30+00', '2026-11-10'),
       ('p_peak', 'RM_p11', 'peak', '2026-11-11 00:30+00', '2026-11-11 02:00+00',
        '2026-11-11 02:00+00', '2026-11-11 00:30+00', '2026-11-11 02:00+00', '2026-11-11'),
       ('p_peak', 'RM_p12', 'peak', '2026-11-12 00:00+00', '2026-11-13 00:00+00',
        '2026-11-13 00:00+00', '2026-11-12 00:00+00', '2026-11-13 00:00+00', '2026-11-12'),
       ('p_peak', 'RM_p14', 'peak', '2026-11-14 07:00+00', '2026-11-14 09:00+00',
        '2026-11-14 09:00+00', '2026-11-14 07:00+00', '2026-11-14 09:00+00', '2026-11-14');
INSERT INTO livekit.participant_connections (project_id, session_id, connection_id,
                                             participant_identity, joined_at, left_at)
VALUES ('p_peak', 'RM_p10', 'A', 'a', '2026-11-10 10:00+00', '2026-11-10 11:00+00'),
       ('p_peak', 'RM_p10', 'B', 'b', '2026-11-10 11:00+00', '2026-11-10 12:00+00'),
       ('p_peak', 'RM_p10', 'C', 'c', '2026-11-10 13:00+00', '2026-11-10 13:30+00'),
       ('p_peak', 'RM_p10', 'D', 'd', '2026-11-10 13:00+00', '2026-11-10 13:30+00'),
       ('p_peak', 'RM_p10', 'E', 'e', '2026-11-10 13:00+00', '2026-11-10 13:30+00'),
       ('p_peak', 'RM_p10', 'F', 'f', '2026-11-10 13:30+00', '2026-11-10 14:00+00'),
       ('p_peak', 'RM_p10b', 'G', 'g', '2026-11-10 23:00+00', '2026-11-11 01:00+00'),
       ('p_peak', 'RM_p10b', 'H', 'h', '2026-11-10 23:30+00', NULL),
       ('p_peak', 'RM_p11', 'I', 'i', '2026-11-11 00:30+00', '2026-11-11 00:45+00'),
       ('p_peak', 'RM_p12', 'J', 'j', '2026-11-12 00:00+00', '2026-11-12 00:10+00'),
       ('p_peak', 'RM_p12', 'K', 'k', '2026-11-12 00:05+00', '2026-11-12 00:20+00'),
       ('p_peak', 'RM_p12', 'L', 'l', '2026-11-12 00:05+00', '2026-11-12 00:06+00'),
       ('p_peak', 'RM_p12', 'M', 'm', '2026-11-12 23:59:59.999999+00', '2026-11-13 00:00+00'),
       ('p_peak', 'RM_p14', 'N', 'n', '2026-11-14 08:00+00', '2026-11-14 08:00:00.000001+00'),
       ('p_peak', 'RM_p14', 'O', 'o', '2026-11-14 08:00+00', '2026-11-14 08:00:00.000001+00'),
       ('p_peak', 'RM_p14', 'P', 'p', '2026-11-14 08:00+00', '2026-11-14 08:00:00.000001+00'),
       ('p_peak', 'RM_p14', 'Q', 'q', '2026-11-14 07:00+00', '2026-11-14 09:00+00');
-- as runs refresh: each day on its own (the first load's way), then all of them at once
SELECT livekit.rollup_refresh('p_peak', ARRAY[d]) FROM unnest(ARRAY['2026-11-10', '2026-11-11',
    '2026-11-12', '2026-11-13', '2026-11-14']::date[]) AS d;

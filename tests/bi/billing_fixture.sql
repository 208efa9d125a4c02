-- billing_fixture.sql -- the connections whose billing is easy to get wrong, for
-- test_report.sh: project p_edge, rows straight into the base tables, then the rollup refreshed
-- as a run refreshes it. Expected (tests/integration/test_report.sh and check_billing.py):
--   2026-10-31: 10 s -> 1, 60 s -> 1, 61 s -> 2, 23:59:30 to 00:00:31 across midnight and the
--               month's end -> 2 (counted on the session's day, in October), 60 s and 1 us
--               -> 2, left = joined -> none, no joined_at -> none: 8 billable minutes;
--               bandwidth_out 1 byte -> 0.01 GB
--   2026-11-15: 3600 s -> 60; 10,000,001 bytes -> 0.02 GB
--   2026-11-30: an open connection (no left_at) to its session's ended_at across midnight into
--               December, 900.5 s -> 16; 59 s -> 1: 17; 10,000,000 bytes -> 0.01 GB
--   2026-12-01: 120 s -> 2
--   2026-12-02: an active session (no end): an open connection to last_active, 30 s -> 1;
--               0.5 s -> 1: 2; bandwidth_out NULL -> 0 GB
-- so October 8, November 77 (0.03 GB), December 4; with today 2026-12-02 December projects
-- to max(4, round(2 * 31 / 1)) = 62.
INSERT INTO livekit.sessions (project_id, session_id, room_name, created_at, ended_at,
                              last_active, bandwidth_out, start_time, end_time, list_day)
VALUES ('p_edge', 'RM_oct31', 'edge', '2026-10-31 23:00:00+00', '2026-11-01 00:30:00+00',
        '2026-11-01 00:30:00+00', 1, '2026-10-31 23:00:00+00', '2026-11-01 00:30:00+00',
        '2026-10-31'),
       ('p_edge', 'RM_nov15', 'edge', '2026-11-15 08:00:00+00', '2026-11-15 09:00:00+00',
        '2026-11-15 09:00:00+00', 10000001, NULL, NULL, '2026-11-15'),
       ('p_edge', 'RM_nov30', 'edge', '2026-11-30 23:50:00+00', '2026-12-01 00:05:00.5+00',
        '2026-12-01 00:05:00.5+00', 10000000, NULL, NULL, '2026-11-30'),
       ('p_edge', 'RM_dec01', 'edge', '2026-12-01 10:00:00+00', '2026-12-01 10:02:00+00',
        '2026-12-01 10:02:00+00', 0, NULL, NULL, '2026-12-01'),
       ('p_edge', 'RM_dec02', 'edge', '2026-12-02 09:00:00+00', NULL,
        '2026-12-02 10:00:30+00', NULL, NULL, NULL, '2026-12-02');
INSERT INTO livekit.participant_connections (project_id, session_id, connection_id,
                                             participant_identity, joined_at, left_at)
VALUES ('p_edge', 'RM_oct31', 'PA_10s', 'a', '2026-10-31 23:00:00+00', '2026-10-31 23:00:10+00'),
       ('p_edge', 'RM_oct31', 'PA_60s', 'b', '2026-10-31 23:00:00+00', '2026-10-31 23:01:00+00'),
       ('p_edge', 'RM_oct31', 'PA_61s', 'c', '2026-10-31 23:00:00+00', '2026-10-31 23:01:01+00'),
       ('p_edge', 'RM_oct31', 'PA_mid', 'd', '2026-10-31 23:59:30+00', '2026-11-01 00:00:31+00'),
       ('p_edge', 'RM_oct31', 'PA_1us', 'e', '2026-10-31 23:10:00+00',
        '2026-10-31 23:11:00.000001+00'),
       ('p_edge', 'RM_oct31', 'PA_zero', 'f', '2026-10-31 23:20:00+00', '2026-10-31 23:20:00+00'),
       ('p_edge', 'RM_oct31', 'PA_nojoin', 'g', NULL, '2026-10-31 23:20:00+00'),
       ('p_edge', 'RM_nov15', 'PA_hour', 'a', '2026-11-15 08:00:00+00', '2026-11-15 09:00:00+00'),
       ('p_edge', 'RM_nov30', 'PA_open', 'a', '2026-11-30 23:50:00+00', NULL),
       ('p_edge', 'RM_nov30', 'PA_59s', 'b', '2026-11-30 23:55:00+00', '2026-11-30 23:55:59+00'),
       ('p_edge', 'RM_dec01', 'PA_2m', 'a', '2026-12-01 10:00:00+00', '2026-12-01 10:02:00+00'),
       ('p_edge', 'RM_dec02', 'PA_active', 'a', '2026-12-02 10:00:00+00', NULL),
       ('p_edge', 'RM_dec02', 'PA_half', 'b', '2026-12-02 09:00:00+00',
        '2026-12-02 09:00:00.5+00');
SELECT livekit.rollup_refresh('p_edge', ARRAY['2026-10-31', '2026-11-01', '2026-11-15',
                                               '2026-11-30', '2026-12-01', '2026-12-02']::date[]);

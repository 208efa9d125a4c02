-- grant.sql -- the rights of the archive's writer role (grants.c): the README's writer.

-- name: writer_grants
-- What `run` needs and nothing more: read the migration ledgers, write the archive, the ledger
-- and the learned rates, recompute the rollup; no CREATE, no DELETE outside the rollup. Run by
-- `lkarchive grant --writer ROLE` (as the archive's owner), printed in the hint of a
-- permission error; {role} stands for the quoted role name.
GRANT USAGE ON SCHEMA livekit TO {role};
GRANT SELECT ON livekit.schema_migrations, livekit.schema_repeatables TO {role};
GRANT SELECT, INSERT, UPDATE ON livekit.sessions, livekit.participants,
    livekit.participant_connections, livekit.archive_runs, livekit.archive_days,
    livekit.seen_fields, livekit.api_rate_limits TO {role};
GRANT SELECT, INSERT, DELETE ON livekit.rollup_daily, livekit.rollup_room_daily,
    livekit.rollup_participant_daily, livekit.rollup_peak_daily, livekit.rollup_duration_daily,
    livekit.rollup_dimension_daily, livekit.rollup_billing_daily TO {role};
GRANT USAGE ON SEQUENCE livekit.archive_runs_run_id_seq TO {role};

-- name: writer_roles
-- The archive's writers, whose rights store_migrate gives again after migrations added or
-- changed tables (so a writer never meets a table it may not write): every role but the owner
-- and superusers that may INSERT into livekit.sessions. One column, rolname.
SELECT DISTINCT r.rolname
FROM pg_class c
CROSS JOIN LATERAL aclexplode(c.relacl) a
JOIN pg_roles r ON r.oid = a.grantee
WHERE c.oid = 'livekit.sessions'::regclass AND a.privilege_type = 'INSERT'
  AND a.grantee <> c.relowner AND NOT r.rolsuper
ORDER BY 1

-- name: writer_privileges_missing
-- For `check` on a migrated archive: what this user lacks of the writer's rights that `run`
-- meets first, as text ("INSERT, UPDATE on livekit.sessions, ...; INSERT, DELETE on
-- livekit.rollup_daily, ..."), NULL when nothing: writing the archive, the ledger and the
-- learned rates, and recomputing every rollup table (whatever later migrations add).
SELECT NULLIF(concat_ws('; ',
           'INSERT, UPDATE on livekit.' || string_agg(t, ', ') FILTER (WHERE p = 'INSERT, UPDATE'),
           'INSERT, DELETE on livekit.' || string_agg(t, ', ') FILTER (WHERE p = 'INSERT, DELETE')),
       '')
FROM (SELECT t, 'INSERT, UPDATE' AS p
      FROM unnest(ARRAY['sessions', 'participants', 'participant_connections', 'archive_runs',
                        'archive_days', 'seen_fields', 'api_rate_limits']) AS t
      UNION ALL
      SELECT c.relname::text, 'INSERT, DELETE'
      FROM pg_class c
      WHERE c.relnamespace = 'livekit'::regnamespace AND c.relkind IN ('r', 'p')
        AND c.relname LIKE 'rollup\_%') x
WHERE NOT has_table_privilege('livekit.' || quote_ident(t), p)

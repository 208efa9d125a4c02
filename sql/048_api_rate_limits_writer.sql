-- 048_api_rate_limits_writer.sql -- whoever may write the ledger (the README's writer role)
-- may read and write livekit.api_rate_limits (046) too: `run` reads a project's learned rate
-- before its first request and saves it after its last.
DO $$
DECLARE
    g oid;
BEGIN
    FOR g IN SELECT DISTINCT a.grantee
             FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
             WHERE c.oid = 'livekit.archive_days'::regclass AND a.privilege_type = 'INSERT'
               AND a.grantee <> c.relowner LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON livekit.api_rate_limits TO %s',
                       CASE WHEN g = 0 THEN 'PUBLIC' ELSE quote_ident(g::regrole::text) END);
    END LOOP;
END
$$;

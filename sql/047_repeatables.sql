-- 047_repeatables.sql -- from here on, views and functions live in repeatable files
-- (sql/functions/*.sql, sql/views/*.sql), applied after the versioned migrations whenever
-- their text changed; this table records each one's checksum. Versioned migrations keep what
-- runs once: tables, indexes, data. sql/schema.sql shows the schema they all give.
-- functions/citus.sql replaces 030's citus_distribute without its text rewrite of the rollup
-- functions, which matched no definition since 041 (each rollup function picks its Citus form
-- at each call).
CREATE TABLE livekit.schema_repeatables (
    name       text        PRIMARY KEY,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE livekit.schema_repeatables IS
    'Internal: repeatable schema files (views, functions) applied to this schema, with a checksum of the text last applied.';
COMMENT ON COLUMN livekit.schema_repeatables.name IS 'The file, e.g. functions/rollup.sql';
COMMENT ON COLUMN livekit.schema_repeatables.checksum IS 'md5 of the text applied';
COMMENT ON COLUMN livekit.schema_repeatables.applied_at IS 'When it was last applied';

-- Whoever may read schema_migrations (the README's writer role: `run` migrates first, and
-- reads both tables to find nothing to apply) may read this table too.
DO $$
DECLARE
    g oid;
BEGIN
    FOR g IN SELECT DISTINCT a.grantee
             FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
             WHERE c.oid = 'livekit.schema_migrations'::regclass AND a.privilege_type = 'SELECT'
               AND a.grantee <> c.relowner LOOP
        EXECUTE format('GRANT SELECT ON livekit.schema_repeatables TO %s',
                       CASE WHEN g = 0 THEN 'PUBLIC' ELSE quote_ident(g::regrole::text) END);
    END LOOP;
END
$$;

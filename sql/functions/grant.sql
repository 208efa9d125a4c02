-- functions/grant.sql -- read-only roles for BI tools: `lkarchive grant ROLE` (repeatable).
--
-- bi_grant_read(role) gives an existing role USAGE on the schemas livekit and livekit_bi and
-- SELECT on every table and view in them, and nothing else (no INSERT, UPDATE, DELETE,
-- TRUNCATE, REFERENCES, TRIGGER, no CREATE). It records the role in livekit.bi_readers and sets
-- default privileges, so objects later migrations create stay readable: ALTER DEFAULT
-- PRIVILEGES covers objects the granting role creates, and store_migrate calls bi_regrant()
-- after applying migrations, for objects another role created.

-- SQLSTATE 42704 (undefined_object) when the role does not exist.
CREATE OR REPLACE FUNCTION livekit.bi_grant_read(p_role text) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_role) THEN
        RAISE EXCEPTION 'role "%" does not exist', p_role USING ERRCODE = 'undefined_object';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA livekit, livekit_bi TO %I', p_role);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA livekit, livekit_bi TO %I', p_role);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA livekit, livekit_bi GRANT SELECT ON TABLES TO %I',
                   p_role);
    INSERT INTO livekit.bi_readers (role_name) VALUES (p_role) ON CONFLICT DO NOTHING;
END
$fn$;

-- Grant again to every recorded role that still exists; returns how many.
CREATE OR REPLACE FUNCTION livekit.bi_regrant() RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    r text;
    n integer := 0;
BEGIN
    FOR r IN SELECT b.role_name FROM livekit.bi_readers b
             JOIN pg_roles p ON p.rolname = b.role_name ORDER BY 1 LOOP
        EXECUTE format('GRANT USAGE ON SCHEMA livekit, livekit_bi TO %I', r);
        EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA livekit, livekit_bi TO %I', r);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$fn$;

-- only the schema's owner grants (and GRANT would refuse anyone else anyway)
REVOKE EXECUTE ON FUNCTION livekit.bi_grant_read(text), livekit.bi_regrant() FROM PUBLIC;

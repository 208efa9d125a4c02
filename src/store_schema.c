/* store_schema.c -- the embedded SQL (migrations.h): migrations, repeatables, and whether
 * they are applied.
 *
 * Under an advisory lock, so concurrent runs apply each once: the versioned migrations, each
 * in its own transaction (livekit.schema_migrations keeps each one's checksum, and an applied
 * migration whose text changed is an error); then the repeatable files (views, functions),
 * each in its own transaction, whenever its text differs from the one last applied
 * (livekit.schema_repeatables) or a migration was applied now (it may have dropped a view to
 * change a table under it). A fresh database and one built by older releases end with the
 * same definitions: those of the repeatable files (sql/schema.sql shows the result). Then,
 * unless the config turns it off, the archive tables are distributed when the database is a
 * Citus coordinator (sql/functions/citus.sql).
 */
#include "store.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "grants.h"
#include "log.h"
#include "migrations.h"
#include "pq.h"
#include "store_grant.h"
#include "store_internal.h"
#include "store_schema.h"

/* Advisory lock key for migrations: "lkarchiv" read as a number. */
#define MIGRATION_LOCK_KEY 0x6c6b617263686976LL

/* Apply migration m in its own transaction unless livekit.schema_migrations has it;
 * *applied_out says whether it was applied now. */
static int apply_migration(struct store *st, const struct migration *m, bool *applied_out,
                           struct lk_error *err)
{
    const char *params[2] = {m->name, m->sql};
    PGresult *res = NULL;
    int rc;

    *applied_out = false;
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                 "SELECT checksum = md5($2) FROM livekit.schema_migrations WHERE name = $1", 2,
                 params, err, "read livekit.schema_migrations");
    if (rc != 0)
        goto done;
    if (PQntuples(res) == 1) {
        if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
            rc = LK_EDB;
            lk_error_set(err, rc, "migration %s was changed after it was applied", m->name);
            lk_error_detail(err, "applied migrations must never be edited; add a new "
                                 "migration file instead");
        }
        goto done;
    }
    rc = store_exec(st, "BEGIN", "start a migration", err);
    if (rc != 0)
        goto done;
    rc = pq_exec(NULL, st->conn, PQ_ANY_OK, m->sql, 0, NULL, err, "apply migration %s", m->name);
    if (rc == 0)
        rc = pq_exec(NULL, st->conn, PQ_COMMAND_OK,
                     "INSERT INTO livekit.schema_migrations (name, checksum) VALUES ($1, md5($2))",
                     2, params, err, "record migration %s", m->name);
    if (rc == 0)
        rc = store_exec(st, "COMMIT", "commit migration", err);
    if (rc != 0) {
        store_exec(st, "ROLLBACK", "roll back", NULL); /* err keeps the first failure */
        goto done;
    }
    log_info("applied migration %s", m->name);
    *applied_out = true;
done:
    PQclear(res);
    return rc;
}

/* Apply repeatable file r in its own transaction when livekit.schema_repeatables records
 * another text for it (or none), or always with `force`; *applied_out says whether it was. */
static int apply_repeatable(struct store *st, const struct migration *r, bool force,
                            bool *applied_out, struct lk_error *err)
{
    const char *params[2] = {r->name, r->sql};
    PGresult *res = NULL;
    int rc;

    *applied_out = false;
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                 "SELECT 1 FROM livekit.schema_repeatables WHERE name = $1 AND checksum = md5($2)",
                 2, params, err, "read livekit.schema_repeatables");
    if (rc != 0 || (PQntuples(res) == 1 && !force))
        goto done;
    rc = store_exec(st, "BEGIN", "start applying a repeatable file", err);
    if (rc != 0)
        goto done;
    rc = pq_exec(NULL, st->conn, PQ_ANY_OK, r->sql, 0, NULL, err, "apply %s", r->name);
    if (rc == 0)
        rc = pq_exec(NULL, st->conn, PQ_COMMAND_OK,
                     "INSERT INTO livekit.schema_repeatables (name, checksum) VALUES ($1, md5($2))"
                     " ON CONFLICT (name) DO UPDATE SET checksum = excluded.checksum,"
                     " applied_at = now()",
                     2, params, err, "record %s", r->name);
    if (rc == 0)
        rc = store_exec(st, "COMMIT", "commit a repeatable file", err);
    if (rc != 0) {
        store_exec(st, "ROLLBACK", "roll back", NULL); /* err keeps the first failure */
        goto done;
    }
    log_info("applied %s", r->name);
    *applied_out = true;
done:
    PQclear(res);
    return rc;
}

/* Citus: distribute the archive tables not yet distributed (sql/functions/citus.sql), in one
 * transaction, logging each table it distributes. Nothing without the extension. */
static int citus_distribute(struct store *st, struct lk_error *err)
{
    PGresult *res = NULL;
    int rc = store_exec(st, "BEGIN", "start distributing the tables", err);

    if (rc == 0)
        rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, "SELECT * FROM livekit.citus_distribute()", 0,
                     NULL, err, "distribute the archive tables on Citus");
    if (rc == 0)
        rc = store_exec(st, "COMMIT", "commit the distributed tables", err);
    if (rc != 0)
        store_exec(st, "ROLLBACK", "roll back", NULL); /* err keeps the first failure */
    for (int i = 0; rc == 0 && i < PQntuples(res); i++)
        log_info("citus: %s", PQgetvalue(res, i, 0));
    PQclear(res);
    return rc;
}

/* A user that may not use the existing schema livekit (a writer nobody granted anything yet)
 * is told so, with the statements that fix it, not "could not create
 * livekit.schema_migrations". Returns 0 (usable, or no schema yet) or LK_EDB. */
static int check_schema_usable(struct store *st, struct lk_error *err)
{
    PGresult *res = NULL;
    int rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                     "SELECT has_schema_privilege(oid, 'USAGE') AS usable,"
                     " pg_get_userbyid(nspowner) AS owner FROM pg_namespace"
                     " WHERE nspname = 'livekit'",
                     0, NULL, err, "read the rights on schema livekit");

    if (rc == 0 && PQntuples(res) == 1 &&
        strcmp(PQgetvalue(res, 0, pq_column(res, "usable")), "f") == 0) {
        rc = LK_EDB;
        lk_error_set(err, rc, "database user %s may not use the archive (schema livekit)",
                     store_user(st));
        lk_error_detail(err, "the schema exists, owned by %s, and gives this user no USAGE",
                        PQgetvalue(res, 0, pq_column(res, "owner")));
        grants_writer_hint(err->hint, sizeof err->hint, store_user(st));
    }
    PQclear(res);
    return rc;
}

/* The writers' rights again after migrations (store_grant.c), said when there were any. */
static int regrant_writers(struct store *st, struct lk_error *err)
{
    int writers = 0;
    int rc = store_regrant_writers(st, &writers, err);

    if (rc == 0 && writers > 0)
        log_info("granted the writer's rights again to %d role(s) that write the archive", writers);
    return rc;
}

int store_migrate(struct store *st, bool citus, int *applied_out, struct lk_error *err)
{
    char lock_sql[96];
    bool applied_now = false, migrations_now, repeatables_now = false;
    int applied = 0, rc;

    assert(st != NULL);
    snprintf(lock_sql, sizeof lock_sql, "SELECT pg_advisory_lock(%lld)", MIGRATION_LOCK_KEY);
    rc = check_schema_usable(st, err);
    if (rc == 0)
        rc = pq_exec(NULL, st->conn, PQ_TUPLES_OK, lock_sql, 0, NULL, err,
                     "take the migration lock");
    if (rc != 0)
        goto done;
    /* DDL only when the table is missing: a role without CREATE (the writer of the README)
     * can run an archive that its owner migrated */
    rc = store_exec(st,
                    "DO $$BEGIN IF to_regclass('livekit.schema_migrations') IS NULL THEN"
                    " CREATE SCHEMA IF NOT EXISTS livekit;"
                    " CREATE TABLE IF NOT EXISTS livekit.schema_migrations ("
                    " name text PRIMARY KEY, checksum text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now()); END IF; END$$",
                    "create livekit.schema_migrations", err);
    for (const struct migration *m = migrations; rc == 0 && m->name; m++) {
        rc = apply_migration(st, m, &applied_now, err);
        applied += applied_now;
    }
    migrations_now = applied > 0;
    for (const struct migration *r = repeatables; rc == 0 && r->name; r++) {
        rc = apply_repeatable(st, r, migrations_now, &applied_now, err);
        repeatables_now = repeatables_now || applied_now;
    }
    if (rc == 0 && citus)
        rc = citus_distribute(st, err);
    /* objects the migrations created are readable by the roles of `lkarchive grant`, and
     * writable by the writers */
    if (rc == 0 && (migrations_now || repeatables_now)) {
        rc = pq_exec(NULL, st->conn, PQ_TUPLES_OK, "SELECT livekit.bi_regrant()", 0, NULL, err,
                     "grant read access to the new objects");
        if (rc == 0)
            rc = regrant_writers(st, err);
    }
    /* best effort: the lock also ends with the session, and err keeps the first failure */
    snprintf(lock_sql, sizeof lock_sql, "SELECT pg_advisory_unlock(%lld)", MIGRATION_LOCK_KEY);
    pq_exec(NULL, st->conn, PQ_TUPLES_OK, lock_sql, 0, NULL, NULL, "release the migration lock");
done:
    if (applied_out)
        *applied_out = applied;
    return rc;
}

int store_schema_current(struct store *st, bool *out, struct lk_error *err)
{
    PGresult *res = NULL;
    size_t expected = 0;
    int rc;

    assert(st != NULL);
    *out = false;
    for (const struct migration *m = migrations; m->name; m++)
        expected++;
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, "SELECT name FROM livekit.schema_migrations", 0,
                 NULL, err, "read livekit.schema_migrations");
    if (rc == 0) {
        *out = (size_t)PQntuples(res) == expected;
    } else if (pq_sqlstate_is(res, SQLSTATE_UNDEFINED_TABLE)) {
        lk_error_init(err); /* never migrated: not current, and not an error */
        rc = 0;
    }
    /* every migration applied (so schema_repeatables exists): each repeatable as it is here */
    for (const struct migration *r = repeatables; rc == 0 && *out && r->name; r++) {
        const char *params[2] = {r->name, r->sql};

        PQclear(res);
        rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                     "SELECT 1 FROM livekit.schema_repeatables WHERE name = $1"
                     " AND checksum = md5($2)",
                     2, params, err, "read livekit.schema_repeatables");
        *out = rc == 0 && PQntuples(res) == 1;
    }
    PQclear(res);
    return rc;
}

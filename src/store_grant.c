/* store_grant.c -- read access for BI tools (`lkarchive grant ROLE`), the writer's rights
 * (`lkarchive grant --writer ROLE`, grants.c's statements) and, for `check`, whether this
 * database user may do what `run` does.
 *
 * The grant itself is SQL (livekit.bi_grant_read, sql/functions/grant.sql): it records the role,
 * so that store_migrate grants again what later migrations create (livekit.bi_regrant). The
 * writers need no record: after migrations store_regrant_writers gives the writer's rights
 * again to every role that may write livekit.sessions. The privilege check asks the catalog;
 * none of these changes anything on failure.
 */
#include "store.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "grants.h"
#include "pq.h"
#include "store_grant.h"
#include "store_internal.h"
#include "store_sql.h"

/* role does not exist: LK_ECONFIG, saying how to create it. */
static int no_such_role(const char *role, struct lk_error *err)
{
    lk_error_set(err, LK_ECONFIG, "role \"%s\" does not exist", role);
    lk_error_detail(err,
                    "create it first (CREATE ROLE \"%s\" LOGIN PASSWORD '...'), then run "
                    "lkarchive grant again",
                    role);
    return LK_ECONFIG;
}

int store_grant_read(struct store *st, const char *role, struct lk_error *err)
{
    const char *params[1] = {role};
    PGresult *res = NULL;
    int rc;

    assert(st != NULL && role != NULL);
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, "SELECT livekit.bi_grant_read($1::text)", 1, params,
                 err, "grant read access to role \"%s\"", role);
    if (rc != 0 && pq_sqlstate_is(res, SQLSTATE_UNDEFINED_OBJECT))
        rc = no_such_role(role, err);
    PQclear(res);
    return rc;
}

int store_role_owns(struct store *st, const char *role, bool *out, struct lk_error *err)
{
    const char *params[1] = {role};
    PGresult *res = NULL;
    int rc;

    assert(st != NULL && role != NULL);
    *out = false;
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                 "SELECT r.rolsuper OR pg_has_role(r.oid, n.nspowner, 'MEMBER') AS owns"
                 " FROM pg_roles r, pg_namespace n WHERE r.rolname = $1 AND n.nspname = 'livekit'",
                 1, params, err, "read the rights of role \"%s\"", role);
    if (rc == 0 && PQntuples(res) == 0)
        rc = no_such_role(role, err);
    else if (rc == 0)
        *out = strcmp(PQgetvalue(res, 0, pq_column(res, "owns")), "t") == 0;
    PQclear(res);
    return rc;
}

int store_grant_write(struct store *st, const char *role, struct lk_error *err)
{
    char *sql = NULL;
    int rc;

    assert(st != NULL && role != NULL);
    rc = grants_writer_sql(&sql, role, false, err);
    if (rc == 0)
        rc = store_exec(st, "BEGIN", "start granting", err);
    if (rc == 0) {
        rc = pq_exec(NULL, st->conn, PQ_COMMAND_OK, sql, 0, NULL, err,
                     "grant the writer's rights to role \"%s\"", role);
        if (rc == 0)
            rc = store_exec(st, "COMMIT", "commit the grants", err);
        else
            store_exec(st, "ROLLBACK", "roll back", NULL); /* err keeps the first failure */
    }
    free(sql);
    return rc;
}

int store_regrant_writers(struct store *st, int *count_out, struct lk_error *err)
{
    PGresult *res = NULL;
    int rc;

    assert(st != NULL);
    *count_out = 0;
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, store_sql_writer_roles, 0, NULL, err,
                 "find the archive's writer roles");
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        rc = store_grant_write(st, PQgetvalue(res, i, 0), err);
        *count_out += rc == 0;
    }
    PQclear(res);
    return rc;
}

int store_check_privileges(struct store *st, bool migrated, bool *ok_out, char *missing,
                           size_t size, struct lk_error *err)
{
    PGresult *res = NULL;
    int rc;

    assert(st != NULL);
    *ok_out = false;
    missing[0] = '\0';
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                 migrated ? store_sql_writer_privileges_missing
                          : "SELECT CASE WHEN has_database_privilege(current_database(), 'CREATE')"
                            " THEN NULL ELSE 'CREATE on database ' || current_database() END",
                 0, NULL, err, "read this user's privileges");
    if (rc == 0) {
        *ok_out = PQgetisnull(res, 0, 0);
        if (!*ok_out)
            snprintf(missing, size, "%s", PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return rc;
}

/* store_grant.c -- read access for BI tools (`lkarchive grant ROLE`) and, for `check`, whether
 * this database user may do what `run` does.
 *
 * The grant itself is SQL (livekit.bi_grant_read, sql/functions/grant.sql): it records the role,
 * so that store_migrate grants again what later migrations create (livekit.bi_regrant). The
 * privilege check asks the catalog; neither changes anything on failure.
 */
#include "store.h"

#include <assert.h>
#include <stdio.h>

#include "error.h"
#include "pq.h"
#include "store_grant.h"
#include "store_internal.h"

int store_grant_read(struct store *st, const char *role, struct lk_error *err)
{
    const char *params[1] = {role};
    PGresult *res = NULL;
    int rc;

    assert(st != NULL && role != NULL);
    rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, "SELECT livekit.bi_grant_read($1::text)", 1, params,
                 err, "grant read access to role \"%s\"", role);
    if (rc != 0 && pq_sqlstate_is(res, SQLSTATE_UNDEFINED_OBJECT)) {
        lk_error_set(err, LK_ECONFIG, "role \"%s\" does not exist", role);
        lk_error_detail(err,
                        "create it first (CREATE ROLE \"%s\" LOGIN PASSWORD '...'), then run "
                        "lkarchive grant again",
                        role);
        rc = LK_ECONFIG;
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
                 migrated ? "SELECT string_agg(t, ', ') FROM unnest(ARRAY['sessions',"
                            " 'participants', 'participant_connections', 'archive_runs',"
                            " 'archive_days', 'seen_fields']) t"
                            " WHERE NOT has_table_privilege('livekit.' || t, 'INSERT, UPDATE')"
                          : "SELECT CASE WHEN has_database_privilege(current_database(), 'CREATE')"
                            " THEN NULL ELSE 'CREATE on database ' || current_database() END",
                 0, NULL, err, "read this user's privileges");
    if (rc == 0) {
        *ok_out = PQgetisnull(res, 0, 0);
        if (!*ok_out)
            snprintf(missing, size, "%s%s", migrated ? "INSERT, UPDATE on livekit." : "",
                     PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return rc;
}

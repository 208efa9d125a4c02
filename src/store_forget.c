/* store_forget.c -- privacy: forget one participant identity; pseudonyms at staging.
 *
 * store_forget rewrites a project's rows of one identity in one transaction: the identity
 * becomes its pseudonym in participants and participant_connections, the participant's name
 * and extra are cleared, and the pseudonym (never the identity) goes to
 * livekit.forgotten_identities. A day loads that set (store_day_begin), and store_day_add
 * pseudonymizes a forgotten identity's rows the same way before they are staged, so a later
 * run writes exactly what forget left: nothing comes back, nothing changes. With
 * pseudonymize_identities every identity and name is staged as its pseudonym. The daily
 * rollup (livekit_bi) of the identity's days is recomputed in the same transaction.
 */
#include "store.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "pq.h"
#include "pseudo.h"
#include "records.h"
#include "store_forget.h"
#include "store_internal.h"

void store_set_pseudo(struct store *st, const struct pseudo *p, bool all)
{
    assert(st != NULL && (p != NULL || !all));
    st->pseudo = p;
    st->pseudo_all = all;
}

int store_forget_load(struct store *st, struct lk_error *err)
{
    const char *params[1] = {st->project};
    PGresult *res = NULL;
    int rc;

    strmap_clear(&st->forgotten);
    if (st->pseudo == NULL)
        return 0;
    rc = pq_exec(
        &res, st->conn, PQ_TUPLES_OK,
        "SELECT identity_hmac FROM livekit.forgotten_identities WHERE project_id = $1::text", 1,
        params, err, "read the forgotten identities");
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        if (strmap_put(&st->forgotten, PQgetvalue(res, i, 0), 1, NULL) != 0) {
            rc = LK_ENOMEM;
            lk_error_set(err, rc, "out of memory");
        }
    }
    PQclear(res);
    return rc;
}

void store_forget_apply(struct store *st, const struct record *rec, const char **identity,
                        const char **name, const char **extra, char id_hex[PSEUDO_HEX_SIZE],
                        char name_hex[PSEUDO_HEX_SIZE])
{
    uint64_t unused;

    if (st->pseudo == NULL || *identity == NULL ||
        (rec->kind != RECORD_PARTICIPANT && rec->kind != RECORD_CONNECTION) ||
        (!st->pseudo_all && st->forgotten.count == 0))
        return;
    pseudo_hex(st->pseudo, *identity, id_hex);
    if (strmap_get(&st->forgotten, id_hex, &unused)) {
        *identity = id_hex;
        if (rec->kind == RECORD_PARTICIPANT) {
            *name = NULL;
            *extra = "{}";
        }
    } else if (st->pseudo_all) {
        *identity = id_hex;
        if (rec->kind == RECORD_PARTICIPANT && *name != NULL) {
            pseudo_hex(st->pseudo, *name, name_hex);
            *name = name_hex;
        }
    }
}

/* $1 project $2 identity $3 its pseudonym: connections, then participants (a row already
 * pseudonymized at ingestion carries the pseudonym: its name and extra are cleared too), the
 * record, and the daily rollup of the days the identity has rows in (recomputed from the
 * rewritten rows: participant_daily_usage then names the pseudonym) */
static const char *const SQL_FORGET[4] = {
    "UPDATE livekit.participant_connections SET participant_identity = $3::text,"
    " updated_at = now() WHERE project_id = $1::text AND participant_identity = $2::text",
    "UPDATE livekit.participants SET participant_identity = $3::text, participant_name = NULL,"
    " extra = '{}', updated_at = now() WHERE project_id = $1::text"
    " AND participant_identity IN ($2::text, $3::text)"
    " AND (participant_identity, participant_name, extra)"
    "   IS DISTINCT FROM ($3::text, NULL::text, '{}'::jsonb)",
    "INSERT INTO livekit.forgotten_identities (project_id, identity_hmac)"
    " SELECT $1::text, $3::text WHERE $2::text IS NOT NULL ON CONFLICT DO NOTHING",
    "SELECT livekit.rollup_refresh($1::text, ARRAY(SELECT DISTINCT day"
    " FROM livekit.rollup_participant_daily WHERE project_id = $1::text"
    " AND participant_identity IN ($2::text, $3::text)))"};

int store_forget(struct store *st, const char *project, const char *identity, const char *hex,
                 long long *participants_out, long long *connections_out, struct lk_error *err)
{
    const char *params[3] = {project, identity, hex};
    long long n[2] = {0, 0};
    PGresult *res = NULL;
    int rc = store_exec(st, "BEGIN", "start forgetting", err);

    for (int i = 0; rc == 0 && i < 4; i++) {
        rc = pq_exec(&res, st->conn, i < 3 ? PQ_COMMAND_OK : PQ_TUPLES_OK, SQL_FORGET[i], 3, params,
                     err, "forget the identity in project %s", project);
        if (rc == 0 && i < 2)
            n[i] = strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        res = NULL;
    }
    if (rc == 0)
        rc = store_exec(st, "COMMIT", "commit forgetting", err);
    if (rc != 0) {
        store_exec(st, "ROLLBACK", "roll back", NULL);
        return rc;
    }
    *connections_out = n[0];
    *participants_out = n[1];
    return 0;
}

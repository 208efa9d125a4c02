/* store_forget.c -- privacy: forget one participant identity; pseudonyms at staging.
 *
 * `forget` records the pseudonym first (store_forget_record, committed alone), then, under the
 * project's lock, store_forget rewrites the project in one transaction
 * (src/queries/forget.sql): the identity becomes its pseudonym in participants and
 * participant_connections, their name and extra are cleared, and every other extra that names
 * the identity or its names is scrubbed. A day loads the forgotten set when it opens
 * (store_stage_open), and store_day_add pseudonymizes a forgotten identity's rows the same way
 * before they are staged, so a later run writes exactly what forget left: nothing comes back,
 * nothing changes. With pseudonymize_identities every identity and name is staged as its
 * pseudonym, and a participant's extra loses attributes and metadata and every mention of
 * its identity or name (pseudo_scrub_json). The daily rollup (livekit_bi) of the identity's
 * days is recomputed in forget's transaction.
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
#include "store_sql.h"

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
    rc = pq_exec(
        &res, st->conn, PQ_TUPLES_OK,
        "SELECT identity_hmac FROM livekit.forgotten_identities WHERE project_id = $1::text", 1,
        params, err, "read the forgotten identities");
    if (rc == 0 && st->pseudo == NULL && PQntuples(res) > 0) {
        /* without the key a forgotten identity cannot be recognised: it would come back */
        rc = LK_ECONFIG;
        lk_error_set(err, rc, "project %s has forgotten identities and no pseudonymize_key_file",
                     st->project);
        lk_error_detail(err, "set pseudonymize_key_file to the key `forget` used; without it "
                             "this run would store forgotten identities in clear");
    }
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
    struct pseudo_scrub scrub = {{NULL, NULL}, {NULL, NULL}, false};
    uint64_t unused;

    free(st->scrubbed_extra);
    st->scrubbed_extra = NULL;
    if (st->pseudo == NULL || *identity == NULL ||
        (rec->kind != RECORD_PARTICIPANT && rec->kind != RECORD_CONNECTION) ||
        (!st->pseudo_all && st->forgotten.count == 0))
        return;
    pseudo_hex(st->pseudo, *identity, id_hex);
    if (strmap_get(&st->forgotten, id_hex, &unused)) { /* as forget left its rows */
        *identity = id_hex;
        *extra = "{}";
        if (rec->kind == RECORD_PARTICIPANT)
            *name = NULL;
        return;
    }
    if (!st->pseudo_all)
        return;
    scrub.needles[0] = *identity;
    scrub.replacements[0] = id_hex;
    *identity = id_hex;
    if (rec->kind == RECORD_PARTICIPANT && *name != NULL) {
        pseudo_hex(st->pseudo, *name, name_hex);
        scrub.needles[1] = *name;
        scrub.replacements[1] = name_hex;
        *name = name_hex;
    }
    /* a participant's attributes and metadata go whole: the application's free-form data */
    scrub.drop_free_form = rec->kind == RECORD_PARTICIPANT;
    *extra = pseudo_scrub_json(&st->scrubbed_extra, *extra, &scrub) == 0 ? st->scrubbed_extra
                                                                          : "{}";
}

int store_forget_record(struct store *st, const char *project, const char *hex,
                        struct lk_error *err)
{
    const char *params[2] = {project, hex};

    return pq_exec(NULL, st->conn, PQ_COMMAND_OK, store_sql_forget_record, 2, params, err,
                   "record the forgotten identity in project %s", project);
}

/* $2 of the scrubs: the identity and the names its rows have, as a text[] literal. */
static int forget_needles(struct store *st, const char *const params[3], char **out,
                          struct lk_error *err)
{
    char **names = NULL;
    size_t count = 0;
    PGresult *res = NULL;
    int rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, store_sql_forget_names, 2, params, err,
                     "read the names of the forgotten identity");

    if (rc == 0)
        rc = pq_column_strings(&names, &count, res, pq_column(res, "name"), NULL, NULL, err);
    PQclear(res);
    if (rc == 0) {
        char **grown = realloc(names, (count + 1) * sizeof *grown);
        rc = grown ? 0 : LK_ENOMEM;
        if (grown) {
            names = grown;
            names[count] = (char *)params[1]; /* borrowed: not freed below */
            rc = pq_text_array(out, names, count + 1, err);
        } else {
            lk_error_set(err, rc, "out of memory");
        }
    }
    pq_strings_free(names, count);
    return rc;
}

/* In order: the duplicates a race left, the scrubs of every extra that names the identity or
 * its names, the renames, the rollup. */
static const char *const *forget_statements(void)
{
    static const char *sql[7];

    sql[0] = store_sql_forget_duplicates;
    sql[1] = store_sql_forget_scrub_participants;
    sql[2] = store_sql_forget_scrub_connections;
    sql[3] = store_sql_forget_scrub_sessions;
    sql[4] = store_sql_forget_connections;
    sql[5] = store_sql_forget_participants;
    sql[6] = store_sql_forget_rollup;
    return sql;
}

int store_forget(struct store *st, const char *project, const char *identity, const char *hex,
                 long long *participants_out, long long *connections_out, struct lk_error *err)
{
    const char *params[3] = {project, identity, hex}, *scrub[3] = {project, NULL, hex};
    const char *const *sql = forget_statements();
    char *needles = NULL;
    long long n[7] = {0};
    PGresult *res = NULL;
    int rc = store_exec(st, "BEGIN", "start forgetting", err);

    if (rc == 0)
        rc = forget_needles(st, params, &needles, err);
    scrub[1] = needles;
    for (int i = 0; rc == 0 && i < 7; i++) {
        rc = pq_exec(&res, st->conn, i < 6 ? PQ_COMMAND_OK : PQ_TUPLES_OK, sql[i], 3,
                     i >= 1 && i <= 3 ? scrub : params, err, "forget the identity in project %s",
                     project);
        if (rc == 0)
            n[i] = strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        res = NULL;
    }
    if (rc == 0)
        rc = store_forget_record(st, project, hex, err);
    if (rc == 0)
        rc = store_exec(st, "COMMIT", "commit forgetting", err);
    free(needles);
    if (rc != 0) {
        store_exec(st, "ROLLBACK", "roll back", NULL);
        return rc;
    }
    *connections_out = n[4];
    *participants_out = n[5] + n[0];
    return 0;
}

int store_forget_vacuum(struct store *st, struct lk_error *err)
{
    static const char *const tables[] = {"participants", "participant_connections", "sessions",
                                         "rollup_participant_daily"};
    char sql[96];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < sizeof tables / sizeof tables[0]; i++) {
        snprintf(sql, sizeof sql, "VACUUM (ANALYZE) livekit.%s", tables[i]);
        rc = store_exec(st, sql, "vacuum the rewritten tables", err);
    }
    return rc;
}

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

/* Without the key a forgotten identity cannot be recognised and would come back in clear: a
 * run without one refuses a project that has some. A role that may not read the set (the
 * README's writer role predates it) cannot have been given forgotten identities to keep. */
static int check_without_key(struct store *st, struct lk_error *err)
{
    const char *params[1] = {st->project};
    PGresult *res = NULL;
    int rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                     "SELECT has_table_privilege('livekit.forgotten_identities', 'SELECT')", 0,
                     NULL, err, "read the privileges on the forgotten identities");
    bool readable = rc == 0 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;

    PQclear(res);
    res = NULL;
    if (readable)
        rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                     "SELECT 1 FROM livekit.forgotten_identities WHERE project_id = $1::text"
                     " LIMIT 1",
                     1, params, err, "read the forgotten identities");
    if (rc == 0 && readable && PQntuples(res) > 0) {
        rc = LK_ECONFIG;
        lk_error_set(err, rc, "project %s has forgotten identities and no pseudonymize_key_file",
                     st->project);
        lk_error_detail(err, "set pseudonymize_key_file to the key `forget` used; without it "
                             "this run would store forgotten identities in clear");
    }
    PQclear(res);
    return rc;
}

int store_forget_load(struct store *st, struct lk_error *err)
{
    const char *params[1] = {st->project};
    PGresult *res = NULL;
    int rc;

    strmap_clear(&st->forgotten);
    if (st->pseudo == NULL)
        return check_without_key(st, err);
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

/* What store_forget_apply's scrub of an extra replaces: with pseudonymize_identities the
 * record's own identity and name (needles), and any string that is a forgotten identity. */
struct scrub_ctx {
    const struct store *st;
    const char *needles[2];
    const char *replacements[2];
    char hex[PSEUDO_HEX_SIZE];
};

static const char *replace_text(void *ctx, const char *text)
{
    struct scrub_ctx *c = ctx;
    uint64_t unused;

    for (int i = 0; i < 2; i++)
        if (c->needles[i] && strcmp(text, c->needles[i]) == 0)
            return c->replacements[i];
    if (c->st->forgotten.count == 0)
        return NULL;
    pseudo_hex(c->st->pseudo, text, c->hex);
    return strmap_get(&c->st->forgotten, c->hex, &unused) ? c->hex : NULL;
}

void store_forget_apply(struct store *st, const struct record *rec, const char **identity,
                        const char **name, const char **extra, char id_hex[PSEUDO_HEX_SIZE],
                        char name_hex[PSEUDO_HEX_SIZE])
{
    struct scrub_ctx ctx = {st, {NULL, NULL}, {NULL, NULL}, {0}};
    struct pseudo_scrub scrub = {replace_text, &ctx, false};
    bool participant = rec->kind == RECORD_PARTICIPANT;
    uint64_t unused;

    free(st->scrubbed_extra);
    st->scrubbed_extra = NULL;
    if (st->pseudo == NULL || (!st->pseudo_all && st->forgotten.count == 0))
        return;
    if ((participant || rec->kind == RECORD_CONNECTION) && *identity != NULL) {
        pseudo_hex(st->pseudo, *identity, id_hex);
        if (strmap_get(&st->forgotten, id_hex, &unused)) { /* as forget left its rows */
            *identity = id_hex;
            *extra = "{}";
            if (participant)
                *name = NULL;
            return;
        }
        if (st->pseudo_all) {
            ctx.needles[0] = *identity;
            ctx.replacements[0] = *identity = id_hex;
        }
        if (st->pseudo_all && participant && *name != NULL) {
            pseudo_hex(st->pseudo, *name, name_hex);
            ctx.needles[1] = *name;
            ctx.replacements[1] = *name = name_hex;
        }
    }
    /* a participant's attributes and metadata go whole: the application's free-form data */
    scrub.drop_free_form = st->pseudo_all && participant;
    if (strcmp(*extra, "{}") != 0)
        *extra =
            pseudo_scrub_json(&st->scrubbed_extra, *extra, &scrub) == 0 ? st->scrubbed_extra : "{}";
}

/* The identity and the names its rows have (needles), and their pseudonyms (replacements),
 * as text[] literals, same order: what forget scrubs and records. */
struct forget_plan {
    char *needles;
    char *replacements;
};

static void plan_dispose(struct forget_plan *plan)
{
    free(plan->needles);
    free(plan->replacements);
}

/* Fill plan from the names the identity's rows have now. */
static int plan_forget(struct store *st, const char *project, const char *identity,
                       const struct pseudo *pseudo, struct forget_plan *plan, struct lk_error *err)
{
    const char *params[2] = {project, identity};
    char **texts = NULL, **hexes = NULL, **grown = NULL;
    size_t count = 0;
    PGresult *res = NULL;
    int rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, store_sql_forget_names, 2, params, err,
                     "read the names of the forgotten identity");

    if (rc == 0)
        rc = pq_column_strings(&texts, &count, res, pq_column(res, "name"), NULL, NULL, err);
    PQclear(res);
    /* the identity goes first, the names after it, each with its pseudonym */
    if (rc == 0 && (grown = realloc(texts, (count + 1) * sizeof *grown)) != NULL) {
        texts = grown;
        memmove(texts + 1, texts, count * sizeof *texts);
        texts[0] = NULL;
        hexes = calloc(count + 1, sizeof *hexes);
    }
    for (size_t i = 0; rc == 0 && hexes && i <= count; i++) {
        if ((hexes[i] = malloc(PSEUDO_HEX_SIZE)) == NULL)
            break;
        pseudo_hex(pseudo, i == 0 ? identity : texts[i], hexes[i]);
    }
    if (rc == 0 && (grown == NULL || hexes == NULL || hexes[count] == NULL)) {
        rc = LK_ENOMEM;
        lk_error_set(err, rc, "out of memory");
    }
    if (rc == 0) {
        texts[0] = (char *)identity; /* borrowed: taken out again before the free */
        rc = pq_text_array(&plan->needles, texts, count + 1, err);
        texts[0] = NULL;
    }
    if (rc == 0)
        rc = pq_text_array(&plan->replacements, hexes, count + 1, err);
    pq_strings_free(texts, grown ? count + 1 : count);
    pq_strings_free(hexes, count + 1);
    return rc;
}

/* Record the plan's pseudonyms as forgotten (in the caller's transaction, if any). */
static int record_plan(struct store *st, const char *project, const struct forget_plan *plan,
                       struct lk_error *err)
{
    const char *params[2] = {project, plan->replacements};

    return pq_exec(NULL, st->conn, PQ_COMMAND_OK, store_sql_forget_record, 2, params, err,
                   "record the forgotten identity in project %s", project);
}

int store_forget_record(struct store *st, const char *project, const char *identity,
                        const struct pseudo *pseudo, struct lk_error *err)
{
    struct forget_plan plan = {NULL, NULL};
    int rc = plan_forget(st, project, identity, pseudo, &plan, err);

    if (rc == 0)
        rc = record_plan(st, project, &plan, err);
    plan_dispose(&plan);
    return rc;
}

/* In order: the duplicates a race left, the scrubs of every extra that holds the identity or
 * one of its names, the renames, the rollup. The scrubs take the plan's arrays. */
static const char *const forget_sql[7] = {store_sql_forget_duplicates,
                                          store_sql_forget_scrub_participants,
                                          store_sql_forget_scrub_connections,
                                          store_sql_forget_scrub_sessions,
                                          store_sql_forget_connections,
                                          store_sql_forget_participants,
                                          store_sql_forget_rollup};

int store_forget(struct store *st, const char *project, const char *identity,
                 const struct pseudo *pseudo, long long *participants_out,
                 long long *connections_out, struct lk_error *err)
{
    char hex[PSEUDO_HEX_SIZE];
    const char *params[3] = {project, identity, hex}, *scrub[3] = {project, NULL, NULL};
    struct forget_plan plan = {NULL, NULL};
    long long n[7] = {0};
    PGresult *res = NULL;
    int rc = store_exec(st, "BEGIN", "start forgetting", err);

    pseudo_hex(pseudo, identity, hex);
    if (rc == 0)
        rc = plan_forget(st, project, identity, pseudo, &plan, err);
    scrub[1] = plan.needles;
    scrub[2] = plan.replacements;
    for (int i = 0; rc == 0 && i < 7; i++) {
        rc = pq_exec(&res, st->conn, i < 6 ? PQ_COMMAND_OK : PQ_TUPLES_OK, forget_sql[i], 3,
                     i >= 1 && i <= 3 ? scrub : params, err, "forget the identity in project %s",
                     project);
        if (rc == 0)
            n[i] = strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        res = NULL;
    }
    if (rc == 0)
        rc = record_plan(st, project, &plan, err);
    if (rc == 0)
        rc = store_exec(st, "COMMIT", "commit forgetting", err);
    plan_dispose(&plan);
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

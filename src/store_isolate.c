/* store_isolate.c -- a day archived again after PostgreSQL refused a value: the value costs
 * the session that carried it, and every other session of the day is archived.
 *
 * Staging: the COPY buffer holds whole binary COPY rows; each flush is its own COPY (header,
 * rows, trailer) under a savepoint. A refused chunk is rolled back and sent again row by row,
 * and a refused row's session (its stage column STORE_STAGE_SESSION_COLUMN) is refused. Merging:
 * the four merges run for a group of sessions under a savepoint; a refused group is rolled back and
 * halved until the refused session is alone. Refused sessions lose their staged rows, keep what the
 * archive held for them before, and get list_hash NULL so the next run fetches them again.
 * Savepoints cost a subtransaction each: only a day that met a refused value pays for them.
 */
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copy_binary.h"
#include "error.h"
#include "log.h"
#include "pq.h"
#include "store_internal.h"
#include "strmap.h"

/* $1 project, $2 sessions (text[]): their archived rows are fetched again next run. */
static const char SQL_REFETCH_REFUSED[] =
    "UPDATE livekit.sessions SET list_hash = NULL, details_archived = false"
    " WHERE project_id = $1::text AND session_id = ANY ($2::text[])";

/* $1 discarded attempts: the day's sessions, each once. */
static const char SQL_STAGED_SESSIONS[] =
    "SELECT DISTINCT session_id FROM lk_stage WHERE attempt <> ALL ($1::integer[]) ORDER BY 1";

/* Leave `session_id` out of the day: log it (the store decides), remember the first reason. */
int store_isolate_refuse(struct store *st, const char *session_id, const struct lk_error *why,
                         struct lk_error *err)
{
    bool added = false;

    if (strmap_put(&st->refused, session_id, 0, &added) != 0) {
        lk_error_set(err, LK_ENOMEM, "out of memory");
        return LK_ENOMEM;
    }
    if (!added)
        return 0;
    st->refused_count++;
    log_error("session %s: PostgreSQL refused a value; the session is left out of the day and "
              "fetched again next run",
              session_id);
    log_detail(LOG_LEVEL_ERROR, "%s: %s", why->message, why->detail);
    if (st->refused_first[0] == '\0')
        snprintf(st->refused_first, sizeof st->refused_first,
                 "session %.128s: PostgreSQL refused a value: %.400s", session_id, why->detail);
    return 0;
}

/* Run `sql` under a savepoint: kept when it succeeds, rolled back when the server refused a
 * value (*refused set, *why filled). Returns 0, or LK_EDB for any other failure. */
static int try_in_savepoint(struct store *st,
                            int (*attempt)(struct store *, void *, struct lk_error *), void *ctx,
                            bool *refused, struct lk_error *why, struct lk_error *err)
{
    int rc = store_exec(st, "SAVEPOINT lk_isolate", "set a savepoint", err);

    *refused = false;
    if (rc != 0)
        return rc;
    lk_error_init(why);
    rc = attempt(st, ctx, why);
    if (rc == LK_EVALUE) {
        *refused = true;
        return store_exec(st, "ROLLBACK TO SAVEPOINT lk_isolate; RELEASE SAVEPOINT lk_isolate",
                          "roll back to the savepoint", err);
    }
    if (rc != 0) {
        *err = *why;
        return rc;
    }
    return store_exec(st, "RELEASE SAVEPOINT lk_isolate", "release the savepoint", err);
}

/* ---- staging ---- */

struct chunk {
    const char *data;
    size_t len;
};

/* One COPY of chunk's rows (try_in_savepoint's attempt). */
static int copy_chunk(struct store *st, void *ctx, struct lk_error *err)
{
    const struct chunk *chunk = ctx;
    PGresult *res;
    int rc = pq_exec(NULL, st->conn, PQ_COPY_IN, STORE_COPY_STAGE_SQL, 0, NULL, err,
                     "start COPY into the staging table");

    if (rc != 0)
        return rc;
    if (PQputCopyData(st->conn, copy_binary_header, COPY_BINARY_HEADER_SIZE) != 1 ||
        PQputCopyData(st->conn, chunk->data, (int)chunk->len) != 1 ||
        PQputCopyData(st->conn, copy_binary_trailer, COPY_BINARY_TRAILER_SIZE) != 1 ||
        PQputCopyEnd(st->conn, NULL) != 1)
        rc = pq_fail(st->conn, err, "send rows to PostgreSQL");
    while ((res = PQgetResult(st->conn)) != NULL) {
        if (rc == 0)
            rc = pq_check(res, st->conn, PQ_COMMAND_OK, err, "stage the day's rows");
        PQclear(res);
    }
    return rc;
}

/* The length of a field of a binary COPY row (its 4-byte big-endian length; -1 is NULL). */
static long field_length(const char *at)
{
    const unsigned char *p = (const unsigned char *)at;
    uint32_t len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];

    return len == UINT32_MAX ? -1 : (long)len;
}

/* One binary COPY row at data (store_stage.c wrote it, whole): its size, and its session id
 * (field STORE_STAGE_SESSION_COLUMN) into out (size bytes, cut to fit). */
static size_t row_session(const char *data, char *out, size_t size)
{
    int fields = (unsigned char)data[0] << 8 | (unsigned char)data[1];
    size_t at = COPY_BINARY_ROW_START_SIZE;

    out[0] = '\0';
    for (int field = 0; field < fields; field++) {
        long len = field_length(data + at);
        at += 4;
        if (field == STORE_STAGE_SESSION_COLUMN && len >= 0)
            snprintf(out, size, "%.*s", (int)len, data + at);
        at += len > 0 ? (size_t)len : 0;
    }
    return at;
}

/* A refused chunk: each row in a COPY of its own; refused rows refuse their session. */
static int copy_rows_apart(struct store *st, const char *data, size_t len, struct lk_error *err)
{
    struct lk_error why;
    size_t at = 0;
    int rc = 0;

    while (rc == 0 && at < len) {
        char session_id[512];
        struct chunk row = {data + at, row_session(data + at, session_id, sizeof session_id)};
        bool refused;

        rc = try_in_savepoint(st, copy_chunk, &row, &refused, &why, err);
        if (rc == 0 && refused)
            rc = store_isolate_refuse(st, session_id, &why, err);
        at += row.len;
    }
    return rc;
}

int store_isolate_flush(struct store *st, struct lk_error *err)
{
    struct chunk all = {st->copy_buf, st->copy_len};
    struct lk_error why;
    bool refused = false;
    int rc = 0;

    if (st->copy_len > 0)
        rc = try_in_savepoint(st, copy_chunk, &all, &refused, &why, err);
    if (rc == 0 && refused)
        rc = copy_rows_apart(st, st->copy_buf, st->copy_len, err);
    st->copy_len = 0;
    return rc;
}

/* ---- merging ---- */

struct group {
    const char *discarded;
    char *const *ids;
    size_t count;
};

/* The four merges for one group of sessions (try_in_savepoint's attempt). */
static int merge_group(struct store *st, void *ctx, struct lk_error *err)
{
    const struct group *group = ctx;
    char *subset = NULL;
    int rc = pq_text_array(&subset, group->ids, group->count, err);

    if (rc == 0)
        rc = store_merge_sessions(st, group->discarded, subset, err);
    free(subset);
    return rc;
}

/* Merge a group; a refused one is halved until the refused session stands alone. The depth
 * is log2 of the day's sessions. */
static int merge_halving(struct store *st, const struct group *group, struct lk_error *err)
{
    struct lk_error why;
    bool refused = false;
    int rc;

    if (group->count == 0)
        return 0;
    rc = try_in_savepoint(st, merge_group, (void *)group, &refused, &why, err);
    if (rc != 0 || !refused)
        return rc;
    if (group->count == 1)
        return store_isolate_refuse(st, group->ids[0], &why, err);
    {
        size_t half = group->count / 2;
        struct group left = {group->discarded, group->ids, half};
        struct group right = {group->discarded, group->ids + half, group->count - half};
        rc = merge_halving(st, &left, err);
        if (rc == 0)
            rc = merge_halving(st, &right, err);
    }
    return rc;
}

/* The staged sessions not refused at COPY time: *ids_out (the caller frees each, then the
 * array) of *count_out. */
static bool not_refused(const PGresult *res, int row, void *ctx)
{
    const struct store *st = ctx;

    /* refused at COPY time: none of its rows is merged */
    return !strmap_get(&st->refused, PQgetvalue(res, row, 0), NULL);
}

static int sessions_to_merge(struct store *st, const char *discarded, char ***ids_out,
                             size_t *count_out, struct lk_error *err)
{
    const char *params[1] = {discarded};
    PGresult *res = NULL;
    int rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, SQL_STAGED_SESSIONS, 1, params, err,
                     "list the day's staged sessions");

    *ids_out = NULL;
    *count_out = 0;
    if (rc == 0)
        rc = pq_column_strings(ids_out, count_out, res, 0, not_refused, st, err);
    PQclear(res);
    return rc;
}

/* The refused sessions' archived rows (from earlier runs) stay as they were, but are fetched
 * again next run: their list entry no longer counts as archived. */
static int refetch_refused(struct store *st, struct lk_error *err)
{
    char **ids = calloc(st->refused.count + 1, sizeof *ids);
    char *array = NULL;
    size_t count = 0;
    int rc = 0;

    for (size_t i = 0; ids && i < st->refused.capacity; i++)
        if (st->refused.keys[i])
            ids[count++] = st->refused.keys[i]; /* borrowed from the map */
    if (ids == NULL) {
        lk_error_set(err, LK_ENOMEM, "out of memory");
        rc = LK_ENOMEM;
    } else if ((rc = pq_text_array(&array, ids, count, err)) == 0) {
        const char *params[2] = {st->project, array};
        rc = pq_exec(NULL, st->conn, PQ_COMMAND_OK, SQL_REFETCH_REFUSED, 2, params, err,
                     "mark the refused sessions to be fetched again");
    }
    free(array);
    free(ids);
    return rc;
}

int store_isolate_merge(struct store *st, const char *discarded, struct lk_error *err)
{
    char **ids = NULL;
    size_t count = 0;
    int rc = sessions_to_merge(st, discarded, &ids, &count, err);

    if (rc == 0) {
        struct group all = {discarded, ids, count};
        rc = merge_halving(st, &all, err);
    }
    if (rc == 0 && st->refused_count > 0)
        rc = refetch_refused(st, err);
    pq_strings_free(ids, count);
    return rc;
}

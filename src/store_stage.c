/* store_stage.c -- the day's COPY stage; see store.h.
 *
 * Flow of a day (store_day.c opens it): COPY lk_stage FROM STDIN (FORMAT binary) into the stage
 * (src/queries/stage.sql); records are appended as
 * binary COPY rows (copy_binary.c: the server parses no text) to a capped buffer that is
 * flushed with PQputCopyData as it fills; PQputCopyEnd; then the listed sessions are compared
 * with the archive to tell which need their details, and a second COPY stages those.
 * store_day.c then merges the stage and commits. Values arrive already validated by extract; one
 * its stage column still cannot hold (a bug, or a caller other than extract) is refused here
 * as the server would refuse it: LK_EVALUE, or in isolation the loss of its session alone.
 * connection_minutes is staged as its text and cast by the merge (numeric's binary form is
 * base-10000 digits, and it comes once per session).
 */
#include "store.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "copy_binary.h"
#include "error.h"
#include "pq.h"
#include "store_day.h"
#include "store_internal.h"
#include "store_sql.h"
#include "strmap.h"

/* The list entry's hash: every value (NULL distinct from "") and extra, in column order.
 * Stored as bigint, so it is kept in the signed range PostgreSQL holds. */
static uint64_t list_record_hash(const struct record *rec)
{
    uint64_t h = STRMAP_HASH_SEED;
    for (int i = 0; i < LS_COUNT; i++) {
        if (rec->values[i] == NULL)
            h = strmap_hash(h, "\x01", 1);
        else
            h = strmap_hash(h, rec->values[i], strlen(rec->values[i]) + 1);
    }
    h = strmap_hash(h, rec->extra, strlen(rec->extra));
    return h & 0x7fffffffffffffffULL;
}

/* Stage columns, in COPY order (store_isolate.c finds the session id by its number). */
enum stage_column {
    SG_SEQ,
    SG_ATTEMPT,
    SG_KIND,
    SG_SESSION_ID,
    SG_PARTICIPANT_IDENTITY,
    SG_CONNECTION_ID,
    SG_ROOM_NAME,
    SG_CREATED_AT,
    SG_ENDED_AT,
    SG_LAST_ACTIVE,
    SG_BANDWIDTH_IN,
    SG_BANDWIDTH_OUT,
    SG_EGRESS,
    SG_NUM_PARTICIPANTS,
    SG_NUM_ACTIVE_PARTICIPANTS,
    SG_START_TIME,
    SG_END_TIME,
    SG_BANDWIDTH,
    SG_CONNECTION_MINUTES,
    SG_DETAILS_NUM_PARTICIPANTS,
    SG_PARTICIPANT_NAME,
    SG_JOINED_AT,
    SG_LEFT_AT,
    SG_REGION,
    SG_CONNECTION_TYPE,
    SG_SDK_VERSION,
    SG_CAMERA,
    SG_MICROPHONE,
    SG_SCREEN_SHARE,
    SG_SCREEN_SHARE_AUDIO,
    SG_EXTRA,
    SG_LIST_HASH,
    SG_COUNT
};
_Static_assert(SG_SESSION_ID == STORE_STAGE_SESSION_COLUMN, "store_isolate.c reads this column");

/* Each stage column's name (for messages) and binary type, in COPY order. */
static const struct {
    const char *name;
    enum copy_type type;
} stage_columns[SG_COUNT] = {
    [SG_SEQ] = {"seq", COPY_INT8},
    [SG_ATTEMPT] = {"attempt", COPY_INT4},
    [SG_KIND] = {"kind", COPY_CHAR},
    [SG_SESSION_ID] = {"session_id", COPY_TEXT},
    [SG_PARTICIPANT_IDENTITY] = {"participant_identity", COPY_TEXT},
    [SG_CONNECTION_ID] = {"connection_id", COPY_TEXT},
    [SG_ROOM_NAME] = {"room_name", COPY_TEXT},
    [SG_CREATED_AT] = {"created_at", COPY_TIMESTAMPTZ},
    [SG_ENDED_AT] = {"ended_at", COPY_TIMESTAMPTZ},
    [SG_LAST_ACTIVE] = {"last_active", COPY_TIMESTAMPTZ},
    [SG_BANDWIDTH_IN] = {"bandwidth_in", COPY_INT8},
    [SG_BANDWIDTH_OUT] = {"bandwidth_out", COPY_INT8},
    [SG_EGRESS] = {"egress", COPY_INT2},
    [SG_NUM_PARTICIPANTS] = {"num_participants", COPY_INT4},
    [SG_NUM_ACTIVE_PARTICIPANTS] = {"num_active_participants", COPY_INT4},
    [SG_START_TIME] = {"start_time", COPY_TIMESTAMPTZ},
    [SG_END_TIME] = {"end_time", COPY_TIMESTAMPTZ},
    [SG_BANDWIDTH] = {"bandwidth", COPY_INT8},
    [SG_CONNECTION_MINUTES] = {"connection_minutes", COPY_TEXT},
    [SG_DETAILS_NUM_PARTICIPANTS] = {"details_num_participants", COPY_INT4},
    [SG_PARTICIPANT_NAME] = {"participant_name", COPY_TEXT},
    [SG_JOINED_AT] = {"joined_at", COPY_TIMESTAMPTZ},
    [SG_LEFT_AT] = {"left_at", COPY_TIMESTAMPTZ},
    [SG_REGION] = {"region", COPY_TEXT},
    [SG_CONNECTION_TYPE] = {"connection_type", COPY_TEXT},
    [SG_SDK_VERSION] = {"sdk_version", COPY_TEXT},
    [SG_CAMERA] = {"camera", COPY_BOOL},
    [SG_MICROPHONE] = {"microphone", COPY_BOOL},
    [SG_SCREEN_SHARE] = {"screen_share", COPY_BOOL},
    [SG_SCREEN_SHARE_AUDIO] = {"screen_share_audio", COPY_BOOL},
    [SG_EXTRA] = {"extra", COPY_JSONB},
    [SG_LIST_HASH] = {"list_hash", COPY_INT8},
};

static int start_copy(struct store *st, struct lk_error *err);

static int load_known(struct store *st, struct lk_error *err)
{
    const char *params[3] = {st->project, st->day, st->settle_s};
    PGresult *res = NULL;
    /* final sessions only: ended, and longer ago than the settling time */
    int rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                     "SELECT session_id, list_hash FROM livekit.sessions"
                     " WHERE project_id = $1::text AND list_day = $2::date AND details_archived"
                     " AND ended_at <= now() - make_interval(secs => $3::double precision) AND "
                     "list_hash IS NOT NULL",
                     3, params, err, "read the day's archived sessions");

    int id = rc == 0 ? pq_column(res, "session_id") : 0;
    int hash = rc == 0 ? pq_column(res, "list_hash") : 0;

    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        if (strmap_put(&st->known, PQgetvalue(res, i, id),
                       strtoull(PQgetvalue(res, i, hash), NULL, 10), NULL) != 0) {
            lk_error_set(err, LK_ENOMEM, "out of memory");
            rc = LK_ENOMEM;
        }
    }
    PQclear(res);
    return rc;
}

/* Whether the database has the citus extension (st->citus). */
static int read_citus(struct store *st, struct lk_error *err)
{
    PGresult *res = NULL;
    int rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                     "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')", 0, NULL,
                     err, "read whether the database runs Citus");

    if (rc == 0)
        st->citus = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? STORE_CITUS_YES : STORE_CITUS_NO;
    PQclear(res);
    return rc;
}

int store_stage_open(struct store *st, bool full, struct lk_error *err)
{
    int rc = store_exec(st, store_sql_create_stage, "create the staging table", err);

    if (rc == 0 && st->citus == STORE_CITUS_UNKNOWN)
        rc = read_citus(st, err);
    if (rc == 0 && !full)
        rc = load_known(st, err);
    if (rc == 0)
        rc = store_forget_load(st, err);
    if (rc == 0)
        rc = start_copy(st, err);
    return rc;
}

static int flush_copy(struct store *st, struct lk_error *err)
{
    if (st->copy_len == 0)
        return 0;
    if (st->isolate)
        return store_isolate_flush(st, err);
    if (PQputCopyData(st->conn, st->copy_buf, (int)st->copy_len) != 1)
        return pq_fail(st->conn, err, "send rows to PostgreSQL");
    st->copy_len = 0;
    return 0;
}

/* Room for `need` more bytes in the COPY buffer: a streaming day sends what it holds; a day in
 * isolation sends whole rows only (store_day_add flushes between rows), so it grows instead. */
static int make_room(struct store *st, size_t need, struct lk_error *err)
{
    char *grown;

    if (st->copy_len + need <= st->copy_capacity)
        return 0;
    if (!st->isolate && flush_copy(st, err) != 0)
        return LK_EDB;
    if (st->copy_len + need <= st->copy_capacity)
        return 0;
    grown = realloc(st->copy_buf, st->copy_len + need);
    if (grown == NULL) {
        lk_error_set(err, LK_ENOMEM, "out of memory");
        return LK_ENOMEM;
    }
    st->copy_buf = grown;
    st->copy_capacity = st->copy_len + need;
    return 0;
}

/* Append one binary COPY row of `row` (a value per stage column, NULL for SQL NULL). A value
 * its column cannot hold appends nothing and refuses the row: LK_EVALUE, or in isolation its
 * session is left out of the day (store_isolate_refuse) and the row dropped. */
static int append_row(struct store *st, const char *const row[SG_COUNT], struct lk_error *err)
{
    size_t need = COPY_BINARY_ROW_START_SIZE, start;
    struct lk_error why;
    int rc;

    for (int i = 0; i < SG_COUNT; i++)
        need += copy_binary_field_size(stage_columns[i].type, row[i]);
    if ((rc = make_room(st, need, err)) != 0)
        return rc;
    start = st->copy_len;
    st->copy_len += copy_binary_row_start(st->copy_buf + st->copy_len, SG_COUNT);
    for (int i = 0; i < SG_COUNT; i++) {
        long written =
            copy_binary_field(st->copy_buf + st->copy_len, stage_columns[i].type, row[i]);
        if (written < 0) {
            st->copy_len = start;
            lk_error_set(&why, LK_EVALUE, "could not stage the day's rows");
            /* an identity or a name is not shown (privacy): its length says enough */
            if (i == SG_PARTICIPANT_IDENTITY || i == SG_PARTICIPANT_NAME)
                lk_error_detail(&why,
                                "column %s cannot hold a value of %zu bytes of session %.128s",
                                stage_columns[i].name, strlen(row[i]), row[SG_SESSION_ID]);
            else
                lk_error_detail(&why, "column %s cannot hold the value \"%.64s\" of session %.128s",
                                stage_columns[i].name, row[i], row[SG_SESSION_ID]);
            if (st->isolate)
                return store_isolate_refuse(st, row[SG_SESSION_ID], &why, err);
            *err = why;
            return LK_EVALUE;
        }
        st->copy_len += (size_t)written;
    }
    return 0;
}

/* Note the key of a staged participant (session, identity) or connection (session, connection
 * id) in st->staged_keys: the merges ask it whether the day staged any key twice. */
static void note_key(struct store *st, char kind, const char *const row[SG_COUNT])
{
    const char *key = row[kind == 'P' ? SG_PARTICIPANT_IDENTITY : SG_CONNECTION_ID];
    uint64_t h = strmap_hash(STRMAP_HASH_SEED, &kind, 1);

    h = strmap_hash(h, row[SG_SESSION_ID], strlen(row[SG_SESSION_ID]) + 1);
    h = key ? strmap_hash(h, key, strlen(key) + 1) : strmap_hash(h, "\x01", 1);
    (void)keyset_add(&st->staged_keys, h); /* a full log answers "maybe twice" */
}

/* Record columns -> stage columns, per kind. */
static const int list_to_stage[LS_COUNT] = {SG_SESSION_ID,       SG_ROOM_NAME,
                                            SG_CREATED_AT,       SG_ENDED_AT,
                                            SG_LAST_ACTIVE,      SG_BANDWIDTH_IN,
                                            SG_BANDWIDTH_OUT,    SG_EGRESS,
                                            SG_NUM_PARTICIPANTS, SG_NUM_ACTIVE_PARTICIPANTS};
static const int details_to_stage[DS_COUNT] = {SG_SESSION_ID,
                                               SG_ROOM_NAME,
                                               SG_START_TIME,
                                               SG_END_TIME,
                                               SG_BANDWIDTH,
                                               SG_CONNECTION_MINUTES,
                                               SG_DETAILS_NUM_PARTICIPANTS};
static const int participant_to_stage[PT_COUNT] = {
    SG_SESSION_ID,   SG_PARTICIPANT_IDENTITY, SG_PARTICIPANT_NAME, SG_JOINED_AT, SG_LEFT_AT,
    SG_REGION,       SG_CONNECTION_TYPE,      SG_SDK_VERSION,      SG_CAMERA,    SG_MICROPHONE,
    SG_SCREEN_SHARE, SG_SCREEN_SHARE_AUDIO};
static const int connection_to_stage[CN_COUNT] = {
    SG_SESSION_ID, SG_CONNECTION_ID, SG_PARTICIPANT_IDENTITY, SG_JOINED_AT, SG_LEFT_AT};

int store_day_add(struct store *st, const struct record *rec, int attempt, struct lk_error *err)
{
    static const char kind_letter[RECORD_KIND_COUNT] = {'L', 'D', 'P', 'C'};
    static const int *const maps[RECORD_KIND_COUNT] = {list_to_stage, details_to_stage,
                                                       participant_to_stage, connection_to_stage};
    static const int counts[RECORD_KIND_COUNT] = {LS_COUNT, DS_COUNT, PT_COUNT, CN_COUNT};
    const char *row[SG_COUNT] = {0};
    char seq[24], attempt_text[24], kind[2] = {kind_letter[rec->kind], '\0'}, hash_text[24];
    char id_hex[65], name_hex[65];
    uint64_t hash, known;

    assert(st != NULL && st->in_day && st->copying);
    if (rec->kind == RECORD_LIST_SESSION) {
        hash = list_record_hash(rec);
        if (strmap_get(&st->known, rec->values[LS_SESSION_ID], &known) && known == hash)
            return 0; /* ended, archived, unchanged: nothing to merge, no details to fetch */
        convert_format_unsigned(hash_text, hash);
        row[SG_LIST_HASH] = hash_text;
    }

    /* by hand, not snprintf: two per staged row (profiled) */
    convert_format_unsigned(seq, (uint64_t)++st->seq);
    convert_format_unsigned(attempt_text, (uint64_t)attempt);
    row[SG_SEQ] = seq;
    row[SG_ATTEMPT] = attempt_text;
    row[SG_KIND] = kind;
    for (int i = 0; i < counts[rec->kind]; i++)
        row[maps[rec->kind][i]] = rec->values[i];
    row[SG_EXTRA] = rec->extra;
    store_forget_apply(st, rec, &row[SG_PARTICIPANT_IDENTITY], &row[SG_PARTICIPANT_NAME],
                       &row[SG_EXTRA], id_hex, name_hex);
    int rc = append_row(st, row, err);
    if (rc != 0)
        return rc;
    if (!st->staged_keys.full && (kind[0] == 'P' || kind[0] == 'C'))
        note_key(st, kind[0], row);
    if (st->copy_len >= (st->isolate ? STORE_ISOLATE_CHUNK_BYTES : STORE_COPY_FLUSH_BYTES))
        return flush_copy(st, err);
    return 0;
}

int store_day_discard_attempt(struct store *st, int attempt, struct lk_error *err)
{
    assert(st != NULL);
    if (st->discarded_count == st->discarded_capacity) {
        size_t capacity = st->discarded_capacity ? st->discarded_capacity * 2 : 16;
        int *grown = realloc(st->discarded, capacity * sizeof *grown);
        if (grown == NULL) {
            lk_error_set(err, LK_ENOMEM, "out of memory");
            return LK_ENOMEM;
        }
        st->discarded = grown;
        st->discarded_capacity = capacity;
    }
    st->discarded[st->discarded_count++] = attempt;
    return 0;
}

int store_stage_discarded(const struct store *st, char **out, struct lk_error *err)
{
    return pq_int_array(out, st->discarded, st->discarded_count, err);
}

int store_stage_end_copy(struct store *st, struct lk_error *err)
{
    PGresult *res;
    int rc = 0;

    if (!st->copying)
        return 0;
    st->copying = false;
    if (st->isolate) /* each chunk was a COPY of its own: send the last one */
        return flush_copy(st, err);
    if (flush_copy(st, err) != 0)
        return LK_EDB;
    if (PQputCopyData(st->conn, copy_binary_trailer, COPY_BINARY_TRAILER_SIZE) != 1 ||
        PQputCopyEnd(st->conn, NULL) != 1)
        return pq_fail(st->conn, err, "finish COPY into the staging table");
    /* read every result to the end (NULL), keeping the first failure */
    while ((res = PQgetResult(st->conn)) != NULL) {
        if (rc == 0)
            rc = pq_check(res, st->conn, PQ_COMMAND_OK, err, "stage the day's rows");
        PQclear(res);
    }
    return rc;
}

static int start_copy(struct store *st, struct lk_error *err)
{
    if (st->isolate) { /* rows are sent a chunk at a time, each its own COPY */
        st->copying = true;
        return 0;
    }
    if (pq_exec(NULL, st->conn, PQ_COPY_IN, STORE_COPY_STAGE_SQL, 0, NULL, err,
                "start COPY into the staging table") != 0)
        return LK_EDB;
    st->copying = true;
    if (PQputCopyData(st->conn, copy_binary_header, COPY_BINARY_HEADER_SIZE) != 1)
        return pq_fail(st->conn, err, "send rows to PostgreSQL");
    return 0;
}

/* A row of sessions_needing_details whose details are needed. */
static bool needs_details(const PGresult *res, int row, void *ctx)
{
    (void)ctx;
    return strcmp(PQgetvalue(res, row, pq_column(res, "needs_details")), "t") == 0;
}

int store_day_sessions_needing_details(struct store *st, bool full, char ***ids_out,
                                       size_t *count_out, struct lk_error *err)
{
    char *discarded = NULL;
    PGresult *res = NULL;
    int rc;

    assert(st != NULL && st->in_day);
    *ids_out = NULL;
    *count_out = 0;
    rc = store_stage_end_copy(st, err);
    if (rc == 0)
        rc = store_stage_discarded(st, &discarded, err);
    if (rc != 0)
        goto done;
    {
        const char *params[5] = {st->project, discarded, full ? "true" : "false", st->day,
                                 st->settle_s};
        rc = pq_exec(&res, st->conn, PQ_TUPLES_OK, store_sql_sessions_needing_details, 5, params,
                     err, "compare the listed sessions with the archive");
    }
    if (rc == 0)
        rc = start_copy(st, err);
    if (rc != 0)
        goto done;
    /* every row is a list entry that is new or changed, or whose details are needed; when
     * there is none, the list merge has nothing to do */
    st->list_rows_changed = PQntuples(res) > 0;
    rc = pq_column_strings(ids_out, count_out, res, pq_column(res, "session_id"), needs_details,
                           NULL, err);
    if (rc != 0) {
        pq_strings_free(*ids_out, *count_out);
        *ids_out = NULL;
        *count_out = 0;
    }
done:
    PQclear(res);
    free(discarded);
    return rc;
}

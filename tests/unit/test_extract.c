/* test_extract.c -- unit tests for extract.c, the streaming yajl SAX parser of API bodies.
 *
 * Every body goes through parse_all(): it is fed whole, then in every chunk size from 1 byte
 * up to its full length (at least 64), and each run must give the same return code, error
 * message, records and unknown-field paths, since the network may cut a body anywhere. A sink
 * copies each record (its pointers are only borrowed for the callback) and each unknown path;
 * tests then assert exact column text and exact `extra` JSON. Realistic bodies live in
 * tests/fixtures/api/ (plain and with every known upstream quirk); focused cases are inline.
 * Warnings are printed once (whole-body run) and counted; chunked runs run silent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "extract.h"
#include "log.h"
#include "records.h"

#define FFFD "\xEF\xBF\xBD" /* U+FFFD REPLACEMENT CHARACTER in UTF-8 */

#define DEFAULT_MAX_STRING ((size_t)1 << 20)
#define DEFAULT_MAX_DEPTH 64
#define MIN_CHUNK_SWEEP 64

/* ---- a recording sink ---- */

struct seen {
    enum record_kind kind;
    char *values[RECORD_MAX_COLUMNS];
    char *extra;
};

struct outcome {
    int rc;
    char message[512];
    char detail[1024];
    struct seen *records;
    size_t count, capacity;
    char **paths;
    size_t path_count, path_capacity;
    size_t extract_count; /* extract_record_count() at the end */
    unsigned long warnings;
    size_t fail_at; /* the sink refuses the fail_at-th record (1-based); 0 never */
    int fail_code;
    size_t calls;
};

struct spec {
    enum extract_body body;
    const char *session_id;
    size_t max_string_bytes; /* 0: DEFAULT_MAX_STRING */
    int max_depth;           /* 0: DEFAULT_MAX_DEPTH */
    size_t max_body_bytes;   /* 0: no bound */
    size_t max_record_bytes; /* 0: no bound */
    size_t max_records;      /* 0: no bound */
    size_t fail_at;
    int fail_code;
    bool no_unknown_callback;
};

static char *xstrdup(const char *text)
{
    char *copy;
    if (text == NULL)
        return NULL;
    size_t len = strlen(text) + 1;
    copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, text, len);
    return copy;
}

static int sink_record(void *ctx, const struct record *rec, struct lk_error *err)
{
    struct outcome *o = ctx;
    struct seen *s;

    o->calls++;
    if (o->fail_at != 0 && o->calls == o->fail_at) {
        lk_error_set(err, o->fail_code, "sink refused record %zu", o->calls);
        return o->fail_code;
    }
    if (o->count == o->capacity) {
        size_t capacity = o->capacity ? o->capacity * 2 : 8;
        struct seen *grown = realloc(o->records, capacity * sizeof *grown);
        assert_non_null(grown);
        o->records = grown;
        o->capacity = capacity;
    }
    s = &o->records[o->count++];
    s->kind = rec->kind;
    for (int i = 0; i < RECORD_MAX_COLUMNS; i++)
        s->values[i] = xstrdup(rec->values[i]);
    assert_non_null(rec->extra); /* never NULL: "{}" when nothing extra */
    s->extra = xstrdup(rec->extra);
    return 0;
}

static void sink_unknown(void *ctx, const char *path)
{
    struct outcome *o = ctx;
    if (o->path_count == o->path_capacity) {
        size_t capacity = o->path_capacity ? o->path_capacity * 2 : 8;
        char **grown = realloc(o->paths, capacity * sizeof *grown);
        assert_non_null(grown);
        o->paths = grown;
        o->path_capacity = capacity;
    }
    o->paths[o->path_count++] = xstrdup(path);
}

static void outcome_free(struct outcome *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->count; i++) {
        for (int c = 0; c < RECORD_MAX_COLUMNS; c++)
            free(o->records[i].values[c]);
        free(o->records[i].extra);
    }
    free(o->records);
    for (size_t i = 0; i < o->path_count; i++)
        free(o->paths[i]);
    free(o->paths);
    free(o);
}

/* ---- running the extractor ---- */

/* One run: feed `json` in chunks of `chunk` bytes (0: whole), then finish. */
static struct outcome *run_once(const struct spec *sp, const char *json, size_t len, size_t chunk)
{
    struct outcome *o = calloc(1, sizeof *o);
    struct extract_limits limits = {0};
    struct record_sink sink;
    struct extract *ex = NULL;
    struct lk_error err, after;
    unsigned long warnings_before = log_warning_count();
    int rc;

    assert_non_null(o);
    o->fail_at = sp->fail_at;
    o->fail_code = sp->fail_code;
    limits.max_string_bytes = sp->max_string_bytes ? sp->max_string_bytes : DEFAULT_MAX_STRING;
    limits.max_depth = sp->max_depth ? sp->max_depth : DEFAULT_MAX_DEPTH;
    limits.max_body_bytes = sp->max_body_bytes;
    limits.max_record_bytes = sp->max_record_bytes;
    limits.max_records = sp->max_records;
    sink.ctx = o;
    sink.on_record = sink_record;
    sink.on_unknown_field = sp->no_unknown_callback ? NULL : sink_unknown;
    lk_error_init(&err);
    assert_int_equal(extract_new(&ex, sp->body, sp->session_id, &limits, &sink, &err), 0);
    assert_non_null(ex);
    if (chunk == 0)
        chunk = len ? len : 1;
    rc = extract_feed(ex, json, 0, &err); /* an empty chunk is harmless */
    for (size_t off = 0; rc == 0 && off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        rc = extract_feed(ex, json + off, n, &err);
    }
    if (rc == 0) {
        rc = extract_finish(ex, &err);
    } else {
        /* after an error the extractor keeps returning it */
        lk_error_init(&after);
        assert_int_equal(extract_feed(ex, "{}", 2, &after), rc);
        assert_int_equal(extract_finish(ex, &after), rc);
    }
    o->rc = rc;
    if (rc != 0) {
        assert_int_equal(err.code, rc);
        assert_true(err.message[0] != '\0');
    }
    snprintf(o->message, sizeof o->message, "%s", err.message);
    snprintf(o->detail, sizeof o->detail, "%s", err.detail);
    o->extract_count = extract_record_count(ex);
    extract_free(ex);
    o->warnings = log_warning_count() - warnings_before;
    return o;
}

static bool same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static bool same_record(const struct seen *a, const struct seen *b)
{
    if (a->kind != b->kind || !same_text(a->extra, b->extra))
        return false;
    for (int c = 0; c < RECORD_MAX_COLUMNS; c++)
        if (!same_text(a->values[c], b->values[c]))
            return false;
    return true;
}

/* Runs that ended in an error may stop at different records (a too-long token is caught
 * before its chunk is parsed), so then only a common prefix must agree. */
static bool same_outcome(const struct outcome *a, const struct outcome *b, const char **why)
{
    size_t common = a->count < b->count ? a->count : b->count;

    if (a->rc != b->rc) {
        *why = "return code";
        return false;
    }
    if (strcmp(a->message, b->message) != 0 || strcmp(a->detail, b->detail) != 0) {
        *why = "error message";
        return false;
    }
    if (a->rc == 0 && (a->count != b->count || a->extract_count != b->extract_count)) {
        *why = "record count";
        return false;
    }
    for (size_t i = 0; i < common; i++) {
        if (!same_record(&a->records[i], &b->records[i])) {
            *why = "a record";
            return false;
        }
    }
    if (a->rc == 0) {
        if (a->path_count != b->path_count) {
            *why = "unknown-field path count";
            return false;
        }
        for (size_t i = 0; i < a->path_count; i++) {
            if (strcmp(a->paths[i], b->paths[i]) != 0) {
                *why = "an unknown-field path";
                return false;
            }
        }
    }
    return true;
}

/* Feed whole, then in every chunk size; all runs must agree. Returns the whole-body run. */
static struct outcome *parse_all_at(const struct spec *sp, const char *json, size_t len,
                                    const char *file, int line)
{
    struct outcome *whole = run_once(sp, json, len, 0);
    size_t last = len > MIN_CHUNK_SWEEP ? len : MIN_CHUNK_SWEEP;

    log_set_level(LOG_LEVEL_ERROR); /* warnings were printed (and counted) once already */
    for (size_t chunk = 1; chunk <= last; chunk++) {
        struct outcome *part = run_once(sp, json, len, chunk);
        const char *why = "";
        bool same = same_outcome(whole, part, &why);
        if (!same) {
            log_set_level(LOG_LEVEL_INFO);
            print_error("fed in %zu-byte chunks, %s differs from the whole-body run\n"
                        "  whole: rc %d, %zu records, \"%s\"\n"
                        "  chunk: rc %d, %zu records, \"%s\"\n",
                        chunk, why, whole->rc, whole->count, whole->message, part->rc, part->count,
                        part->message);
            outcome_free(part);
            _fail(file, line); /* does not return */
            return whole;
        }
        outcome_free(part);
    }
    log_set_level(LOG_LEVEL_INFO);
    return whole;
}

#define parse_all(sp, json, len) parse_all_at((sp), (json), (len), __FILE__, __LINE__)

static struct outcome *parse_list_at(const char *json, const char *file, int line)
{
    struct spec sp = {.body = EXTRACT_LIST};
    return parse_all_at(&sp, json, strlen(json), file, line);
}

static struct outcome *parse_details_at(const char *session_id, const char *json, const char *file,
                                        int line)
{
    struct spec sp = {.body = EXTRACT_DETAILS, .session_id = session_id};
    return parse_all_at(&sp, json, strlen(json), file, line);
}

#define parse_list(json) parse_list_at((json), __FILE__, __LINE__)
#define parse_details(id, json) parse_details_at((id), (json), __FILE__, __LINE__)

static char *read_fixture(const char *name, size_t *len)
{
    char path[1024];
    FILE *f;
    char *data = NULL;
    size_t used = 0, capacity = 0, n;

    snprintf(path, sizeof path, "%s/api/%s", LK_FIXTURES_DIR, name);
    f = fopen(path, "rb");
    if (f == NULL) {
        print_error("cannot open fixture %s\n", path);
        fail();
    }
    do {
        if (capacity - used < 4096) {
            char *grown;
            capacity = capacity ? capacity * 2 : 8192;
            grown = realloc(data, capacity + 1);
            assert_non_null(grown);
            data = grown;
        }
        n = fread(data + used, 1, capacity - used, f);
        used += n;
    } while (n > 0);
    assert_int_equal(ferror(f), 0);
    fclose(f);
    data[used] = '\0';
    *len = used;
    return data;
}

/* ---- assertions ---- */

static const char *const list_session_columns[] = {
    "session_id",   "room_name",     "created_at", "ended_at",         "last_active",
    "bandwidth_in", "bandwidth_out", "egress",     "num_participants", "num_active_participants"};
static const char *const details_session_columns[] = {
    "session_id", "room_name",          "start_time",      "end_time",
    "bandwidth",  "connection_minutes", "num_participants"};
static const char *const participant_columns[] = {"session_id",
                                                  "participant_identity",
                                                  "participant_name",
                                                  "joined_at",
                                                  "left_at",
                                                  "region",
                                                  "connection_type",
                                                  "sdk_version",
                                                  "published_camera_track",
                                                  "published_microphone_track",
                                                  "published_screen_share_track",
                                                  "published_screen_share_audio"};
static const char *const connection_columns[] = {"session_id", "connection_id",
                                                 "participant_identity", "joined_at", "left_at"};

static const char *const *column_names(enum record_kind kind, size_t *count)
{
    switch (kind) {
    case RECORD_LIST_SESSION:
        *count = LS_COUNT;
        return list_session_columns;
    case RECORD_DETAILS_SESSION:
        *count = DS_COUNT;
        return details_session_columns;
    case RECORD_PARTICIPANT:
        *count = PT_COUNT;
        return participant_columns;
    case RECORD_CONNECTION:
    default:
        *count = CN_COUNT;
        return connection_columns;
    }
}

static void assert_text_at(const char *actual, const char *expected, const char *what,
                           const char *file, int line)
{
    if (same_text(actual, expected))
        return;
    print_error("%s: expected %s%s%s, got %s%s%s\n", what, expected ? "\"" : "",
                expected ? expected : "NULL", expected ? "\"" : "", actual ? "\"" : "",
                actual ? actual : "NULL", actual ? "\"" : "");
    _fail(file, line);
}

#define assert_text(actual, expected)                                                              \
    assert_text_at((actual), (expected), #actual, __FILE__, __LINE__)
#define assert_extra(rec, expected)                                                                \
    assert_text_at((rec)->extra, (expected), "extra", __FILE__, __LINE__)

static void assert_col_at(const struct seen *rec, int column, const char *expected,
                          const char *file, int line)
{
    size_t count;
    const char *const *names = column_names(rec->kind, &count);
    if ((size_t)column >= count) {
        print_error("column %d is not a column of record kind %d\n", column, (int)rec->kind);
        _fail(file, line);
        return;
    }
    assert_text_at(rec->values[column], expected, names[column], file, line);
}

#define assert_col(rec, column, expected)                                                          \
    assert_col_at((rec), (column), (expected), __FILE__, __LINE__)

/* Every column of a record, in column order, and its extra. */
static void assert_record_at(const struct seen *rec, enum record_kind kind, const char *extra,
                             const char *const *want, size_t want_count, const char *file, int line)
{
    size_t count;
    const char *const *names = column_names(kind, &count);

    if (rec->kind != kind) {
        print_error("record kind %d, expected %d\n", (int)rec->kind, (int)kind);
        _fail(file, line);
    }
    if (want_count != count) {
        print_error("test gives %zu columns for a record of %zu\n", want_count, count);
        _fail(file, line);
    }
    for (size_t c = 0; c < count; c++)
        assert_text_at(rec->values[c], want[c], names[c], file, line);
    for (size_t c = count; c < RECORD_MAX_COLUMNS; c++)
        assert_text_at(rec->values[c], NULL, "(beyond the kind's columns)", file, line);
    assert_text_at(rec->extra, extra, "extra", file, line);
}

#define COLUMNS(...)                                                                               \
    (const char *const[])                                                                          \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }
#define NCOLUMNS(...) (sizeof(COLUMNS(__VA_ARGS__)) / sizeof(const char *))
#define assert_record(rec, kind, extra, ...)                                                       \
    assert_record_at((rec), (kind), (extra), COLUMNS(__VA_ARGS__), NCOLUMNS(__VA_ARGS__),          \
                     __FILE__, __LINE__)

static size_t count_of(const struct outcome *o, enum record_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < o->count; i++)
        n += o->records[i].kind == kind;
    return n;
}

/* The n-th (0-based) record of a kind, in emission order. */
static const struct seen *nth_at(const struct outcome *o, enum record_kind kind, size_t n,
                                 const char *file, int line)
{
    for (size_t i = 0; i < o->count; i++)
        if (o->records[i].kind == kind && n-- == 0)
            return &o->records[i];
    print_error("no such record (kind %d)\n", (int)kind);
    _fail(file, line);
    return NULL;
}

#define nth(o, kind, n) nth_at((o), (kind), (n), __FILE__, __LINE__)
#define list_session(o, n) nth((o), RECORD_LIST_SESSION, (n))
#define participant(o, n) nth((o), RECORD_PARTICIPANT, (n))
#define connection(o, n) nth((o), RECORD_CONNECTION, (n))
#define details_session(o) nth((o), RECORD_DETAILS_SESSION, 0)

static void assert_ok_at(const struct outcome *o, const char *file, int line)
{
    if (o->rc != 0) {
        print_error("extract failed with %d: %s (%s)\n", o->rc, o->message, o->detail);
        _fail(file, line);
    }
}

#define assert_ok(o) assert_ok_at((o), __FILE__, __LINE__)

/* The exact list of unknown-field paths, in order; the list ends with NULL. */
static void assert_paths_at(const struct outcome *o, const char *file, int line, ...)
{
    va_list ap;
    size_t i = 0;
    const char *want;
    const char *missing = NULL;

    va_start(ap, line);
    while ((want = va_arg(ap, const char *)) != NULL) {
        if (i >= o->path_count) {
            missing = want;
            break;
        }
        if (strcmp(o->paths[i], want) != 0) {
            print_error("unknown-field path %zu: expected \"%s\", got \"%s\"\n", i, want,
                        o->paths[i]);
            missing = want;
            break;
        }
        i++;
    }
    va_end(ap);
    if (missing != NULL) {
        print_error("missing or wrong unknown-field path \"%s\"\n", missing);
        _fail(file, line);
    } else if (i != o->path_count) {
        print_error("unexpected unknown-field path \"%s\"\n", o->paths[i]);
        _fail(file, line);
    }
}

#define assert_paths(o, ...)                                                                       \
    assert_paths_at((o), __FILE__, __LINE__, __VA_ARGS__, (const char *)NULL)
#define assert_no_paths(o) assert_paths_at((o), __FILE__, __LINE__, (const char *)NULL)

static void assert_failed_at(const struct outcome *o, int code, const char *message_part,
                             const char *file, int line)
{
    if (o->rc != code) {
        print_error("expected code %d, got %d (%s)\n", code, o->rc, o->message);
        _fail(file, line);
    }
    if (message_part && strstr(o->message, message_part) == NULL) {
        print_error("error message \"%s\" does not contain \"%s\"\n", o->message, message_part);
        _fail(file, line);
    }
}

#define assert_failed(o, code, part) assert_failed_at((o), (code), (part), __FILE__, __LINE__)

/* ---- fixtures ---- */

static void extract_parses_plain_list_fixture(void **state)
{
    struct spec sp = {.body = EXTRACT_LIST};
    size_t len;
    char *json = read_fixture("list_plain.json", &len);
    struct outcome *o;
    (void)state;

    o = parse_all(&sp, json, len);
    assert_ok(o);
    assert_int_equal(o->count, 3);
    assert_int_equal(o->extract_count, 3);
    assert_int_equal(o->warnings, 0);
    assert_record(list_session(o, 0), RECORD_LIST_SESSION, "{}", "RM_hycBMAjmt6Ub",
                  "standup-2026-11-27", "2026-11-27 09:00:03+00", "2026-11-27 09:31:47+00",
                  "2026-11-27 09:31:47+00", "184467440", "923748120", "0", "4", "0");
    assert_record(list_session(o, 1), RECORD_LIST_SESSION, "{}", "RM_Xk2pQm9vTnLa",
                  "support/ticket-88412", "2026-11-27 10:12:55.481+00",
                  "2026-11-27 11:02:10.007+00", "2026-11-27 11:02:09.993+00", "7340032", "14680064",
                  "2", "2", "0");
    assert_record(list_session(o, 2), RECORD_LIST_SESSION, "{}", "RM_7dWqZr3uYbEe",
                  "webinar-q4-launch", "2026-11-27 16:00:00.000000001+00", NULL,
                  "2026-11-27 17:45:12.250+00", "52428800000", "2199023255552", "1", "312", "287");
    assert_no_paths(o);
    outcome_free(o);
    free(json);
}

static void extract_parses_plain_details_fixture(void **state)
{
    struct spec sp = {.body = EXTRACT_DETAILS, .session_id = "RM_hycBMAjmt6Ub"};
    size_t len;
    char *json = read_fixture("details_plain.json", &len);
    struct outcome *o;
    (void)state;

    o = parse_all(&sp, json, len);
    assert_ok(o);
    assert_int_equal(o->count, 6);
    assert_int_equal(o->extract_count, 1);
    assert_int_equal(o->warnings, 0);
    /* a participant goes out when it closes, its connections right after it; the session
     * itself when the top-level object closes */
    assert_int_equal(o->records[0].kind, RECORD_PARTICIPANT);
    assert_int_equal(o->records[1].kind, RECORD_CONNECTION);
    assert_int_equal(o->records[2].kind, RECORD_CONNECTION);
    assert_int_equal(o->records[3].kind, RECORD_PARTICIPANT);
    assert_int_equal(o->records[4].kind, RECORD_CONNECTION);
    assert_int_equal(o->records[5].kind, RECORD_DETAILS_SESSION);
    assert_record(participant(o, 0), RECORD_PARTICIPANT, "{}", "RM_hycBMAjmt6Ub",
                  "alice@example.com", "Alice Martin", "2026-11-27 09:00:03+00",
                  "2026-11-27 09:31:40+00", "eu-central", "UDP", "js-2.5.7", "t", "t", "f", "f");
    assert_record(connection(o, 0), RECORD_CONNECTION, "{}", "RM_hycBMAjmt6Ub", "PA_3kD9aQw2Lm8x",
                  "alice@example.com", "2026-11-27 09:00:03+00", "2026-11-27 09:12:00+00");
    assert_record(connection(o, 1), RECORD_CONNECTION, "{}", "RM_hycBMAjmt6Ub", "PA_9ZtR4yUe7Hc1",
                  "alice@example.com", "2026-11-27 09:12:05+00", "2026-11-27 09:31:40+00");
    assert_record(participant(o, 1), RECORD_PARTICIPANT, "{}", "RM_hycBMAjmt6Ub", "bob", "Bob",
                  "2026-11-27 09:01:30.500+00", "2026-11-27 09:31:47+00", "us-east", "TCP",
                  "swift-2.0.14", "f", "t", "t", "t");
    assert_record(connection(o, 2), RECORD_CONNECTION, "{}", "RM_hycBMAjmt6Ub", "PA_Qm4Ls8Pn2Vb6",
                  "bob", "2026-11-27 09:01:30.500+00", "2026-11-27 09:31:47+00");
    assert_record(details_session(o), RECORD_DETAILS_SESSION, "{}", "RM_hycBMAjmt6Ub",
                  "standup-2026-11-27", "2026-11-27 09:00:03+00", "2026-11-27 09:31:47+00",
                  "1108215560", "63.5", "2");
    assert_no_paths(o);
    outcome_free(o);
    free(json);
}

static void extract_parses_list_quirks_fixture(void **state)
{
    struct spec sp = {.body = EXTRACT_LIST};
    size_t len;
    char *json = read_fixture("list_quirks.json", &len);
    struct outcome *o;
    (void)state;

    o = parse_all(&sp, json, len);
    assert_ok(o);
    assert_int_equal(o->count, 4);
    assert_int_equal(o->extract_count, 4);
    /* int64 beyond 2^53 as string and number, egress and counts as strings, an offset,
     * a Go zero time, a {seconds, nanos} object; unknown fields kept with their nesting */
    assert_record(
        list_session(o, 0), RECORD_LIST_SESSION,
        "{\"agentCount\":2,\"features\":{\"recording\":true,\"codecs\":[\"vp8\",\"opus\"],"
        "\"limits\":{\"max\":null,\"ratio\":0.75}}}",
        "RM_big", "big-numbers", "2026-11-27 09:00:00+00", NULL, "2026-11-27 10:00:00.000000005+00",
        "9007199254740993", "9223372036854775807", "2", "12", "3");
    /* keys in reverse order, nulls, epoch number and epoch string, unconvertible values */
    assert_record(list_session(o, 1), RECORD_LIST_SESSION,
                  "{\"egress\":\"active\",\"bandwidthIn\":\"12abc\"}", "RM_shuffled", NULL,
                  "2026-11-27 10:00:00+00", NULL, "2026-11-27 11:00:00+00", NULL, NULL, NULL, NULL,
                  "0");
    /* U+0000 everywhere, odd string escapes, a timestamp object with an extra key */
    assert_record(list_session(o, 2), RECORD_LIST_SESSION,
                  "{\"createdAt\":{\"seconds\":\"1795773600\",\"nanos\":0,\"unit\":\"s\"},"
                  "\"lastActive\":\"yesterday\",\"egress\":\"32768\","
                  "\"note" FFFD "key\":\"x" FFFD "y\","
                  "\"tags\":[\"a" FFFD "\",{\"k" FFFD "\":\"" FFFD "\"}]}",
                  "RM_odd" FFFD "id", "caf\xC3\xA9 \"quoted\" back\\slash\ttab \xF0\x9F\x98\x80",
                  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    assert_record(list_session(o, 3), RECORD_LIST_SESSION,
                  "{\"numParticipants\":\"2147483648\",\"bandwidthIn\":\"1.5e3\"}", "RM_minimal",
                  NULL, "2026-11-27 09:15:00.5+00", NULL, "2026-11-27 13:15:00+00", NULL, NULL,
                  NULL, NULL, NULL);
    assert_paths(o, "list.nextPage", "session.agentCount", "session.features",
                 "session.note" FFFD "key", "session.tags", "list.pagination");
    assert_int_equal(o->warnings, 3); /* one per session with unconvertible fields */
    outcome_free(o);
    free(json);
}

static void extract_parses_details_quirks_fixture(void **state)
{
    struct spec sp = {.body = EXTRACT_DETAILS, .session_id = "RM_quirks"};
    size_t len;
    char *json = read_fixture("details_quirks.json", &len);
    struct outcome *o;
    (void)state;

    o = parse_all(&sp, json, len);
    assert_ok(o);
    assert_int_equal(o->count, 6);
    assert_int_equal(o->extract_count, 1);
    assert_int_equal(count_of(o, RECORD_PARTICIPANT), 3);
    assert_int_equal(count_of(o, RECORD_CONNECTION), 2);
    assert_int_equal(o->records[5].kind, RECORD_DETAILS_SESSION);
    /* sessions[] and publishedSources before the identity; unknown publishedSources members
     * nested under "publishedSources" after the participant's own unknown fields */
    assert_record(
        participant(o, 0), RECORD_PARTICIPANT,
        "{\"attributes\":{\"role\":\"host\",\"tier\":null},\"kind\":0,\"permissions\":null,"
        "\"publishedSources\":{\"dataTrack\":true,\"cameraTrack\":\"yes\","
        "\"simulcast\":{\"layers\":3,\"codecs\":[\"h264\"]}}}",
        "RM_quirks", "ada" FFFD "lovelace", "Host \"Ada\"", "2026-11-27 10:00:05+00", NULL,
        "eu-west", NULL, "go-2.4.1", NULL, "t", NULL, NULL);
    assert_record(connection(o, 0), RECORD_CONNECTION, "{\"transport\":\"udp\"}", "RM_quirks",
                  "PA_first", "ada" FFFD "lovelace", "2026-11-27 10:00:05.250000000+00", NULL);
    assert_record(connection(o, 1), RECORD_CONNECTION,
                  "{\"quality\":{\"score\":4.5,\"samples\":[1,2,3]}}", "RM_quirks", "PA_second",
                  "ada" FFFD "lovelace", "2026-11-27 09:20:00+00", NULL);
    assert_record(participant(o, 1), RECORD_PARTICIPANT, "{}", "RM_quirks",
                  "\xC3\xA9milie \xF0\x9F\x8E\x89", "\xC3\x89milie\tB.", "2026-11-27 11:00:00+00",
                  "2026-11-27 11:01:00.500000000+00", NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    assert_record(participant(o, 2), RECORD_PARTICIPANT, "{}", "RM_quirks", "viewer-3", NULL, NULL,
                  NULL, NULL, NULL, NULL, "f", "f", "f", "t");
    assert_record(details_session(o), RECORD_DETAILS_SESSION,
                  "{\"agentSessions\":[{\"agentId\":\"AG_1\",\"minutes\":12}],"
                  "\"recording\":{\"enabled\":false}}",
                  "RM_quirks", "quirks \\ room", "2026-11-27 10:00:00.123456789+00", NULL,
                  "9223372036854775807", "1.25e2", "3");
    assert_paths(o, "connection.transport", "connection.quality",
                 "participant.publishedSources.dataTrack", "participant.publishedSources.simulcast",
                 "participant.attributes", "participant.kind", "participant.permissions",
                 "details.agentSessions", "details.recording");
    assert_int_equal(o->warnings, 1); /* cameraTrack "yes" */
    outcome_free(o);
    free(json);
}

/* ---- one test per upstream quirk ---- */

static void extract_accepts_int64_as_string(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\",\"bandwidthIn\":\"9007199254740993\","
                   "\"bandwidthOut\":\"9223372036854775807\",\"numParticipants\":\"7\","
                   "\"numActiveParticipants\":\"-0\"}]}");
    assert_ok(o);
    assert_int_equal(o->count, 1);
    assert_col(list_session(o, 0), LS_BANDWIDTH_IN, "9007199254740993");
    assert_col(list_session(o, 0), LS_BANDWIDTH_OUT, "9223372036854775807");
    assert_col(list_session(o, 0), LS_NUM_PARTICIPANTS, "7");
    assert_col(list_session(o, 0), LS_NUM_ACTIVE_PARTICIPANTS, "0");
    assert_extra(list_session(o, 0), "{}");
    outcome_free(o);

    o = parse_details("RM_d", "{\"roomId\":\"RM_d\",\"bandwidth\":\"18014398509481985\","
                              "\"numParticipants\":\"0002\"}");
    assert_ok(o);
    assert_col(details_session(o), DS_BANDWIDTH, "18014398509481985");
    assert_col(details_session(o), DS_NUM_PARTICIPANTS, "2");
    assert_extra(details_session(o), "{}");
    outcome_free(o);
}

static void extract_keeps_int64_number_beyond_2_pow_53_exact(void **state)
{
    struct outcome *o;
    (void)state;

    /* a double would turn 2^53 + 1 into 2^53: the number's text must be used */
    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\",\"bandwidthIn\":9007199254740993,"
                   "\"bandwidthOut\":9223372036854775806}]}");
    assert_ok(o);
    assert_col(list_session(o, 0), LS_BANDWIDTH_IN, "9007199254740993");
    assert_col(list_session(o, 0), LS_BANDWIDTH_OUT, "9223372036854775806");
    outcome_free(o);

    o = parse_details("RM_d", "{\"roomId\":\"RM_d\",\"bandwidth\":9223372036854775807}");
    assert_ok(o);
    assert_col(details_session(o), DS_BANDWIDTH, "9223372036854775807");
    outcome_free(o);
}

static void extract_accepts_egress_as_string(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_list(
        "{\"sessions\":[{\"sessionId\":\"RM_a\",\"egress\":\"1\"},"
        "{\"sessionId\":\"RM_b\",\"egress\":2},{\"sessionId\":\"RM_c\",\"egress\":\"0\"},"
        "{\"sessionId\":\"RM_d\",\"egress\":\"02\"}]}");
    assert_ok(o);
    assert_int_equal(o->count, 4);
    assert_col(list_session(o, 0), LS_EGRESS, "1");
    assert_col(list_session(o, 1), LS_EGRESS, "2");
    assert_col(list_session(o, 2), LS_EGRESS, "0");
    assert_col(list_session(o, 3), LS_EGRESS, "2");
    for (size_t i = 0; i < 4; i++)
        assert_extra(list_session(o, i), "{}");
    outcome_free(o);
}

static void extract_accepts_rfc3339_timestamp_variants(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\","
                   "\"createdAt\":\"2026-11-27T10:00:00Z\","
                   "\"endedAt\":\"2026-11-27T12:30:00.123+02:00\","
                   "\"lastActive\":\"2026-11-27 10:00:00.123456789z\"},"
                   "{\"sessionId\":\"RM_b\","
                   "\"createdAt\":\"2026-11-27t04:30:00-05:30\","
                   "\"endedAt\":\"2026-11-28T01:00:00+02:00\","
                   "\"lastActive\":\"2026-11-27T10:00:00.5Z\"}]}");
    assert_ok(o);
    assert_col(list_session(o, 0), LS_CREATED_AT, "2026-11-27 10:00:00+00");
    assert_col(list_session(o, 0), LS_ENDED_AT, "2026-11-27 10:30:00.123+00");
    assert_col(list_session(o, 0), LS_LAST_ACTIVE, "2026-11-27 10:00:00.123456789+00");
    assert_col(list_session(o, 1), LS_CREATED_AT, "2026-11-27 10:00:00+00");
    assert_col(list_session(o, 1), LS_ENDED_AT, "2026-11-27 23:00:00+00");
    assert_col(list_session(o, 1), LS_LAST_ACTIVE, "2026-11-27 10:00:00.5+00");
    assert_extra(list_session(o, 0), "{}");
    assert_extra(list_session(o, 1), "{}");
    outcome_free(o);

    o = parse_details("RM_d",
                      "{\"roomId\":\"RM_d\",\"startTime\":\"2026-11-27T10:00:00.000Z\","
                      "\"endTime\":\"2026-11-27T11:00:00-01:00\",\"participants\":["
                      "{\"participantIdentity\":\"p\",\"joinedAt\":\"2026-11-27T10:00:01Z\","
                      "\"sessions\":[{\"sessionId\":\"PA_1\","
                      "\"joinedAt\":\"2026-11-27T10:00:01.25+00:00\"}]}]}");
    assert_ok(o);
    assert_col(details_session(o), DS_START_TIME, "2026-11-27 10:00:00.000+00");
    assert_col(details_session(o), DS_END_TIME, "2026-11-27 12:00:00+00");
    assert_col(participant(o, 0), PT_JOINED_AT, "2026-11-27 10:00:01+00");
    assert_col(connection(o, 0), CN_JOINED_AT, "2026-11-27 10:00:01.25+00");
    outcome_free(o);
}

static void extract_accepts_timestamp_object_with_string_seconds(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\","
                   "\"createdAt\":{\"seconds\":\"1795773600\",\"nanos\":500000000},"
                   "\"endedAt\":{\"nanos\":\"1\",\"seconds\":1795773600},"
                   "\"lastActive\":{\"seconds\":\"1795773600\"}}]}");
    assert_ok(o);
    assert_col(list_session(o, 0), LS_CREATED_AT, "2026-11-27 10:00:00.500000000+00");
    assert_col(list_session(o, 0), LS_ENDED_AT, "2026-11-27 10:00:00.000000001+00");
    assert_col(list_session(o, 0), LS_LAST_ACTIVE, "2026-11-27 10:00:00+00");
    assert_extra(list_session(o, 0), "{}");
    assert_no_paths(o);
    outcome_free(o);

    o = parse_details("RM_d", "{\"roomId\":\"RM_d\",\"startTime\":{\"seconds\":\"1795773600\"},"
                              "\"participants\":[{\"participantIdentity\":\"p\","
                              "\"leftAt\":{\"seconds\":\"1795777200\",\"nanos\":\"5\"},"
                              "\"sessions\":[{\"sessionId\":\"PA_1\","
                              "\"joinedAt\":{\"seconds\":\"1795773660\",\"nanos\":null}}]}]}");
    assert_ok(o);
    assert_col(details_session(o), DS_START_TIME, "2026-11-27 10:00:00+00");
    assert_col(participant(o, 0), PT_LEFT_AT, "2026-11-27 11:00:00.000000005+00");
    assert_col(connection(o, 0), CN_JOINED_AT, "2026-11-27 10:01:00+00");
    assert_extra(participant(o, 0), "{}");
    assert_extra(connection(o, 0), "{}");
    outcome_free(o);
}

static void extract_accepts_timestamp_as_epoch_number(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\",\"createdAt\":1795773600,"
                   "\"endedAt\":1795773600.25,\"lastActive\":\"1795777200\"}]}");
    assert_ok(o);
    assert_col(list_session(o, 0), LS_CREATED_AT, "2026-11-27 10:00:00+00");
    assert_col(list_session(o, 0), LS_ENDED_AT, "2026-11-27 10:00:00.25+00");
    assert_col(list_session(o, 0), LS_LAST_ACTIVE, "2026-11-27 11:00:00+00");
    assert_extra(list_session(o, 0), "{}");
    outcome_free(o);
}

static void extract_stores_zero_timestamps_as_null(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_list(
        "{\"sessions\":["
        "{\"sessionId\":\"RM_absent\"},"
        "{\"sessionId\":\"RM_null\",\"createdAt\":null,\"endedAt\":null,"
        "\"lastActive\":null},"
        "{\"sessionId\":\"RM_empty\",\"createdAt\":\"\",\"endedAt\":\"\","
        "\"lastActive\":\"\"},"
        "{\"sessionId\":\"RM_zero_time\",\"createdAt\":\"0001-01-01T00:00:00Z\","
        "\"endedAt\":\"0001-01-01T00:00:00.000Z\",\"lastActive\":\"0001-01-01 00:00:00+00:00\"},"
        "{\"sessionId\":\"RM_zero_parts\",\"createdAt\":{\"seconds\":0,\"nanos\":0},"
        "\"endedAt\":{\"seconds\":\"0\"},\"lastActive\":{}},"
        "{\"sessionId\":\"RM_zero_epoch\",\"createdAt\":0,\"endedAt\":\"0\","
        "\"lastActive\":0.0}]}");
    assert_ok(o);
    assert_int_equal(o->count, 6);
    for (size_t i = 0; i < o->count; i++) {
        const struct seen *s = list_session(o, i);
        assert_col(s, LS_CREATED_AT, NULL);
        assert_col(s, LS_ENDED_AT, NULL);
        assert_col(s, LS_LAST_ACTIVE, NULL);
        assert_extra(s, "{}");
    }
    assert_int_equal(o->warnings, 0);
    outcome_free(o);

    o = parse_details("RM_d",
                      "{\"roomId\":\"RM_d\",\"startTime\":\"\","
                      "\"endTime\":\"0001-01-01T00:00:00Z\",\"participants\":["
                      "{\"participantIdentity\":\"p\",\"joinedAt\":{\"seconds\":0,\"nanos\":0},"
                      "\"leftAt\":null,\"sessions\":[{\"sessionId\":\"PA_1\","
                      "\"joinedAt\":\"0001-01-01T00:00:00Z\",\"leftAt\":\"\"}]}]}");
    assert_ok(o);
    assert_col(details_session(o), DS_START_TIME, NULL);
    assert_col(details_session(o), DS_END_TIME, NULL);
    assert_col(participant(o, 0), PT_JOINED_AT, NULL);
    assert_col(participant(o, 0), PT_LEFT_AT, NULL);
    assert_col(connection(o, 0), CN_JOINED_AT, NULL);
    assert_col(connection(o, 0), CN_LEFT_AT, NULL);
    assert_extra(details_session(o), "{}");
    assert_extra(participant(o, 0), "{}");
    assert_extra(connection(o, 0), "{}");
    outcome_free(o);
}

/* ---- unknown fields ---- */

static void extract_keeps_unknown_list_session_fields_in_extra(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_list("{\"sessions\":[{\"agentCount\":2,\"sessionId\":\"RM_a\",\"region\":\"eu\","
                   "\"flag\":true,\"gone\":null,\"ratio\":-0.5e-2}]}");
    assert_ok(o);
    assert_record(list_session(o, 0), RECORD_LIST_SESSION,
                  "{\"agentCount\":2,\"region\":\"eu\",\"flag\":true,\"gone\":null,"
                  "\"ratio\":-0.5e-2}",
                  "RM_a", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    assert_paths(o, "session.agentCount", "session.region", "session.flag", "session.gone",
                 "session.ratio");
    assert_int_equal(o->warnings, 0); /* unknown is not unconvertible */
    outcome_free(o);
}

static void extract_reports_list_wrapper_unknowns_without_rows(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_list("{\"total\":2,\"sessions\":[{\"sessionId\":\"RM_a\"}],"
                   "\"meta\":{\"page\":0,\"nested\":[1,{\"a\":\"b\"}]},\"next\":null,"
                   "\"cursors\":[\"x\",[]]}");
    assert_ok(o);
    assert_int_equal(o->count, 1);
    assert_extra(list_session(o, 0), "{}");
    assert_paths(o, "list.total", "list.meta", "list.next", "list.cursors");
    outcome_free(o);

    o = parse_list("{\"total\":0}");
    assert_ok(o);
    assert_int_equal(o->count, 0);
    assert_paths(o, "list.total");
    outcome_free(o);
}

static void extract_keeps_unknown_details_fields_in_extra(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_details("RM_d", "{\"tier\":\"scale\",\"roomId\":\"RM_d\","
                              "\"recording\":{\"enabled\":true},"
                              "\"agentSessions\":[{\"id\":\"AG_1\"}],\"participants\":[]}");
    assert_ok(o);
    assert_int_equal(o->count, 1);
    assert_record(details_session(o), RECORD_DETAILS_SESSION,
                  "{\"tier\":\"scale\",\"recording\":{\"enabled\":true},"
                  "\"agentSessions\":[{\"id\":\"AG_1\"}]}",
                  "RM_d", NULL, NULL, NULL, NULL, NULL, NULL);
    assert_paths(o, "details.tier", "details.recording", "details.agentSessions");
    outcome_free(o);
}

static void extract_keeps_unknown_participant_fields_in_extra(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_details("RM_d", "{\"roomId\":\"RM_d\",\"participants\":[{\"kind\":\"AGENT\","
                              "\"participantIdentity\":\"p\",\"attributes\":{\"role\":\"host\"},"
                              "\"isPublisher\":true,\"roomId\":\"RM_d\"}]}");
    assert_ok(o);
    assert_record(participant(o, 0), RECORD_PARTICIPANT,
                  "{\"kind\":\"AGENT\",\"attributes\":{\"role\":\"host\"},\"isPublisher\":true}",
                  "RM_d", "p", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    assert_extra(details_session(o), "{}");
    assert_paths(o, "participant.kind", "participant.attributes", "participant.isPublisher");
    outcome_free(o);
}

static void extract_nests_unknown_published_sources_in_extra(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_details("RM_d",
                      "{\"roomId\":\"RM_d\",\"participants\":[{\"participantIdentity\":\"p\","
                      "\"publishedSources\":{\"cameraTrack\":true,\"dataTrack\":true,"
                      "\"layers\":{\"hq\":[1,2]}},\"kind\":1},"
                      "{\"participantIdentity\":\"q\",\"publishedSources\":"
                      "{\"cameraTrack\":false}}]}");
    assert_ok(o);
    assert_record(
        participant(o, 0), RECORD_PARTICIPANT,
        "{\"kind\":1,\"publishedSources\":{\"dataTrack\":true,\"layers\":{\"hq\":[1,2]}}}", "RM_d",
        "p", NULL, NULL, NULL, NULL, NULL, NULL, "t", NULL, NULL, NULL);
    /* the next participant starts clean */
    assert_record(participant(o, 1), RECORD_PARTICIPANT, "{}", "RM_d", "q", NULL, NULL, NULL, NULL,
                  NULL, NULL, "f", NULL, NULL, NULL);
    assert_paths(o, "participant.publishedSources.dataTrack", "participant.publishedSources.layers",
                 "participant.kind");
    outcome_free(o);
}

static void extract_keeps_unknown_connection_fields_in_extra(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_details("RM_d",
                      "{\"roomId\":\"RM_d\",\"participants\":[{\"participantIdentity\":\"p\","
                      "\"sessions\":[{\"sessionId\":\"PA_1\",\"transport\":\"udp\","
                      "\"stats\":{\"rtt\":[12,15]}},{\"sessionId\":\"PA_2\"}]}]}");
    assert_ok(o);
    assert_int_equal(count_of(o, RECORD_CONNECTION), 2);
    assert_record(connection(o, 0), RECORD_CONNECTION,
                  "{\"transport\":\"udp\",\"stats\":{\"rtt\":[12,15]}}", "RM_d", "PA_1", "p", NULL,
                  NULL);
    assert_record(connection(o, 1), RECORD_CONNECTION, "{}", "RM_d", "PA_2", "p", NULL, NULL);
    assert_extra(participant(o, 0), "{}");
    assert_paths(o, "connection.transport", "connection.stats");
    outcome_free(o);
}

static void extract_preserves_nested_unknown_objects_and_arrays(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\",\"x\":{\"a\":[1,[2,[3,{\"b\":null}]],"
                   "{\"c\":{\"d\":\"e\"}}],\"f\":-1.5E-3,\"g\":[],\"h\":{},\"i\":[true,false]},"
                   "\"y\":[[],[{}],{\"z\":[[\"deep\"]]}]}]}");
    assert_ok(o);
    assert_extra(list_session(o, 0),
                 "{\"x\":{\"a\":[1,[2,[3,{\"b\":null}]],{\"c\":{\"d\":\"e\"}}],\"f\":-1.5E-3,"
                 "\"g\":[],\"h\":{},\"i\":[true,false]},\"y\":[[],[{}],{\"z\":[[\"deep\"]]}]}");
    assert_paths(o, "session.x", "session.y");
    outcome_free(o);
}

static void extract_stores_null_known_fields_as_null(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\",\"roomName\":null,\"createdAt\":null,"
                   "\"endedAt\":null,\"lastActive\":null,\"bandwidthIn\":null,"
                   "\"bandwidthOut\":null,\"egress\":null,\"numParticipants\":null,"
                   "\"numActiveParticipants\":null}]}");
    assert_ok(o);
    assert_record(list_session(o, 0), RECORD_LIST_SESSION, "{}", "RM_a", NULL, NULL, NULL, NULL,
                  NULL, NULL, NULL, NULL, NULL);
    assert_no_paths(o);
    outcome_free(o);

    o = parse_details("RM_d", "{\"roomId\":null,\"roomName\":null,\"startTime\":null,"
                              "\"endTime\":null,\"bandwidth\":null,\"connectionMinutes\":null,"
                              "\"numParticipants\":null,\"participants\":[{"
                              "\"participantIdentity\":\"p\",\"participantName\":null,"
                              "\"roomId\":null,\"joinedAt\":null,\"leftAt\":null,\"region\":null,"
                              "\"connectionType\":null,\"sdkVersion\":null,"
                              "\"publishedSources\":{\"cameraTrack\":null,\"microphoneTrack\":null,"
                              "\"screenShareTrack\":null,\"screenShareAudio\":null},"
                              "\"sessions\":[{\"sessionId\":\"PA_1\",\"joinedAt\":null,"
                              "\"leftAt\":null}]}]}");
    assert_ok(o);
    assert_record(details_session(o), RECORD_DETAILS_SESSION, "{}", "RM_d", NULL, NULL, NULL, NULL,
                  NULL, NULL);
    assert_record(participant(o, 0), RECORD_PARTICIPANT, "{}", "RM_d", "p", NULL, NULL, NULL, NULL,
                  NULL, NULL, NULL, NULL, NULL, NULL);
    assert_record(connection(o, 0), RECORD_CONNECTION, "{}", "RM_d", "PA_1", "p", NULL, NULL);
    assert_no_paths(o);
    assert_int_equal(o->warnings, 0);
    outcome_free(o);
}

/* Two bodies must give exactly the same records (and paths). */
static void assert_same_records_at(const struct outcome *a, const struct outcome *b,
                                   const char *file, int line)
{
    const char *why = "";
    assert_ok_at(a, file, line);
    assert_ok_at(b, file, line);
    if (!same_outcome(a, b, &why)) {
        print_error("%s differs between the two key orders\n", why);
        _fail(file, line);
    }
}

#define assert_same_records(a, b) assert_same_records_at((a), (b), __FILE__, __LINE__)

static void extract_gives_same_records_for_shuffled_key_order(void **state)
{
    struct outcome *a, *b;
    (void)state;

    a = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\",\"roomName\":\"r\","
                   "\"createdAt\":\"2026-11-27T10:00:00Z\",\"endedAt\":\"2026-11-27T11:00:00Z\","
                   "\"lastActive\":\"2026-11-27T11:00:00Z\",\"bandwidthIn\":\"10\","
                   "\"bandwidthOut\":20,\"egress\":2,\"numParticipants\":3,"
                   "\"numActiveParticipants\":0}]}");
    b = parse_list("{\"sessions\":[{\"numActiveParticipants\":0,\"numParticipants\":3,"
                   "\"egress\":2,\"bandwidthOut\":20,\"bandwidthIn\":\"10\","
                   "\"lastActive\":\"2026-11-27T11:00:00Z\",\"endedAt\":\"2026-11-27T11:00:00Z\","
                   "\"createdAt\":\"2026-11-27T10:00:00Z\",\"roomName\":\"r\","
                   "\"sessionId\":\"RM_a\"}]}");
    assert_same_records(a, b);
    assert_int_equal(a->count, 1);
    outcome_free(a);
    outcome_free(b);

    a = parse_details("RM_d",
                      "{\"roomId\":\"RM_d\",\"roomName\":\"r\",\"bandwidth\":\"5\","
                      "\"startTime\":\"2026-11-27T10:00:00Z\",\"numParticipants\":1,"
                      "\"participants\":[{\"participantIdentity\":\"p\","
                      "\"participantName\":\"P\",\"joinedAt\":\"2026-11-27T10:00:00Z\","
                      "\"publishedSources\":{\"cameraTrack\":true,\"microphoneTrack\":false},"
                      "\"sessions\":[{\"sessionId\":\"PA_1\","
                      "\"joinedAt\":\"2026-11-27T10:00:00Z\","
                      "\"leftAt\":\"2026-11-27T10:30:00Z\"}],\"region\":\"eu\"}]}");
    b = parse_details("RM_d", "{\"participants\":[{\"sessions\":[{"
                              "\"leftAt\":\"2026-11-27T10:30:00Z\","
                              "\"joinedAt\":\"2026-11-27T10:00:00Z\",\"sessionId\":\"PA_1\"}],"
                              "\"region\":\"eu\",\"publishedSources\":{\"microphoneTrack\":false,"
                              "\"cameraTrack\":true},\"joinedAt\":\"2026-11-27T10:00:00Z\","
                              "\"participantName\":\"P\",\"participantIdentity\":\"p\"}],"
                              "\"numParticipants\":1,\"startTime\":\"2026-11-27T10:00:00Z\","
                              "\"bandwidth\":\"5\",\"roomName\":\"r\",\"roomId\":\"RM_d\"}");
    assert_same_records(a, b);
    assert_int_equal(a->count, 3);
    assert_col(connection(b, 0), CN_PARTICIPANT_IDENTITY, "p");
    outcome_free(a);
    outcome_free(b);
}

/* ---- strings ---- */

static void extract_replaces_nul_with_replacement_char_in_values(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_\\u0000a\",\"roomName\":\"\\u0000\"}]}");
    assert_ok(o);
    assert_col(list_session(o, 0), LS_SESSION_ID, "RM_" FFFD "a");
    assert_col(list_session(o, 0), LS_ROOM_NAME, FFFD);
    assert_extra(list_session(o, 0), "{}");
    outcome_free(o);

    o = parse_details("RM_d", "{\"roomId\":\"RM_d\",\"roomName\":\"a\\u0000\\u0000b\","
                              "\"participants\":[{\"participantIdentity\":\"\\u0000p\","
                              "\"sdkVersion\":\"v\\u0000\",\"sessions\":["
                              "{\"sessionId\":\"PA\\u00001\"}]}]}");
    assert_ok(o);
    assert_col(details_session(o), DS_ROOM_NAME, "a" FFFD FFFD "b");
    assert_col(participant(o, 0), PT_IDENTITY, FFFD "p");
    assert_col(participant(o, 0), PT_SDK_VERSION, "v" FFFD);
    assert_col(connection(o, 0), CN_CONNECTION_ID, "PA" FFFD "1");
    assert_col(connection(o, 0), CN_PARTICIPANT_IDENTITY, FFFD "p");
    outcome_free(o);
}

static void extract_replaces_nul_in_extra_keys_and_values(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\",\"k\\u0000\":\"v\\u0000\","
                   "\"o\":{\"\\u0000\":[\"\\u0000\"]},\"bandwidthIn\":\"1\\u00002\","
                   "\"createdAt\":{\"seconds\":\"1\",\"\\u0000\":1}}]}");
    assert_ok(o);
    assert_extra(list_session(o, 0),
                 "{\"k" FFFD "\":\"v" FFFD "\",\"o\":{\"" FFFD "\":[\"" FFFD "\"]},"
                 "\"bandwidthIn\":\"1" FFFD "2\",\"createdAt\":{\"seconds\":\"1\",\"" FFFD
                 "\":1}}");
    assert_col(list_session(o, 0), LS_BANDWIDTH_IN, NULL);
    assert_col(list_session(o, 0), LS_CREATED_AT, NULL);
    assert_paths(o, "session.k" FFFD, "session.o");
    outcome_free(o);

    o = parse_details("RM_d",
                      "{\"roomId\":\"RM_d\",\"\\u0000top\":\"\\u0000\","
                      "\"participants\":[{\"participantIdentity\":\"p\","
                      "\"publishedSources\":{\"da\\u0000ta\":\"x\\u0000\"},"
                      "\"sessions\":[{\"sessionId\":\"PA_1\",\"t\\u0000\":[\"\\u0000\"]}]}]}");
    assert_ok(o);
    assert_extra(details_session(o), "{\"" FFFD "top\":\"" FFFD "\"}");
    assert_extra(participant(o, 0), "{\"publishedSources\":{\"da" FFFD "ta\":\"x" FFFD "\"}}");
    assert_extra(connection(o, 0), "{\"t" FFFD "\":[\"" FFFD "\"]}");
    assert_paths(o, "details." FFFD "top", "participant.publishedSources.da" FFFD "ta",
                 "connection.t" FFFD);
    outcome_free(o);
}

static void extract_decodes_odd_strings(void **state)
{
    struct outcome *o;
    (void)state;

    /* escapes of every kind, a surrogate pair, raw UTF-8, and the same string as an unknown
     * field, which the generator re-escapes */
    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\","
                   "\"roomName\":\"\\u00e9\\u4E2D\\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\t\\n\\r\\b\\f"
                   "\\u001f caf\xC3\xA9 end\","
                   "\"note\":\"\\u00e9\\u4E2D\\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\t\\n\\r\\b\\f"
                   "\\u001f caf\xC3\xA9 end\"}]}");
    assert_ok(o);
    assert_col(list_session(o, 0), LS_ROOM_NAME,
               "\xC3\xA9"
               "\xE4\xB8\xAD"
               "\xF0\x9F\x98\x80"
               " \"q\" \\ / \t\n\r\b\f\x1f caf\xC3\xA9 end");
    assert_extra(list_session(o, 0), "{\"note\":\"\xC3\xA9"
                                     "\xE4\xB8\xAD"
                                     "\xF0\x9F\x98\x80"
                                     " \\\"q\\\" \\\\ / \\t\\n\\r\\b\\f\\u001F caf\xC3\xA9 end\"}");
    outcome_free(o);
}

/* ---- values that cannot be converted ---- */

static void extract_keeps_unconvertible_values_in_extra(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_list(
        "{\"sessions\":[{\"sessionId\":\"RM_a\",\"bandwidthIn\":\"12abc\","
        "\"lastActive\":\"yesterday\",\"egress\":\"active\",\"numParticipants\":-1.0,"
        "\"createdAt\":true,\"bandwidthOut\":\"1.5\",\"endedAt\":\"2026-13-01T00:00:00Z\"}]}");
    assert_ok(o);
    assert_record(list_session(o, 0), RECORD_LIST_SESSION,
                  "{\"bandwidthIn\":\"12abc\",\"lastActive\":\"yesterday\",\"egress\":\"active\","
                  "\"numParticipants\":\"-1.0\",\"createdAt\":true,\"bandwidthOut\":\"1.5\","
                  "\"endedAt\":\"2026-13-01T00:00:00Z\"}",
                  "RM_a", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    assert_no_paths(o);               /* known fields: not reported as unknown */
    assert_int_equal(o->warnings, 1); /* one warning naming all of them */
    outcome_free(o);

    o = parse_details("RM_d", "{\"roomId\":\"RM_d\",\"connectionMinutes\":\"NaN\","
                              "\"bandwidth\":\"lots\",\"startTime\":\"now\","
                              "\"participants\":[{\"participantIdentity\":\"p\","
                              "\"joinedAt\":\"2026-02-29T10:00:00Z\",\"sessions\":["
                              "{\"sessionId\":\"PA_1\",\"leftAt\":\"soon\"}]}]}");
    assert_ok(o);
    assert_col(details_session(o), DS_CONNECTION_MINUTES, NULL);
    assert_col(details_session(o), DS_BANDWIDTH, NULL);
    assert_col(details_session(o), DS_START_TIME, NULL);
    assert_extra(details_session(o),
                 "{\"connectionMinutes\":\"NaN\",\"bandwidth\":\"lots\",\"startTime\":\"now\"}");
    assert_col(participant(o, 0), PT_JOINED_AT, NULL);
    assert_extra(participant(o, 0), "{\"joinedAt\":\"2026-02-29T10:00:00Z\"}");
    assert_col(connection(o, 0), CN_LEFT_AT, NULL);
    assert_extra(connection(o, 0), "{\"leftAt\":\"soon\"}");
    outcome_free(o);
}

static void extract_keeps_non_boolean_published_source_in_extra(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_details("RM_d",
                      "{\"roomId\":\"RM_d\",\"participants\":[{\"participantIdentity\":\"p\","
                      "\"publishedSources\":{\"cameraTrack\":\"yes\",\"microphoneTrack\":1,"
                      "\"screenShareTrack\":\"true\",\"screenShareAudio\":{\"on\":true}}},"
                      "{\"participantIdentity\":\"q\",\"publishedSources\":"
                      "{\"screenShareTrack\":\"false\"}}]}");
    assert_ok(o);
    /* the strings "true"/"false" are accepted as booleans; anything else is kept */
    assert_record(participant(o, 0), RECORD_PARTICIPANT,
                  "{\"publishedSources\":{\"cameraTrack\":\"yes\",\"microphoneTrack\":\"1\","
                  "\"screenShareAudio\":{\"on\":true}}}",
                  "RM_d", "p", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "t", NULL);
    assert_record(participant(o, 1), RECORD_PARTICIPANT, "{}", "RM_d", "q", NULL, NULL, NULL, NULL,
                  NULL, NULL, NULL, NULL, "f", NULL);
    assert_no_paths(o);
    outcome_free(o);
}

static void extract_keeps_timestamp_object_with_extra_key_in_extra(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\","
                   "\"createdAt\":{\"seconds\":\"1795773600\",\"nanos\":0,\"zone\":\"UTC\"},"
                   "\"endedAt\":{\"seconds\":{\"v\":1}},\"lastActive\":{\"seconds\":true}},"
                   "{\"sessionId\":\"RM_b\",\"createdAt\":{\"seconds\":\"-5\"},"
                   "\"endedAt\":{\"seconds\":\"1795773600\",\"nanos\":1000000000},"
                   "\"lastActive\":{\"seconds\":1795773600.5}}]}");
    assert_ok(o);
    assert_record(list_session(o, 0), RECORD_LIST_SESSION,
                  "{\"createdAt\":{\"seconds\":\"1795773600\",\"nanos\":0,\"zone\":\"UTC\"},"
                  "\"endedAt\":{\"seconds\":{\"v\":1}},\"lastActive\":{\"seconds\":true}}",
                  "RM_a", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    assert_record(list_session(o, 1), RECORD_LIST_SESSION,
                  "{\"createdAt\":{\"seconds\":\"-5\"},"
                  "\"endedAt\":{\"seconds\":\"1795773600\",\"nanos\":1000000000},"
                  "\"lastActive\":{\"seconds\":1795773600.5}}",
                  "RM_b", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    assert_no_paths(o);
    outcome_free(o);
}

static void extract_keeps_out_of_range_integers_in_extra(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\",\"egress\":32768,"
                   "\"numParticipants\":2147483648,\"numActiveParticipants\":\"-2147483649\","
                   "\"bandwidthIn\":\"9223372036854775808\",\"bandwidthOut\":1.5}]}");
    assert_ok(o);
    assert_record(list_session(o, 0), RECORD_LIST_SESSION,
                  "{\"egress\":\"32768\",\"numParticipants\":\"2147483648\","
                  "\"numActiveParticipants\":\"-2147483649\","
                  "\"bandwidthIn\":\"9223372036854775808\",\"bandwidthOut\":\"1.5\"}",
                  "RM_a", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    outcome_free(o);

    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\",\"egress\":32767,"
                   "\"numParticipants\":2147483647,\"numActiveParticipants\":\"-2147483648\"}]}");
    assert_ok(o);
    assert_col(list_session(o, 0), LS_EGRESS, "32767");
    assert_col(list_session(o, 0), LS_NUM_PARTICIPANTS, "2147483647");
    assert_col(list_session(o, 0), LS_NUM_ACTIVE_PARTICIPANTS, "-2147483648");
    assert_extra(list_session(o, 0), "{}");
    outcome_free(o);
}

static void extract_keeps_container_where_scalar_expected_in_extra(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\",\"roomName\":{\"en\":\"x\"},"
                   "\"createdAt\":[1795773600],\"egress\":[]}]}");
    assert_ok(o);
    assert_record(list_session(o, 0), RECORD_LIST_SESSION,
                  "{\"roomName\":{\"en\":\"x\"},\"createdAt\":[1795773600],\"egress\":[]}", "RM_a",
                  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    assert_no_paths(o);
    outcome_free(o);

    o = parse_details("RM_d",
                      "{\"roomId\":\"RM_d\",\"participants\":[{\"participantIdentity\":\"p\","
                      "\"region\":[\"eu\",\"us\"]}]}");
    assert_ok(o);
    assert_col(participant(o, 0), PT_REGION, NULL);
    assert_extra(participant(o, 0), "{\"region\":[\"eu\",\"us\"]}");
    outcome_free(o);
}

static void extract_keeps_wrong_container_for_child_in_extra(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_details("RM_d", "{\"roomId\":\"RM_d\",\"participants\":{\"p\":1}}");
    assert_ok(o);
    assert_int_equal(o->count, 1);
    assert_extra(details_session(o), "{\"participants\":{\"p\":1}}");
    outcome_free(o);

    o = parse_details("RM_d", "{\"roomId\":\"RM_d\",\"participants\":\"none\"}");
    assert_ok(o);
    assert_int_equal(o->count, 1);
    assert_extra(details_session(o), "{\"participants\":\"none\"}");
    outcome_free(o);

    o = parse_details("RM_d",
                      "{\"roomId\":\"RM_d\",\"participants\":[{\"participantIdentity\":\"p\","
                      "\"sessions\":{\"s\":1},\"publishedSources\":[true]}]}");
    assert_ok(o);
    assert_int_equal(count_of(o, RECORD_CONNECTION), 0);
    assert_record(participant(o, 0), RECORD_PARTICIPANT,
                  "{\"sessions\":{\"s\":1},\"publishedSources\":[true]}", "RM_d", "p", NULL, NULL,
                  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    outcome_free(o);
}

/* ---- details keys ---- */

static void extract_takes_connection_identity_from_its_participant(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_details("RM_d", "{\"participants\":["
                              "{\"sessions\":[{\"sessionId\":\"PA_1\"},{\"sessionId\":\"PA_2\"}],"
                              "\"participantIdentity\":\"late\"},"
                              "{\"participantIdentity\":\"early\",\"sessions\":"
                              "[{\"sessionId\":\"PA_3\"}]},"
                              "{\"participantIdentity\":\"none\"},"
                              "{\"sessions\":[],\"participantIdentity\":\"empty\"}],"
                              "\"roomId\":\"RM_d\"}");
    assert_ok(o);
    assert_int_equal(count_of(o, RECORD_PARTICIPANT), 4);
    assert_int_equal(count_of(o, RECORD_CONNECTION), 3);
    assert_record(connection(o, 0), RECORD_CONNECTION, "{}", "RM_d", "PA_1", "late", NULL, NULL);
    assert_record(connection(o, 1), RECORD_CONNECTION, "{}", "RM_d", "PA_2", "late", NULL, NULL);
    assert_record(connection(o, 2), RECORD_CONNECTION, "{}", "RM_d", "PA_3", "early", NULL, NULL);
    /* connections follow their participant; none carries over to the next one */
    assert_int_equal(o->records[0].kind, RECORD_PARTICIPANT);
    assert_int_equal(o->records[3].kind, RECORD_PARTICIPANT);
    assert_int_equal(o->records[4].kind, RECORD_CONNECTION);
    assert_int_equal(o->records[5].kind, RECORD_PARTICIPANT);
    assert_int_equal(o->records[6].kind, RECORD_PARTICIPANT);
    assert_int_equal(o->records[7].kind, RECORD_DETAILS_SESSION);
    outcome_free(o);
}

static void extract_keys_details_rows_by_requested_session_id(void **state)
{
    struct outcome *o;
    (void)state;

    /* no roomId at all, and a participant roomId that differs: neither changes the keys */
    o = parse_details("RM_asked", "{\"participants\":[{\"participantIdentity\":\"p\","
                                  "\"roomId\":\"RM_elsewhere\",\"sessions\":"
                                  "[{\"sessionId\":\"PA_1\"}]}]}");
    assert_ok(o);
    assert_col(details_session(o), DS_SESSION_ID, "RM_asked");
    assert_col(participant(o, 0), PT_SESSION_ID, "RM_asked");
    assert_col(connection(o, 0), CN_SESSION_ID, "RM_asked");
    assert_extra(participant(o, 0), "{}");
    assert_extra(details_session(o), "{}");
    assert_no_paths(o);
    assert_int_equal(o->warnings, 0);
    outcome_free(o);
}

static void extract_rejects_details_about_another_session(void **state)
{
    struct outcome *o;
    (void)state;

    /* never stored under the asked id: an error naming both (the day stays pending) */
    o = parse_details("RM_asked", "{\"roomId\":\"RM_other\",\"roomName\":\"r\"}");
    assert_failed(o, LK_EDATA, "details response for session RM_asked is about session RM_other");
    assert_int_equal(o->count, 0);
    outcome_free(o);

    /* roomId after the participants: they went out already; the error tells the caller to
     * discard them (the window discards the attempt's rows) */
    o = parse_details("RM_asked", "{\"participants\":[{\"participantIdentity\":\"p\"}],"
                                  "\"roomId\":\"RM_other\"}");
    assert_failed(o, LK_EDATA, "is about session RM_other");
    assert_int_equal(count_of(o, RECORD_DETAILS_SESSION), 0);
    outcome_free(o);

    /* an id that differs only after repair differs too */
    o = parse_details("RM_asked", "{\"roomId\":\"RM_asked\\u0000\"}");
    assert_failed(o, LK_EDATA, "is about session RM_asked" FFFD);
    outcome_free(o);

    o = parse_details("RM_asked", "{\"roomName\":\"r\",\"roomId\":\"RM_asked\"}");
    assert_ok(o);
    assert_extra(details_session(o), "{}");
    assert_int_equal(o->warnings, 0);
    outcome_free(o);

    /* null is an absent roomId: the asked id keys the rows */
    o = parse_details("RM_asked", "{\"roomId\":null}");
    assert_ok(o);
    assert_col(details_session(o), DS_SESSION_ID, "RM_asked");
    outcome_free(o);
}

/* ---- values PostgreSQL cannot hold (interface.md) ---- */

static void extract_repairs_ill_formed_utf8_in_every_text(void **state)
{
    struct outcome *o;
    (void)state;

    /* what yajl's own check lets through (overlong, encoded surrogate, above U+10FFFF) and
     * what it refuses (a stray byte, a 5-byte form, a cut sequence): each maximal ill-formed
     * subpart is one U+FFFD, valid characters stay */
    o = parse_list(
        "{\"sessions\":[{\"sessionId\":\"RM_\xC3\x28\","
        "\"roomName\":\"a\xC0\xAF"
        "b\xED\xA0\x80"
        "c\xF4\x90\x80\x80"
        "d\","
        "\"k\xFF\":\"v\x80\xE2\x82\","
        "\"deep\":{\"x\xF8\x88\x80\x80\x80\":[\"\xE2\x82\xAC\xF0\x9F\x98\x80\xE2\"]}}]}");
    assert_ok(o);
    assert_col(list_session(o, 0), LS_SESSION_ID, "RM_" FFFD "(");
    assert_col(list_session(o, 0), LS_ROOM_NAME,
               "a" FFFD FFFD "b" FFFD FFFD FFFD "c" FFFD FFFD FFFD FFFD "d");
    assert_extra(list_session(o, 0),
                 "{\"k" FFFD "\":\"v" FFFD FFFD "\",\"deep\":{\"x" FFFD FFFD FFFD FFFD FFFD
                 "\":[\"\xE2\x82\xAC\xF0\x9F\x98\x80" FFFD "\"]}}");
    assert_paths(o, "session.k" FFFD, "session.deep");
    outcome_free(o);

    /* ids and text of every record kind, and the details' own extra */
    o = parse_details("RM_d", "{\"roomId\":\"RM_d\",\"roomName\":\"\xC1\xBF\","
                              "\"x\xE0\x80\xAF\":\"\xED\xBF\xBF\",\"participants\":["
                              "{\"participantIdentity\":\"p\xF5\",\"participantName\":\"\xFE\","
                              "\"region\":\"\xC2\",\"connectionType\":\"\xF0\x90\x80\","
                              "\"sdkVersion\":\"1\xF4\x8F\xBF\xBF\","
                              "\"publishedSources\":{\"\xE0\xA0\":\"\xF1\"},"
                              "\"sessions\":[{\"sessionId\":\"PA\x80\",\"y\xC0\":\"\xC0\"}]}]}");
    assert_ok(o);
    assert_col(details_session(o), DS_ROOM_NAME, FFFD FFFD);
    assert_extra(details_session(o), "{\"x" FFFD FFFD FFFD "\":\"" FFFD FFFD FFFD "\"}");
    assert_record(participant(o, 0), RECORD_PARTICIPANT,
                  "{\"publishedSources\":{\"" FFFD "\":\"" FFFD "\"}}", "RM_d", "p" FFFD, FFFD,
                  NULL, NULL, FFFD, FFFD, "1\xF4\x8F\xBF\xBF", NULL, NULL, NULL, NULL);
    assert_record(connection(o, 0), RECORD_CONNECTION, "{\"y" FFFD "\":\"" FFFD "\"}", "RM_d",
                  "PA" FFFD, "p" FFFD, NULL, NULL);
    outcome_free(o);
}

static void extract_replaces_lone_surrogate_escapes(void **state)
{
    struct outcome *o;
    (void)state;

    /* yajl alone gives '?' for a lone high half, CESU bytes for a lone low half, and a wrong
     * character for a high half before another escape (\uD800\u0041 is U+10041 to it) */
    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\","
                   "\"roomName\":\"\\uD800x\\uDC00y\\uD800\\u0041z\\ud800\\uD800\\uDC00\","
                   "\"u\\uDBFF\":[\"\\uDFFF\",\"\\uD83D\\uDE00\",\"\\uD800\\n\",\"\\uD800\"],"
                   "\"v\":\"\\uD800\\\"\"}]}");
    assert_ok(o);
    assert_col(list_session(o, 0), LS_ROOM_NAME,
               FFFD "x" FFFD "y" FFFD "Az" FFFD "\xF0\x90\x80\x80");
    assert_extra(list_session(o, 0), "{\"u" FFFD "\":[\"" FFFD "\",\"\xF0\x9F\x98\x80\",\"" FFFD
                                     "\\n\",\"" FFFD "\"],\"v\":\"" FFFD "\\\"\"}");
    outcome_free(o);

    /* a surrogate escape in a number-like string stays a conversion failure, not a crash */
    o = parse_list("{\"sessions\":[{\"sessionId\":\"\\uDC00\",\"bandwidthIn\":\"1\\uD800\"}]}");
    assert_ok(o);
    assert_col(list_session(o, 0), LS_SESSION_ID, FFFD);
    assert_extra(list_session(o, 0), "{\"bandwidthIn\":\"1" FFFD "\"}");
    outcome_free(o);
}

static void extract_repairs_raw_control_characters_in_strings(void **state)
{
    static const char body[] = "{\"sessions\":[{\"sessionId\":\"RM\x01"
                               "a\","
                               "\"roomName\":\"t\tn\nx\x00y\x1f\",\"k\x02\":\"\x7f\"}]}";
    struct spec sp = {.body = EXTRACT_LIST};
    struct outcome *o;
    (void)state;

    /* JSON forbids them raw and yajl would fail the body: they are kept as characters (text
     * may hold them), NUL as U+FFFD */
    o = parse_all(&sp, body, sizeof body - 1);
    assert_ok(o);
    assert_col(list_session(o, 0), LS_SESSION_ID,
               "RM\x01"
               "a");
    assert_text(list_session(o, 0)->values[LS_ROOM_NAME], "t\tn\nx" FFFD "y\x1f");
    assert_extra(list_session(o, 0), "{\"k\\u0002\":\"\x7f\"}");
    outcome_free(o);

    /* outside a string a stray byte is still not JSON */
    o = parse_list("{\"sessions\":[]}\x01");
    assert_failed(o, LK_EDATA, "invalid JSON in the list response near byte ");
    outcome_free(o);
    o = parse_list("{\"sessions\":[\x80]}");
    assert_failed(o, LK_EDATA, "invalid JSON in the list response near byte ");
    outcome_free(o);
}

static void extract_keeps_numbers_numeric_cannot_hold_as_strings(void **state)
{
    struct outcome *o;
    char *body;
    size_t len;
    (void)state;

    /* connectionMinutes is numeric: PostgreSQL's limits exactly (10^131071 is the highest
     * first digit, 16383 digits after the point); beyond them NULL and the text in extra */
    o = parse_details("RM_d", "{\"roomId\":\"RM_d\",\"connectionMinutes\":1e131071}");
    assert_ok(o);
    assert_col(details_session(o), DS_CONNECTION_MINUTES, "1e131071");
    assert_extra(details_session(o), "{}");
    outcome_free(o);

    o = parse_details("RM_d", "{\"roomId\":\"RM_d\",\"connectionMinutes\":1e131072}");
    assert_ok(o);
    assert_col(details_session(o), DS_CONNECTION_MINUTES, NULL);
    assert_extra(details_session(o), "{\"connectionMinutes\":\"1e131072\"}");
    assert_int_equal(o->warnings, 1);
    outcome_free(o);

    o = parse_details("RM_d", "{\"roomId\":\"RM_d\",\"connectionMinutes\":\"-1E-16384\"}");
    assert_ok(o);
    assert_col(details_session(o), DS_CONNECTION_MINUTES, NULL);
    assert_extra(details_session(o), "{\"connectionMinutes\":\"-1E-16384\"}");
    outcome_free(o);

    /* 16384 digits after the point: even a value of 1 is refused by PostgreSQL */
    len = 16384 + 64;
    body = malloc(len);
    assert_non_null(body);
    len = (size_t)snprintf(body, len, "{\"roomId\":\"RM_d\",\"connectionMinutes\":1.");
    memset(body + len, '0', 16384);
    len += 16384;
    memcpy(body + len, "}", 2);
    len += 1;
    {
        struct spec sp = {.body = EXTRACT_DETAILS, .session_id = "RM_d"};
        o = run_once(&sp, body, len, 0);
        assert_ok(o);
        assert_col(details_session(o), DS_CONNECTION_MINUTES, NULL);
        assert_true(strncmp(details_session(o)->extra, "{\"connectionMinutes\":\"1.000", 27) == 0);
        outcome_free(o);
        /* one digit less fits */
        memmove(body + len - 2, body + len - 1, 2);
        o = run_once(&sp, body, len - 1, 0);
        assert_ok(o);
        assert_non_null(details_session(o)->values[DS_CONNECTION_MINUTES]);
        assert_extra(details_session(o), "{}");
        outcome_free(o);
    }
    free(body);

    /* unknown fields, and numbers inside kept containers: what jsonb holds stays a number */
    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\",\"huge\":1e1000000,\"fine\":1e5,"
                   "\"tiny\":-2.5E-20000,\"deep\":{\"a\":[1e131072,0.5,0e-16384,0e999999]},"
                   "\"createdAt\":{\"seconds\":1e999999}}]}");
    assert_ok(o);
    assert_extra(list_session(o, 0),
                 "{\"huge\":\"1e1000000\",\"fine\":1e5,\"tiny\":\"-2.5E-20000\","
                 "\"deep\":{\"a\":[\"1e131072\",0.5,\"0e-16384\",0e999999]},"
                 "\"createdAt\":{\"seconds\":\"1e999999\"}}");
    outcome_free(o);
}

static void extract_keeps_numbers_bigint_cannot_hold_as_strings(void **state)
{
    struct outcome *o;
    (void)state;

    /* every integer column (bigint, integer, smallint) at and beyond its bounds */
    o = parse_details("RM_d", "{\"roomId\":\"RM_d\",\"bandwidth\":9223372036854775808,"
                              "\"numParticipants\":-2147483649}");
    assert_ok(o);
    assert_col(details_session(o), DS_BANDWIDTH, NULL);
    assert_col(details_session(o), DS_NUM_PARTICIPANTS, NULL);
    assert_extra(details_session(o),
                 "{\"bandwidth\":\"9223372036854775808\",\"numParticipants\":\"-2147483649\"}");
    outcome_free(o);

    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\",\"egress\":-32769,"
                   "\"numActiveParticipants\":1e2,\"bandwidthIn\":1e999999,"
                   "\"bandwidthOut\":99999999999999999999999999}]}");
    assert_ok(o);
    assert_record(list_session(o, 0), RECORD_LIST_SESSION,
                  "{\"egress\":\"-32769\",\"numActiveParticipants\":\"1e2\","
                  "\"bandwidthIn\":\"1e999999\",\"bandwidthOut\":\"99999999999999999999999999\"}",
                  "RM_a", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    outcome_free(o);
}

static void extract_stores_negative_byte_counts_as_null(void **state)
{
    struct outcome *o;
    (void)state;

    /* a byte count below zero is no count: NULL (sums stay honest), the original in extra,
     * and the record's warning names the field and the session */
    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\",\"bandwidthIn\":-1,"
                   "\"bandwidthOut\":\"-9223372036854775808\",\"egress\":-1}]}");
    assert_ok(o);
    assert_col(list_session(o, 0), LS_BANDWIDTH_IN, NULL);
    assert_col(list_session(o, 0), LS_BANDWIDTH_OUT, NULL);
    assert_col(list_session(o, 0), LS_EGRESS, "-1"); /* not a byte count: kept */
    assert_extra(list_session(o, 0),
                 "{\"bandwidthIn\":\"-1\",\"bandwidthOut\":\"-9223372036854775808\"}");
    assert_int_equal(o->warnings, 1);
    outcome_free(o);

    o = parse_details("RM_d", "{\"roomId\":\"RM_d\",\"bandwidth\":\"-0\"}");
    assert_ok(o);
    assert_col(details_session(o), DS_BANDWIDTH, "0"); /* -0 is zero */
    outcome_free(o);

    o = parse_details("RM_d", "{\"roomId\":\"RM_d\",\"bandwidth\":-5}");
    assert_ok(o);
    assert_col(details_session(o), DS_BANDWIDTH, NULL);
    assert_extra(details_session(o), "{\"bandwidth\":\"-5\"}");
    outcome_free(o);
}

static void extract_repeated_keys_keep_the_last_value(void **state)
{
    struct outcome *o;
    (void)state;

    /* a column takes the last value; an unknown key keeps every occurrence in extra (jsonb
     * keeps the last); an earlier original in extra is followed there by the last value */
    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_first\",\"roomName\":\"a\","
                   "\"roomName\":\"b\",\"x\":1,\"x\":2,\"bandwidthIn\":\"bad\","
                   "\"bandwidthIn\":7,\"sessionId\":\"RM_last\",\"egress\":1,\"egress\":null}]}");
    assert_ok(o);
    assert_record(list_session(o, 0), RECORD_LIST_SESSION,
                  "{\"x\":1,\"x\":2,\"bandwidthIn\":\"bad\",\"bandwidthIn\":\"7\"}", "RM_last", "b",
                  NULL, NULL, NULL, "7", NULL, NULL, NULL, NULL);
    assert_int_equal(o->warnings, 2); /* the conversion, and the repeated keys */
    outcome_free(o);

    /* a timestamp: a kept original, then a valid object */
    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\",\"createdAt\":\"never\","
                   "\"createdAt\":{\"seconds\":1795773600}}]}");
    assert_ok(o);
    assert_col(list_session(o, 0), LS_CREATED_AT, "2026-11-27 10:00:00+00");
    assert_extra(list_session(o, 0),
                 "{\"createdAt\":\"never\",\"createdAt\":{\"seconds\":1795773600}}");
    outcome_free(o);

    /* arrays of records are all read; the same key in publishedSources and in the
     * participant is no repetition */
    o = parse_details("RM_d", "{\"roomId\":\"RM_d\",\"participants\":["
                              "{\"participantIdentity\":\"p\",\"dataTrack\":1,"
                              "\"publishedSources\":{\"dataTrack\":true,\"cameraTrack\":false,"
                              "\"cameraTrack\":true}}],"
                              "\"participants\":[{\"participantIdentity\":\"q\"}]}");
    assert_ok(o);
    assert_int_equal(count_of(o, RECORD_PARTICIPANT), 2);
    assert_col(participant(o, 0), PT_CAMERA, "t");
    assert_extra(participant(o, 0), "{\"dataTrack\":1,\"publishedSources\":{\"dataTrack\":true}}");
    assert_int_equal(o->warnings, 2); /* participant p: cameraTrack; session: participants */
    outcome_free(o);

    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\"}],\"sessions\":[{\"sessionId\":"
                   "\"RM_b\"}]}");
    assert_ok(o);
    assert_int_equal(o->count, 2);
    assert_int_equal(o->warnings, 1);
    outcome_free(o);
}

/* ---- bounds ---- */

static void extract_rejects_list_page_beyond_its_limit(void **state)
{
    struct spec sp = {.body = EXTRACT_LIST, .max_records = 2};
    const char *two = "{\"sessions\":[{\"sessionId\":\"a\"},null,{\"sessionId\":\"b\"}]}";
    const char *three = "{\"sessions\":[{\"sessionId\":\"a\"},{\"sessionId\":\"b\"},"
                        "{\"sessionId\":\"c\"}]}";
    struct outcome *o;
    (void)state;

    o = parse_all(&sp, two, strlen(two));
    assert_ok(o);
    assert_int_equal(o->count, 2);
    outcome_free(o);

    o = parse_all(&sp, three, strlen(three));
    assert_failed(o, LK_EAPI, "list page holds more sessions than its limit of 2");
    outcome_free(o);

    sp.max_records = 0; /* no bound */
    o = parse_all(&sp, three, strlen(three));
    assert_ok(o);
    outcome_free(o);
}

static void extract_rejects_body_beyond_max_body_bytes(void **state)
{
    const char *body = "{\"sessions\":[{\"sessionId\":\"a\"},{\"sessionId\":\"b\"}]}";
    struct spec sp = {.body = EXTRACT_LIST, .max_body_bytes = strlen(body)};
    struct outcome *o;
    (void)state;

    o = parse_all(&sp, body, strlen(body));
    assert_ok(o);
    outcome_free(o);

    sp.max_body_bytes--;
    o = parse_all(&sp, body, strlen(body));
    assert_failed(o, LK_EAPI, "the list response is larger than the limit of ");
    assert_true(strstr(o->detail, "max_body_bytes") != NULL);
    outcome_free(o);
}

/* A body of n records each with an unknown array of `numbers` numbers. */
static char *records_with_arrays(size_t n, size_t numbers, size_t *len)
{
    size_t cap = n * (numbers * 2 + 64) + 64, used = 0;
    char *body = malloc(cap);

    assert_non_null(body);
    used += (size_t)snprintf(body + used, cap - used, "{\"sessions\":[");
    for (size_t i = 0; i < n; i++) {
        used += (size_t)snprintf(body + used, cap - used, "%s{\"sessionId\":\"s%zu\",\"a\":[",
                                 i ? "," : "", i);
        for (size_t k = 0; k < numbers; k++)
            used += (size_t)snprintf(body + used, cap - used, "%s1", k ? "," : "");
        used += (size_t)snprintf(body + used, cap - used, "]}");
    }
    used += (size_t)snprintf(body + used, cap - used, "]}");
    *len = used;
    return body;
}

static void extract_rejects_record_beyond_max_record_bytes(void **state)
{
    struct spec sp = {.body = EXTRACT_LIST, .max_record_bytes = 4096};
    struct outcome *o;
    size_t len;
    char *body;
    (void)state;

    /* many records of 2 KiB each: the bound is per record, not per body */
    body = records_with_arrays(40, 1000, &len);
    o = run_once(&sp, body, len, 0);
    assert_ok(o);
    assert_int_equal(o->count, 40);
    outcome_free(o);
    free(body);

    /* one unknown field of 4 KiB of small numbers: no string is long, the record is */
    body = records_with_arrays(1, 2100, &len);
    o = parse_all(&sp, body, len);
    assert_failed(o, LK_EAPI, "list response: a session record holds more than the limit of 4096");
    assert_true(strstr(o->detail, "max_record_bytes") != NULL);
    assert_int_equal(o->count, 0);
    outcome_free(o);
    free(body);

    /* a participant's buffered connections count with it */
    {
        struct spec dsp = {.body = EXTRACT_DETAILS, .session_id = "RM_d", .max_record_bytes = 4096};
        char *details = malloc(200 * 40 + 128);
        size_t used = 0;

        assert_non_null(details);
        used += (size_t)sprintf(details, "{\"roomId\":\"RM_d\",\"participants\":[{\"sessions\":[");
        for (int i = 0; i < 200; i++)
            used +=
                (size_t)sprintf(details + used, "%s{\"sessionId\":\"PA_%04d\"}", i ? "," : "", i);
        used += (size_t)sprintf(details + used, "],\"participantIdentity\":\"p\"}]}");
        o = run_once(&dsp, details, used, 0);
        assert_failed(o, LK_EAPI,
                      "details response for session RM_d: a participant record "
                      "holds more than the");
        outcome_free(o);
        dsp.max_record_bytes = 0;
        o = run_once(&dsp, details, used, 0);
        assert_ok(o);
        assert_int_equal(count_of(o, RECORD_CONNECTION), 200);
        outcome_free(o);
        free(details);
    }

    /* a string longer than the record bound is stopped before yajl buffers it */
    sp.max_record_bytes = 1024;
    body = malloc(4096);
    assert_non_null(body);
    len = (size_t)sprintf(body, "{\"sessions\":[{\"sessionId\":\"a\",\"x\":\"");
    memset(body + len, 'y', 2000);
    len += 2000;
    len += (size_t)sprintf(body + len, "\"}]}");
    o = parse_all(&sp, body, len);
    assert_failed(o, LK_EDATA, "is longer than the limit of 1024 bytes");
    assert_true(strstr(o->detail, "max_record_bytes") != NULL);
    outcome_free(o);
    free(body);
}

static void extract_memory_stays_bounded_by_max_record_bytes(void **state)
{
    struct extract_limits limits = {DEFAULT_MAX_STRING, DEFAULT_MAX_DEPTH, 0, (size_t)16 << 20, 0};
    struct outcome o = {0};
    struct record_sink sink = {&o, sink_record, NULL};
    struct extract *ex = NULL;
    struct lk_error err;
    char chunk[16384];
    size_t fed = 0;
    int rc;
    (void)state;

    /* an unknown field of 300 MiB (small numbers, so no token is long) fed as libcurl would:
     * the extractor stops at the record bound instead of holding it all */
    lk_error_init(&err);
    assert_int_equal(extract_new(&ex, EXTRACT_DETAILS, "RM_d", &limits, &sink, &err), 0);
    rc = extract_feed(ex, "{\"roomId\":\"RM_d\",\"blob\":[1", 26, &err);
    for (size_t i = 0; i < sizeof chunk; i += 2)
        memcpy(chunk + i, ",1", 2);
    while (rc == 0 && fed < (size_t)300 << 20) {
        rc = extract_feed(ex, chunk, sizeof chunk, &err);
        fed += sizeof chunk;
    }
    assert_int_equal(rc, LK_EAPI);
    assert_true(fed < (size_t)17 << 20); /* stopped right after the bound */
    assert_true(strstr(err.message, "details response for session RM_d: a details record holds "
                                    "more than the limit of 16777216 bytes") != NULL);
    extract_free(ex);
}

/* ---- limits ---- */

static void extract_rejects_nesting_deeper_than_limit(void **state)
{
    struct spec sp = {.body = EXTRACT_LIST, .max_depth = 4};
    const char *ok_body = "{\"sessions\":[{\"sessionId\":\"a\",\"x\":{}}]}";
    const char *deep_body = "{\"sessions\":[{\"sessionId\":\"a\",\"x\":{\"y\":[]}}]}";
    const char *deep_wrapper = "{\"meta\":[[[[]]]],\"sessions\":[]}";
    struct outcome *o;
    char *deep;
    size_t len;
    (void)state;

    o = parse_all(&sp, ok_body, strlen(ok_body));
    assert_ok(o);
    assert_int_equal(o->count, 1);
    outcome_free(o);

    o = parse_all(&sp, deep_body, strlen(deep_body));
    assert_failed(o, LK_EDATA, "nesting deeper than the limit of 4");
    assert_int_equal(o->count, 0);
    outcome_free(o);

    /* discarded containers (list wrapper unknowns) count too */
    o = parse_all(&sp, deep_wrapper, strlen(deep_wrapper));
    assert_failed(o, LK_EDATA, "nesting deeper than the limit of 4");
    outcome_free(o);

    /* a hostile details body with the default limit */
    deep = calloc(1, 2 * 1000 + 64);
    assert_non_null(deep);
    len = (size_t)snprintf(deep, 64, "%s", "{\"roomId\":\"RM_d\",\"x\":");
    memset(deep + len, '[', 1000);
    memset(deep + len + 1000, ']', 1000);
    deep[len + 2000] = '}';
    sp.body = EXTRACT_DETAILS;
    sp.session_id = "RM_d";
    sp.max_depth = 0;
    o = parse_all(&sp, deep, strlen(deep));
    assert_failed(o, LK_EDATA, "nesting deeper than the limit of 64");
    assert_int_equal(o->count, 0);
    outcome_free(o);
    free(deep);
}

static void extract_cuts_string_longer_than_limit(void **state)
{
    struct spec sp = {.body = EXTRACT_LIST, .max_string_bytes = 16};
    const char *fits =
        "{\"sessions\":[{\"sessionId\":\"RM_a\",\"roomName\":\"0123456789abcdef\"}]}";
    const char *too_long = "{\"sessions\":[{\"sessionId\":\"RM_a\"},"
                           "{\"sessionId\":\"RM_b\",\"roomName\":\"0123456789abcdefg\"}]}";
    const char *escaped = "{\"sessions\":[{\"sessionId\":\"\\u00e9\\u00e9\\u00e9\"}]}";
    const char *escapes_end = "{\"sessions\":[{\"sessionId\":\"RM_a\\\\\",\"roomName\":"
                              "\"\\\"\\\"\\\"\",\"createdAt\":\"1795773600\"}]}";
    const char *quote_inside =
        "{\"sessions\":[{\"sessionId\":\"RM_a\",\"roomName\":\"\\\" 012 345 678 9ab cde\"}]}";
    const char *utf8 = "{\"sessions\":[{\"sessionId\":\"RM_a\",\"roomName\":\"0123456789abcd\xc3\xa9"
                       "\xc3\xa9\"}]}";
    struct outcome *o;
    (void)state;

    o = parse_all(&sp, fits, strlen(fits));
    assert_ok(o);
    assert_col(list_session(o, 0), LS_ROOM_NAME, "0123456789abcdef");
    assert_extra(list_session(o, 0), "{}");
    outcome_free(o);

    /* one byte too many: cut at the bound, a marker with the length, the length in extra;
     * the rest of the body is read as usual */
    o = parse_all(&sp, too_long, strlen(too_long));
    assert_ok(o);
    assert_int_equal(o->count, 2);
    assert_col(list_session(o, 1), LS_ROOM_NAME,
               "0123456789abcdef...[lkarchive: cut from 17 bytes]");
    assert_extra(list_session(o, 1), "{\"roomName.original_bytes\":17}");
    outcome_free(o);

    /* the limit is on raw bytes, escapes included, and an escape is never split: 2 x 6 fit */
    o = parse_all(&sp, escaped, strlen(escaped));
    assert_ok(o);
    assert_col(list_session(o, 0), LS_SESSION_ID,
               "\xc3\xa9\xc3\xa9...[lkarchive: cut from 18 bytes]");
    outcome_free(o);

    /* nor is a character: 14 bytes, then two of é would pass 16 at its second byte */
    o = parse_all(&sp, utf8, strlen(utf8));
    assert_ok(o);
    assert_col(list_session(o, 0), LS_ROOM_NAME,
               "0123456789abcd\xc3\xa9...[lkarchive: cut from 18 bytes]");
    outcome_free(o);

    /* the scanner follows escapes: a string ending in an escaped backslash or quote ends
     * there, and what follows is not taken for one long string */
    o = parse_all(&sp, escapes_end, strlen(escapes_end));
    assert_ok(o);
    assert_col(list_session(o, 0), LS_SESSION_ID, "RM_a\\");
    assert_col(list_session(o, 0), LS_ROOM_NAME, "\"\"\"");
    assert_col(list_session(o, 0), LS_CREATED_AT, "2026-11-27 10:00:00+00");
    outcome_free(o);

    /* an escaped quote does not end the string: its short words still add up */
    o = parse_all(&sp, quote_inside, strlen(quote_inside));
    assert_ok(o);
    assert_col(list_session(o, 0), LS_ROOM_NAME,
               "\" 012 345 678 9...[lkarchive: cut from 22 bytes]");
    outcome_free(o);
}

static void extract_rejects_number_token_longer_than_limit(void **state)
{
    struct spec sp = {.body = EXTRACT_LIST, .max_string_bytes = 16};
    const char *fits = "{\"sessions\":[{\"sessionId\":\"RM_a\",\"egress\":1234567890123456}]}";
    const char *too_long =
        "{\"sessions\":[{\"sessionId\":\"RM_a\",\"bandwidthIn\":12345678901234567}]}";
    char expected[128];
    struct outcome *o;
    (void)state;

    o = parse_all(&sp, fits, strlen(fits));
    assert_ok(o);
    assert_extra(list_session(o, 0), "{\"egress\":\"1234567890123456\"}");
    outcome_free(o);

    o = parse_all(&sp, too_long, strlen(too_long));
    snprintf(expected, sizeof expected,
             "a JSON token at byte %zu is longer than the limit of 16 bytes",
             (size_t)(strstr(too_long, "1234") - too_long) + 16);
    assert_failed(o, LK_EDATA, expected);
    assert_int_equal(o->count, 0);
    outcome_free(o);
}

/* ---- malformed bodies ---- */

static void extract_finish_rejects_truncated_body(void **state)
{
    static const char *const fixtures[] = {"list_plain.json", "list_quirks.json",
                                           "details_plain.json", "details_quirks.json"};
    (void)state;

    log_set_level(LOG_LEVEL_ERROR);
    for (size_t f = 0; f < sizeof fixtures / sizeof fixtures[0]; f++) {
        struct spec sp = {.body = f < 2 ? EXTRACT_LIST : EXTRACT_DETAILS,
                          .session_id = f == 2 ? "RM_hycBMAjmt6Ub" : "RM_quirks"};
        size_t len, end;
        char *json = read_fixture(fixtures[f], &len);

        end = (size_t)(strrchr(json, '}') - json); /* cut anywhere before the last brace */
        for (size_t cut = 0; cut <= end; cut++) {
            for (size_t chunk = 0; chunk <= 7; chunk += 7) {
                struct outcome *o = run_once(&sp, json, cut, chunk);
                if (o->rc != LK_EDATA) {
                    print_error("%s cut at %zu (chunk %zu): rc %d, expected LK_EDATA\n",
                                fixtures[f], cut, chunk, o->rc);
                    fail();
                }
                outcome_free(o);
            }
        }
        /* the complete body (without its final newline) is fine */
        struct outcome *o = run_once(&sp, json, end + 1, 0);
        assert_ok(o);
        outcome_free(o);
        free(json);
    }
    log_set_level(LOG_LEVEL_INFO);
}

static void extract_reports_truncation_at_finish(void **state)
{
    const char *cut = "{\"sessions\":[{\"sessionId\":\"RM_a\"},{\"sessionId\":\"RM_b\"";
    struct spec sp = {.body = EXTRACT_LIST};
    struct outcome *o;
    (void)state;

    /* the records that were complete went out; the cut is only seen at the end */
    o = parse_all(&sp, cut, strlen(cut));
    assert_failed(o, LK_EDATA, "invalid JSON in the list response");
    assert_int_equal(o->count, 1);
    assert_col(list_session(o, 0), LS_SESSION_ID, "RM_a");
    outcome_free(o);

    o = parse_all(&sp, "", 0);
    assert_failed(o, LK_EDATA, NULL);
    assert_int_equal(o->count, 0);
    outcome_free(o);

    o = parse_all(&sp, " \n\t", 3);
    assert_failed(o, LK_EDATA, NULL);
    outcome_free(o);
}

static void extract_rejects_invalid_json_with_byte_offset(void **state)
{
    /* a missing comma: the offset given is just past the second object's '{' */
    const char *list = "{\"sessions\":[{\"sessionId\":\"RM_a\"} {\"sessionId\":\"RM_b\"}]}";
    const char *details = "{\"roomId\":\"RM_d\",\"roomName\":tru}";
    char expected[96];
    struct outcome *o;
    (void)state;

    o = parse_list(list);
    snprintf(expected, sizeof expected, "invalid JSON in the list response near byte %zu",
             (size_t)(strchr(list, ' ') - list) + 2);
    assert_failed(o, LK_EDATA, expected);
    assert_true(o->detail[0] != '\0'); /* yajl's own words */
    assert_int_equal(o->count, 1);
    outcome_free(o);

    o = parse_details("RM_d", details);
    assert_failed(o, LK_EDATA, "invalid JSON in the details response near byte ");
    outcome_free(o);

    o = parse_list("{\"sessions\":[]}x");
    assert_failed(o, LK_EDATA, "invalid JSON in the list response near byte ");
    outcome_free(o);

    o = parse_list("{\"sessions\":[]} {}");
    assert_failed(o, LK_EDATA, "invalid JSON in the list response near byte ");
    outcome_free(o);

    o = parse_list("{\"sessions\":[{\"sessionId\":'RM_a'}]}");
    assert_failed(o, LK_EDATA, "invalid JSON in the list response near byte ");
    outcome_free(o);
}

static void extract_rejects_non_object_bodies(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_details("RM_d", "[]");
    assert_failed(o, LK_EDATA, "details response is not a JSON object");
    outcome_free(o);

    o = parse_details("RM_d", "\"RM_d\"");
    assert_failed(o, LK_EDATA, "details response is not a JSON object");
    outcome_free(o);

    o = parse_list("42");
    assert_failed(o, LK_EDATA, "list response is not a JSON object");
    outcome_free(o);

    o = parse_list("null");
    assert_failed(o, LK_EDATA, "list response is not a JSON object");
    outcome_free(o);

    o = parse_list("{\"sessions\":[\"RM_a\"]}");
    assert_failed(o, LK_EDATA, "list page: a sessions[] entry is not an object");
    outcome_free(o);

    o = parse_list("[[]]");
    assert_failed(o, LK_EDATA, "an array entry that should be an object is an array");
    outcome_free(o);

    o = parse_details("RM_d", "{\"participants\":[1]}");
    assert_failed(o, LK_EDATA, "details: a participants[] entry is not an object");
    outcome_free(o);

    o = parse_details("RM_d", "{\"participants\":[{\"participantIdentity\":\"p\","
                              "\"sessions\":[\"PA_1\"]}]}");
    assert_failed(o, LK_EDATA, "details: a participant's sessions[] entry is not an object");
    outcome_free(o);
}

static void extract_rejects_list_sessions_that_is_not_an_array(void **state)
{
    struct outcome *o;
    (void)state;

    /* a page whose sessions cannot be read must not pass for an empty page */
    o = parse_list("{\"sessions\":{\"sessionId\":\"RM_a\"}}");
    assert_failed(o, LK_EDATA, "sessions");
    assert_int_equal(o->count, 0);
    outcome_free(o);

    o = parse_list("{\"sessions\":\"RM_a\"}");
    assert_failed(o, LK_EDATA, "sessions");
    outcome_free(o);

    o = parse_list("{\"sessions\":0}");
    assert_failed(o, LK_EDATA, "sessions");
    outcome_free(o);
}

/* ---- records without their id ---- */

static void extract_rejects_session_without_session_id(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_list("{\"sessions\":[{\"sessionId\":\"RM_a\"},{\"roomName\":\"no id\"}]}");
    assert_failed(o, LK_EDATA, "list page: sessions[1] has no sessionId");
    assert_int_equal(o->count, 1);
    outcome_free(o);

    o = parse_list("{\"sessions\":[{\"sessionId\":null}]}");
    assert_failed(o, LK_EDATA, "list page: sessions[0] has no sessionId");
    outcome_free(o);

    /* null entries count for the index */
    o = parse_list("[null,{\"sessionId\":\"RM_a\"},null,{\"sessionId\":{\"id\":1}}]");
    assert_failed(o, LK_EDATA, "list page: sessions[3] has no sessionId");
    assert_int_equal(o->count, 1);
    outcome_free(o);
}

static void extract_rejects_participant_without_identity(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_details("RM_d", "{\"roomId\":\"RM_d\",\"participants\":[{\"participantIdentity\":"
                              "\"p\"},{\"participantName\":\"anonymous\",\"sessions\":"
                              "[{\"sessionId\":\"PA_1\"}]}]}");
    assert_failed(o, LK_EDATA, "session RM_d: participants[1] has no participantIdentity");
    assert_int_equal(o->count, 1);
    assert_int_equal(count_of(o, RECORD_CONNECTION), 0);
    outcome_free(o);

    o = parse_details("RM_d", "{\"participants\":[{\"participantIdentity\":null}]}");
    assert_failed(o, LK_EDATA, "participants[0] has no participantIdentity");
    outcome_free(o);
}

static void extract_rejects_connection_without_session_id(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_details("RM_d",
                      "{\"participants\":[{\"participantIdentity\":\"p\",\"sessions\":"
                      "[{\"sessionId\":\"PA_1\"},{\"joinedAt\":\"2026-11-27T10:00:00Z\"}]}]}");
    assert_failed(o, LK_EDATA, "session RM_d: a participant's sessions[1] has no sessionId");
    assert_int_equal(o->count, 0);
    outcome_free(o);
}

/* ---- list shapes ---- */

static void extract_accepts_bare_top_level_array_list(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_list("[{\"sessionId\":\"RM_a\"},{\"sessionId\":\"RM_b\",\"egress\":1,\"x\":2}]");
    assert_ok(o);
    assert_int_equal(o->count, 2);
    assert_int_equal(o->extract_count, 2);
    assert_col(list_session(o, 0), LS_SESSION_ID, "RM_a");
    assert_col(list_session(o, 1), LS_SESSION_ID, "RM_b");
    assert_col(list_session(o, 1), LS_EGRESS, "1");
    assert_extra(list_session(o, 1), "{\"x\":2}");
    assert_paths(o, "session.x");
    outcome_free(o);

    o = parse_list("[]");
    assert_ok(o);
    assert_int_equal(o->count, 0);
    outcome_free(o);
}

static void extract_treats_null_sessions_as_empty_list(void **state)
{
    static const char *const bodies[] = {"{\"sessions\":null}", "{\"sessions\":[]}", "{}",
                                         "{\"sessions\":[null,null]}"};
    (void)state;

    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct outcome *o = parse_list(bodies[i]);
        assert_ok(o);
        assert_int_equal(o->count, 0);
        assert_int_equal(o->extract_count, 0);
        assert_no_paths(o);
        outcome_free(o);
    }
}

static void extract_treats_null_participants_and_sources_as_absent(void **state)
{
    struct outcome *o;
    (void)state;

    o = parse_details("RM_d", "{\"roomId\":\"RM_d\",\"participants\":null}");
    assert_ok(o);
    assert_int_equal(o->count, 1);
    assert_extra(details_session(o), "{}");
    outcome_free(o);

    o = parse_details("RM_d", "{\"participants\":[null,{\"participantIdentity\":\"p\","
                              "\"publishedSources\":null,\"sessions\":null}]}");
    assert_ok(o);
    assert_int_equal(o->count, 2);
    assert_record(participant(o, 0), RECORD_PARTICIPANT, "{}", "RM_d", "p", NULL, NULL, NULL, NULL,
                  NULL, NULL, NULL, NULL, NULL, NULL);
    outcome_free(o);
}

/* ---- the sink ---- */

static void extract_stops_on_sink_error(void **state)
{
    const char *list = "{\"sessions\":[{\"sessionId\":\"RM_a\"},{\"sessionId\":\"RM_b\"},"
                       "{\"sessionId\":\"RM_c\"}]}";
    struct spec sp = {.body = EXTRACT_LIST, .fail_at = 2, .fail_code = LK_EDB};
    size_t len;
    char *json;
    struct outcome *o;
    (void)state;

    o = parse_all(&sp, list, strlen(list));
    assert_failed(o, LK_EDB, "sink refused record 2");
    assert_int_equal(o->calls, 2); /* nothing after the refusal */
    assert_int_equal(o->count, 1);
    assert_int_equal(o->extract_count, 1);
    outcome_free(o);

    /* a connection refused in the middle of a details body */
    json = read_fixture("details_plain.json", &len);
    sp.body = EXTRACT_DETAILS;
    sp.session_id = "RM_hycBMAjmt6Ub";
    sp.fail_at = 3;
    sp.fail_code = LK_ENOMEM;
    o = parse_all(&sp, json, len);
    assert_failed(o, LK_ENOMEM, "sink refused record 3");
    assert_int_equal(o->calls, 3);
    assert_int_equal(o->extract_count, 0);
    outcome_free(o);

    /* the details record itself refused */
    sp.fail_at = 6;
    o = parse_all(&sp, json, len);
    assert_failed(o, LK_ENOMEM, "sink refused record 6");
    assert_int_equal(o->calls, 6);
    outcome_free(o);
    free(json);
}

static void extract_works_without_unknown_field_callback(void **state)
{
    struct spec sp = {.body = EXTRACT_LIST, .no_unknown_callback = true};
    size_t len;
    char *json = read_fixture("list_quirks.json", &len);
    struct outcome *o;
    (void)state;

    o = parse_all(&sp, json, len);
    assert_ok(o);
    assert_int_equal(o->count, 4);
    assert_int_equal(o->path_count, 0);
    assert_extra(list_session(o, 1), "{\"egress\":\"active\",\"bandwidthIn\":\"12abc\"}");
    outcome_free(o);
    free(json);
}

static void extract_free_accepts_null(void **state)
{
    (void)state;
    extract_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(extract_parses_plain_list_fixture),
        cmocka_unit_test(extract_parses_plain_details_fixture),
        cmocka_unit_test(extract_parses_list_quirks_fixture),
        cmocka_unit_test(extract_parses_details_quirks_fixture),
        cmocka_unit_test(extract_accepts_int64_as_string),
        cmocka_unit_test(extract_keeps_int64_number_beyond_2_pow_53_exact),
        cmocka_unit_test(extract_accepts_egress_as_string),
        cmocka_unit_test(extract_accepts_rfc3339_timestamp_variants),
        cmocka_unit_test(extract_accepts_timestamp_object_with_string_seconds),
        cmocka_unit_test(extract_accepts_timestamp_as_epoch_number),
        cmocka_unit_test(extract_stores_zero_timestamps_as_null),
        cmocka_unit_test(extract_keeps_unknown_list_session_fields_in_extra),
        cmocka_unit_test(extract_reports_list_wrapper_unknowns_without_rows),
        cmocka_unit_test(extract_keeps_unknown_details_fields_in_extra),
        cmocka_unit_test(extract_keeps_unknown_participant_fields_in_extra),
        cmocka_unit_test(extract_nests_unknown_published_sources_in_extra),
        cmocka_unit_test(extract_keeps_unknown_connection_fields_in_extra),
        cmocka_unit_test(extract_preserves_nested_unknown_objects_and_arrays),
        cmocka_unit_test(extract_stores_null_known_fields_as_null),
        cmocka_unit_test(extract_gives_same_records_for_shuffled_key_order),
        cmocka_unit_test(extract_replaces_nul_with_replacement_char_in_values),
        cmocka_unit_test(extract_replaces_nul_in_extra_keys_and_values),
        cmocka_unit_test(extract_decodes_odd_strings),
        cmocka_unit_test(extract_keeps_unconvertible_values_in_extra),
        cmocka_unit_test(extract_keeps_non_boolean_published_source_in_extra),
        cmocka_unit_test(extract_keeps_timestamp_object_with_extra_key_in_extra),
        cmocka_unit_test(extract_keeps_out_of_range_integers_in_extra),
        cmocka_unit_test(extract_keeps_container_where_scalar_expected_in_extra),
        cmocka_unit_test(extract_keeps_wrong_container_for_child_in_extra),
        cmocka_unit_test(extract_takes_connection_identity_from_its_participant),
        cmocka_unit_test(extract_keys_details_rows_by_requested_session_id),
        cmocka_unit_test(extract_rejects_details_about_another_session),
        cmocka_unit_test(extract_repairs_ill_formed_utf8_in_every_text),
        cmocka_unit_test(extract_replaces_lone_surrogate_escapes),
        cmocka_unit_test(extract_repairs_raw_control_characters_in_strings),
        cmocka_unit_test(extract_keeps_numbers_numeric_cannot_hold_as_strings),
        cmocka_unit_test(extract_keeps_numbers_bigint_cannot_hold_as_strings),
        cmocka_unit_test(extract_stores_negative_byte_counts_as_null),
        cmocka_unit_test(extract_repeated_keys_keep_the_last_value),
        cmocka_unit_test(extract_rejects_list_page_beyond_its_limit),
        cmocka_unit_test(extract_rejects_body_beyond_max_body_bytes),
        cmocka_unit_test(extract_rejects_record_beyond_max_record_bytes),
        cmocka_unit_test(extract_memory_stays_bounded_by_max_record_bytes),
        cmocka_unit_test(extract_rejects_nesting_deeper_than_limit),
        cmocka_unit_test(extract_cuts_string_longer_than_limit),
        cmocka_unit_test(extract_rejects_number_token_longer_than_limit),
        cmocka_unit_test(extract_finish_rejects_truncated_body),
        cmocka_unit_test(extract_reports_truncation_at_finish),
        cmocka_unit_test(extract_rejects_invalid_json_with_byte_offset),
        cmocka_unit_test(extract_rejects_non_object_bodies),
        cmocka_unit_test(extract_rejects_list_sessions_that_is_not_an_array),
        cmocka_unit_test(extract_rejects_session_without_session_id),
        cmocka_unit_test(extract_rejects_participant_without_identity),
        cmocka_unit_test(extract_rejects_connection_without_session_id),
        cmocka_unit_test(extract_accepts_bare_top_level_array_list),
        cmocka_unit_test(extract_treats_null_sessions_as_empty_list),
        cmocka_unit_test(extract_treats_null_participants_and_sources_as_absent),
        cmocka_unit_test(extract_stops_on_sink_error),
        cmocka_unit_test(extract_works_without_unknown_field_callback),
        cmocka_unit_test(extract_free_accepts_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* sim_dataset.c -- the simulator's deterministic dataset and its expected archive rows.
 *
 * Every value is sim_hash(record seed, field tag): a session's seed mixes (seed, project,
 * day, index), a participant's mixes the session's and k, a connection's the participant's
 * and c. Values never depend on the order they are drawn in, so switching a quirk on or
 * moving `today` changes only what it is meant to change. Each builder fills a sim_record:
 * per field the JSON text served (the quirk forms are chosen here, per record, from the seed)
 * and what the archive must hold (column text or NULL, or a value kept in `extra`).
 * sim_dataset_write_expected walks the same builders to write the COPY files.
 * Session ids encode (day, index) under a keyed mask, so details look-ups need no state.
 */
#include "sim_dataset.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim_json.h"

/* Field tags: one per random draw, so draws are independent of each other. */
/* clang-format off */
enum {
    T_ID = 1, T_ROOM, T_CREATED, T_CREATED_NS, T_LENGTH, T_LENGTH_LONG,
    T_ENDED_NS, T_NP, T_HUGE, T_ORDER_LIST, T_ORDER_DETAILS, T_ORDER_PART, T_ORDER_PUB,
    T_ORDER_CONN, T_SHUFFLE, T_ODD_ROOM, T_FORM_CREATED, T_FORM_ENDED, T_FORM_LAST,
    T_FORM_START, T_FORM_END, T_FORM_JOINED, T_FORM_LEFT, T_UNSET_ENDED, T_UNSET_END,
    T_UNSET_LEFT, T_BAD_BW_IN, T_BAD_LAST, T_BAD_EGRESS, T_BAD_PUB, T_NULL_LAST, T_NULL_BW_OUT,
    T_NULL_ROOM, T_NULL_NAME, T_NULL_REGION, T_NULL_SDK, T_NULL_PUB, T_BW_IN, T_BW_OUT, T_BW,
    T_STR_BW_IN, T_STR_BW_OUT, T_STR_BW, T_BIG_BW_IN, T_BIG_BW_OUT, T_BIG_BW, T_EGRESS,
    T_STR_EGRESS, T_MINUTES, T_STR_MINUTES, T_UNK_AGENT, T_UNK_FEATURES, T_UNK_RECORDING,
    T_UNK_METADATA, T_UNK_ATTRS, T_UNK_DATATRACK, T_UNK_TRANSPORT, T_AGENTS, T_PART,
    T_JOINED, T_JOINED_NS, T_LEFT, T_LEFT_NS, T_ODD_IDENTITY, T_ODD_NAME, T_REGION, T_CTYPE,
    T_SDK, T_PUB_BITS, T_CONN_ROTATE, T_CONN, T_CONN_JOIN_NS, T_CONN_LEFT_NS, T_CONN_ID,
    T_PAGE_ORDER, T_EMPTY, T_REVISED, T_REV_LENGTH, T_REV_START, T_OVERNIGHT,
    T_OVERNIGHT_END
};
/* clang-format on */

#define NSEC_PER_SEC 1000000000
#define DAY_SECONDS 86400
#define B62_6 56800235584ull /* 62^6 */

static const char ALNUM[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static const char *const REGIONS[] = {"us-east", "us-west",  "eu-central",
                                      "eu-west", "ap-south", "sa-east"};
static const char *const CONNECTION_TYPES[] = {"UDP", "TCP", "TURN"};
static const char *const SDK_VERSIONS[] = {"JS 2.5.1",      "JS 2.9.0",   "Swift 2.0.12",
                                           "Android 2.5.0", "Go 2.1.3",   "Python 0.18.1",
                                           "Rust 0.6.0",    "Unity 1.2.0"};
static const char *const PUBLISHED_KEYS[] = {"cameraTrack", "microphoneTrack", "screenShareTrack",
                                             "screenShareAudio"};

/* Odd-strings fragments, as JSON string-literal bodies (escapes as served). Raw UTF-8 is
 * written with \x escapes that are never followed by a hex digit. */
static const char *const ODD_FRAGMENTS[] = {
    "caf\\u00e9 caf\xc3\xa9",                         /* é escaped and raw */
    "\xe4\xb8\xad\xe6\x96\x87 \\u4e2d\\u6587",        /* 中文 raw and escaped */
    "smile \\ud83d\\ude00 \xf0\x9f\x98\x80",          /* emoji: surrogate pair and raw */
    "say \\\"hi\\\"",                                 /* quotes */
    "back\\\\slash",                                  /* backslash */
    "tab\\there",                                     /* tab */
    "line\\nbreak\\r\\n",                             /* newline, carriage return */
    "nul\\u0000byte",                                 /* NUL: stored as U+FFFD */
    "unit\\u001fsep",                                 /* a control character */
    "a\\/b",                                          /* escaped solidus */
    "mix \\b\\f\\u00e9\\t\\\\\\\"\\u0000\\u001f end", /* all of it at once */
};
#define N_ODD (sizeof ODD_FRAGMENTS / sizeof ODD_FRAGMENTS[0])

/* One unit of the day's huge room name; repeated whole so no escape is ever cut. */
static const char HUGE_UNIT[] = "lorem-ipsum-0123456789-\\u00e9\xc3\xa9-\\\"q\\\"-\\\\-\\t|";
#define HUGE_REPEATS 4000 /* about 200 KB */

enum ts_form { TS_MILLIS, TS_PLAIN, TS_NANOS, TS_OFFSET, TS_OBJECT, TS_OBJECT_STRSEC, TS_EPOCH };
enum unset_form {
    UNSET_ABSENT,
    UNSET_NULL,
    UNSET_EMPTY,
    UNSET_ZERO_TIME,
    UNSET_ZERO_OBJECT,
    UNSET_EPOCH0
};

uint64_t sim_hash(uint64_t a, uint64_t b)
{
    uint64_t z = a ^ (b * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull);

    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    /* a second round so that nearby (a, b) pairs do not correlate */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t draw(uint64_t seed, unsigned tag, uint64_t n)
{
    return sim_hash(seed, tag) % n;
}

static bool one_in(uint64_t seed, unsigned tag, uint64_t n)
{
    return draw(seed, tag, n) == 0;
}

static bool quirk(const struct sim_dataset *ds, unsigned q)
{
    return (ds->quirks & q) != 0;
}

/* ---- dates ---------------------------------------------------------------------------- */

/* Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* width digits of v, zero-padded, at p (no NUL) */
static void put_digits(char *p, uint64_t v, int width)
{
    int i;

    for (i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

int sim_date_parse(int64_t *out, const char *text)
{
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned v[3] = {0, 0, 0};
    int64_t day;
    size_t i;
    int rc = -1;

    if (text == NULL || strlen(text) != 10 || text[4] != '-' || text[7] != '-')
        goto done;
    for (i = 0; i < 10; i++) {
        if (i == 4 || i == 7)
            continue;
        if (text[i] < '0' || text[i] > '9')
            goto done;
        v[i < 4   ? 0
          : i < 7 ? 1
                  : 2] = v[i < 4   ? 0
                           : i < 7 ? 1
                                   : 2] *
                             10 +
                         (unsigned)(text[i] - '0');
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > mdays[v[1] - 1])
        goto done;
    if (v[1] == 2 && v[2] == 29 && !(v[0] % 4 == 0 && (v[0] % 100 != 0 || v[0] % 400 == 0)))
        goto done;
    day = days_from_civil(v[0], v[1], v[2]);
    if (day < 0 || day > SIM_MAX_DAY)
        goto done;
    *out = day;
    rc = 0;
done:
    return rc;
}

void sim_date_format(char out[11], int64_t day)
{
    int64_t y;
    unsigned m, d;

    civil_from_days(day, &y, &m, &d);
    put_digits(out, (uint64_t)y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = '\0';
}

/* "YYYY-MM-DD?HH:MM:SS" (19 bytes, no NUL) for epoch seconds, sep between date and time */
static void put_civil(char *p, int64_t sec, char sep)
{
    int64_t day = sec >= 0 ? sec / DAY_SECONDS : -((-sec + DAY_SECONDS - 1) / DAY_SECONDS);
    int64_t rem = sec - day * DAY_SECONDS;

    sim_date_format(p, day);
    p[10] = sep;
    put_digits(p + 11, (uint64_t)(rem / 3600), 2);
    p[13] = ':';
    put_digits(p + 14, (uint64_t)(rem / 60 % 60), 2);
    p[16] = ':';
    put_digits(p + 17, (uint64_t)(rem % 60), 2);
}

/* ---- dataset ------------------------------------------------------------------------------ */

void sim_dataset_init(struct sim_dataset *ds)
{
    size_t i, d;
    const unsigned char *p;
    uint64_t h;

    for (i = 0; i < ds->n_projects; i++) {
        h = 0xcbf29ce484222325ull; /* FNV-1a of the project id */
        for (p = (const unsigned char *)ds->projects[i]; *p; p++)
            h = (h ^ *p) * 0x100000001b3ull;
        ds->project_seeds[i] = sim_hash(ds->seed, h);
        for (d = 0; d < SIM_MAX_DAYS; d++)
            ds->day_sessions[i][d] = ds->sessions_per_day;
    }
}

uint32_t sim_dataset_sessions(const struct sim_dataset *ds, size_t project, int64_t day)
{
    assert(project < ds->n_projects);
    if (day < ds->first_day || day > ds->today || ds->today - day >= SIM_MAX_DAYS)
        return 0;
    return ds->day_sessions[project][ds->today - day];
}

int sim_dataset_project(const struct sim_dataset *ds, const char *project)
{
    size_t i;

    for (i = 0; i < ds->n_projects; i++)
        if (strcmp(ds->projects[i], project) == 0)
            return (int)i;
    return -1;
}

int sim_quirks_parse(unsigned *out, const char *text, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {
        {"int64-strings", SIM_Q_INT64_STRINGS},
        {"timestamp-forms", SIM_Q_TIMESTAMP_FORMS},
        {"zero-timestamps", SIM_Q_ZERO_TIMESTAMPS},
        {"unknown-fields", SIM_Q_UNKNOWN_FIELDS},
        {"nulls", SIM_Q_NULLS},
        {"shuffled-keys", SIM_Q_SHUFFLED_KEYS},
        {"odd-strings", SIM_Q_ODD_STRINGS},
        {"bad-values", SIM_Q_BAD_VALUES},
        {"gzip", SIM_Q_GZIP},
        {"chunked", SIM_Q_CHUNKED},
        {"pretty", SIM_Q_PRETTY},
    };
    unsigned bits = 0;
    const char *p = text, *end;
    size_t len, i;
    bool found;
    int rc = -1;

    if (strcmp(text, "all") == 0) {
        bits = SIM_Q_ALL;
    } else if (strcmp(text, "none") != 0 && text[0] != '\0') {
        for (;;) {
            end = strchr(p, ',');
            len = end ? (size_t)(end - p) : strlen(p);
            found = false;
            for (i = 0; i < sizeof names / sizeof names[0]; i++) {
                if (strlen(names[i].name) == len && memcmp(names[i].name, p, len) == 0) {
                    bits |= names[i].bit;
                    found = true;
                }
            }
            if (!found) {
                snprintf(err, errlen, "unknown quirk '%.*s'", (int)(len > 64 ? 64 : len), p);
                goto done;
            }
            if (end == NULL)
                break;
            p = end + 1;
        }
    }
    *out = bits;
    rc = 0;
done:
    return rc;
}

/* ---- record buffer -------------------------------------------------------------------------- */

void sim_record_init(struct sim_record *r)
{
    memset(r, 0, sizeof *r);
}

void sim_record_dispose(struct sim_record *r)
{
    free(r->buf);
    memset(r, 0, sizeof *r);
}

const char *sim_record_text(const struct sim_record *r, size_t off)
{
    return r->buf + off;
}

static void rec_reset(struct sim_record *r, uint64_t order_seed)
{
    r->n_fields = 0;
    r->len = 0;
    r->failed = false;
    r->order_seed = order_seed;
}

static bool rec_reserve(struct sim_record *r, size_t n)
{
    size_t cap;
    char *nb;

    if (r->failed)
        return false;
    if (r->len + n <= r->cap)
        return true;
    cap = r->cap ? r->cap : 2048;
    while (cap < r->len + n)
        cap *= 2;
    nb = realloc(r->buf, cap);
    if (nb == NULL) {
        r->failed = true;
        return false;
    }
    r->buf = nb;
    r->cap = cap;
    return true;
}

static void rec_cat(struct sim_record *r, const char *p, size_t n)
{
    if (!rec_reserve(r, n))
        return;
    memcpy(r->buf + r->len, p, n);
    r->len += n;
}

static void rec_cats(struct sim_record *r, const char *s)
{
    rec_cat(r, s, strlen(s));
}

static void rec_cat_u64(struct sim_record *r, uint64_t v)
{
    char tmp[24];
    size_t n = 0;

    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    rec_cat(r, tmp + sizeof tmp - n, n);
}

static struct sim_field *rec_add(struct sim_record *r, const char *key, int col)
{
    struct sim_field *f;

    assert(r->n_fields < SIM_MAX_FIELDS);
    f = &r->fields[r->n_fields++];
    memset(f, 0, sizeof *f);
    f->key = key;
    f->col = col;
    return f;
}

/* The served value is everything appended since mark. */
static void set_json(struct sim_record *r, struct sim_field *f, size_t mark)
{
    f->present = true;
    f->json_off = mark;
    f->json_len = r->len - mark;
}

static void set_col(struct sim_record *r, struct sim_field *f, size_t mark)
{
    f->col_set = true;
    f->col_off = mark;
    f->col_len = r->len - mark;
}

/* ---- field values ----------------------------------------------------------------------- */

/* A string from a JSON literal body: served quoted, stored decoded (NUL -> U+FFFD). */
static void fld_string(struct sim_record *r, struct sim_field *f, const char *lit, size_t n)
{
    size_t mark = r->len;

    rec_cat(r, "\"", 1);
    rec_cat(r, lit, n);
    rec_cat(r, "\"", 1);
    set_json(r, f, mark);
    mark = r->len;
    if (!rec_reserve(r, n))
        return;
    r->len += sim_json_unescape(r->buf + r->len, r->buf + f->json_off + 1, n);
    set_col(r, f, mark);
}

/* A plain string that needs no escaping (ids, enum-like values). */
static void fld_plain(struct sim_record *r, struct sim_field *f, const char *s)
{
    fld_string(r, f, s, strlen(s));
}

static void fld_null(struct sim_record *r, struct sim_field *f)
{
    size_t mark = r->len;

    rec_cats(r, "null");
    set_json(r, f, mark);
}

/* A number (or its decimal text) as a JSON number or, as_string, a JSON string. */
static void fld_number(struct sim_record *r, struct sim_field *f, const char *text, bool as_string)
{
    size_t mark = r->len;

    if (as_string)
        rec_cat(r, "\"", 1);
    rec_cats(r, text);
    if (as_string)
        rec_cat(r, "\"", 1);
    set_json(r, f, mark);
    mark = r->len;
    rec_cats(r, text);
    set_col(r, f, mark);
}

static void fld_u64(struct sim_record *r, struct sim_field *f, uint64_t v, bool as_string)
{
    char tmp[24];
    size_t n = 0, i;
    char text[24];

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (i = 0; i < n; i++)
        text[i] = tmp[n - 1 - i];
    text[n] = '\0';
    fld_number(r, f, text, as_string);
}

static void fld_bool(struct sim_record *r, struct sim_field *f, bool b)
{
    size_t mark = r->len;

    rec_cats(r, b ? "true" : "false");
    set_json(r, f, mark);
    mark = r->len;
    rec_cats(r, b ? "t" : "f");
    set_col(r, f, mark);
}

/* An unconvertible value of a known field: column NULL, the original kept in extra. */
static void fld_bad(struct sim_record *r, struct sim_field *f, const char *json)
{
    size_t mark = r->len;

    rec_cats(r, json);
    set_json(r, f, mark);
    f->in_extra = true;
    f->extra_off = f->json_off;
    f->extra_len = f->json_len;
}

/* An unknown field: no column; extra holds extra_json, or the served text when NULL. */
static void fld_unknown(struct sim_record *r, struct sim_field *f, const char *json,
                        const char *extra_json)
{
    size_t mark = r->len;

    rec_cats(r, json);
    set_json(r, f, mark);
    f->in_extra = true;
    if (extra_json == NULL) {
        f->extra_off = f->json_off;
        f->extra_len = f->json_len;
    } else {
        mark = r->len;
        rec_cats(r, extra_json);
        f->extra_off = mark;
        f->extra_len = r->len - mark;
    }
}

/* --hostile: a member served as json (raw bytes and escapes as they are), column col (NULL:
 * none) and, when extra is not NULL, that JSON text in `extra`. */
static void fld_raw(struct sim_record *r, struct sim_field *f, const char *json, size_t json_len,
                    const char *col, size_t col_len, const char *extra)
{
    size_t mark = r->len;

    rec_cat(r, json, json_len);
    set_json(r, f, mark);
    if (col != NULL) {
        mark = r->len;
        rec_cat(r, col, col_len);
        set_col(r, f, mark);
    }
    if (extra != NULL) {
        mark = r->len;
        rec_cats(r, extra);
        f->in_extra = true;
        f->extra_off = mark;
        f->extra_len = r->len - mark;
    }
}

/* A number no column holds: NULL in the column, its text as a JSON string in extra. */
static void fld_unholdable(struct sim_record *r, struct sim_field *f, const char *json,
                           size_t json_len)
{
    size_t mark = r->len;

    rec_cat(r, json, json_len);
    set_json(r, f, mark);
    mark = r->len;
    rec_cats(r, "\"");
    rec_cat(r, json[0] == '"' ? json + 1 : json, json[0] == '"' ? json_len - 2 : json_len);
    rec_cats(r, "\"");
    f->in_extra = true;
    f->extra_off = mark;
    f->extra_len = r->len - mark;
}

#define U_FFFD "\xEF\xBF\xBD"
/* Every form of text that is not UTF-8, as served inside a JSON string, and what lkarchive
 * stores for it: U+FFFD per maximal subpart (Unicode 3.9, table 3-7; src/utf8.c), a lone
 * surrogate escape and NUL also U+FFFD. Separators '|' keep hex escapes apart. */
#define HOSTILE_BAD_SERVED                                                                         \
    "|\x80|\xff|\xc0\xaf|\xe0\x80\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82|\xf0\x9f\x98|"        \
    "\\uD800|\\uDC00|\\uD800\\u0041|\\u0000|\xc3\xa9\\u00e9\xf0\x9f\x98\x80|"
#define HOSTILE_BAD_STORED                                                                         \
    "|" U_FFFD "|" U_FFFD "|" U_FFFD U_FFFD "|" U_FFFD U_FFFD U_FFFD "|" U_FFFD U_FFFD U_FFFD      \
    "|" U_FFFD U_FFFD U_FFFD U_FFFD "|" U_FFFD "|" U_FFFD "|" U_FFFD "|" U_FFFD "|" U_FFFD         \
    "A|" U_FFFD "|\xc3\xa9\xc3\xa9\xf0\x9f\x98\x80|"
/* ...and as a JSON string in extra (jsonb reads \ufffd) */
#define HOSTILE_BAD_EXTRA                                                                          \
    "|\\ufffd|\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd"                  \
    "|\\ufffd\\ufffd\\ufffd\\ufffd|\\ufffd|\\ufffd|\\ufffd|\\ufffd|\\ufffdA|\\ufffd"               \
    "|\\u00e9\\u00e9\\ud83d\\ude00|"
/* terminal escapes (escaped and raw), a newline that would forge a log line, C1 (U+009B) */
#define HOSTILE_TERM_SERVED "\\u001b[31mred\x1b[0m\\nlkarchive: forged line\\r\\u009b2J\\u0007"
#define HOSTILE_TERM_STORED                                                                        \
    "\x1b[31mred\x1b[0m\nlkarchive: forged line\r\xc2\x9b"                                         \
    "2J\x07"

/* A hostile text field: prefix + (terminal escapes) + every ill-formed form. */
static void fld_hostile_text(struct sim_record *r, struct sim_field *f, const char *prefix,
                             bool term)
{
    char served[512], stored[512];
    int n = snprintf(served, sizeof served, "\"%s%s%s\"", prefix, term ? HOSTILE_TERM_SERVED : "",
                     HOSTILE_BAD_SERVED);
    int m = snprintf(stored, sizeof stored, "%s%s%s", prefix, term ? HOSTILE_TERM_STORED : "",
                     HOSTILE_BAD_STORED);

    assert(n > 0 && (size_t)n < sizeof served && m > 0 && (size_t)m < sizeof stored);
    fld_raw(r, f, served, (size_t)n, stored, (size_t)m, NULL);
}

/* Unknown members whose keys and values are not UTF-8 (and a NUL, lone surrogates). */
static void fld_hostile_unknown(struct sim_record *r)
{
    /* the key is also a log line ("new field from the API"): terminal escapes, a newline */
    struct sim_field *f =
        rec_add(r, "h\xff\\u0000k\\uDC00ey\xe0\x80|\\u001b[2J\x1b[0m\\nlkarchive: forged line", -1);

    f->extra_key =
        "h\\ufffd\\ufffdk\\ufffdey\\ufffd\\ufffd|\\u001b[2J\\u001b[0m\\nlkarchive: forged line";
    fld_raw(r, f, "\"v" HOSTILE_BAD_SERVED "\"", strlen("\"v" HOSTILE_BAD_SERVED "\""), NULL, 0,
            "\"v" HOSTILE_BAD_EXTRA "\"");
    f = rec_add(r, "hostileNested", -1);
    fld_raw(r, f, "{\"k\\uD800\":[\"\xff\",\"\\u0000\"],\"n\":1e1000000,\"m\":-1.5e-3}",
            strlen("{\"k\\uD800\":[\"\xff\",\"\\u0000\"],\"n\":1e1000000,\"m\":-1.5e-3}"), NULL, 0,
            "{\"k\\ufffd\":[\"\\ufffd\",\"\\ufffd\"],\"n\":\"1e1000000\",\"m\":-1.5e-3}");
}

static enum ts_form ts_form_of(const struct sim_dataset *ds, uint64_t seed, unsigned tag)
{
    static const enum ts_form forms[] = {TS_MILLIS, TS_PLAIN,  TS_MILLIS,        TS_NANOS,
                                         TS_OFFSET, TS_OBJECT, TS_OBJECT_STRSEC, TS_EPOCH};

    if (!quirk(ds, SIM_Q_TIMESTAMP_FORMS))
        return TS_MILLIS;
    return forms[draw(seed, tag, sizeof forms / sizeof forms[0])];
}

/* A set timestamp in the given form; the column holds the instant as served. */
static void fld_ts(struct sim_record *r, struct sim_field *f, const struct sim_dataset *ds,
                   uint64_t seed, unsigned tag, struct sim_time t)
{
    enum ts_form form = ts_form_of(ds, seed, tag);
    char civil[20], frac[11];
    int64_t shown;
    uint32_t nsec = (uint32_t)t.nsec;
    int digits = 0;
    size_t mark = r->len;
    bool nanos_first;

    switch (form) {
    case TS_MILLIS:
    case TS_OFFSET:
        digits = 3;
        nsec = nsec / 1000000 * 1000000;
        break;
    case TS_NANOS:
    case TS_OBJECT:
    case TS_OBJECT_STRSEC:
        digits = 9;
        break;
    case TS_PLAIN:
    case TS_EPOCH:
        nsec = 0;
        break;
    }
    frac[0] = '.';
    put_digits(frac + 1, nsec, 9);
    if (form == TS_OBJECT || form == TS_OBJECT_STRSEC) {
        /* protobuf Timestamp object; the member order is itself shuffled sometimes */
        nanos_first = quirk(ds, SIM_Q_SHUFFLED_KEYS) && one_in(seed, tag + 1000, 2);
        rec_cats(r, "{");
        if (nanos_first) {
            rec_cats(r, "\"nanos\":");
            rec_cat_u64(r, nsec);
            rec_cats(r, ",");
        }
        rec_cats(r, form == TS_OBJECT ? "\"seconds\":" : "\"seconds\":\"");
        rec_cat_u64(r, (uint64_t)t.sec);
        if (form == TS_OBJECT_STRSEC)
            rec_cats(r, "\"");
        if (!nanos_first) {
            rec_cats(r, ",\"nanos\":");
            rec_cat_u64(r, nsec);
        }
        rec_cats(r, "}");
    } else if (form == TS_EPOCH) {
        rec_cat_u64(r, (uint64_t)t.sec);
    } else {
        shown = form == TS_OFFSET ? t.sec + 2 * 3600 : t.sec;
        put_civil(civil, shown, 'T');
        rec_cat(r, "\"", 1);
        rec_cat(r, civil, 19);
        if (digits > 0)
            rec_cat(r, frac, (size_t)digits + 1);
        rec_cats(r, form == TS_OFFSET ? "+02:00\"" : "Z\"");
    }
    set_json(r, f, mark);
    mark = r->len;
    put_civil(civil, t.sec, ' ');
    rec_cat(r, civil, 19);
    if (digits > 0)
        rec_cat(r, frac, (size_t)digits + 1);
    rec_cats(r, "+00");
    set_col(r, f, mark);
}

/* A timestamp that is not set: absent by default, else one of the "not set" forms. */
static void fld_unset(struct sim_record *r, struct sim_field *f, const struct sim_dataset *ds,
                      uint64_t seed, unsigned tag)
{
    static const char *const forms[] = {
        NULL, "null", "\"\"", "\"0001-01-01T00:00:00Z\"", "{\"seconds\":0,\"nanos\":0}", "0"};
    size_t mark = r->len;
    const char *form = NULL;

    if (quirk(ds, SIM_Q_ZERO_TIMESTAMPS))
        form = forms[draw(seed, tag, sizeof forms / sizeof forms[0])];
    if (form != NULL) {
        rec_cats(r, form);
        set_json(r, f, mark);
    }
}

/* A byte count: a JSON number, or with int64-strings sometimes a string, some above 2^53. */
static void fld_bytes(struct sim_record *r, struct sim_field *f, const struct sim_dataset *ds,
                      uint64_t seed, unsigned value_tag, unsigned str_tag, unsigned big_tag)
{
    uint64_t v = draw(seed, value_tag, 10000000000ull);
    bool as_string = false;

    if (quirk(ds, SIM_Q_INT64_STRINGS) && one_in(seed, str_tag, 3)) {
        as_string = true;
        if (one_in(seed, big_tag, 3))
            v = 9007199254740993ull + draw(seed, value_tag, 1000000);
    }
    fld_u64(r, f, v, as_string);
}

/* The string literal of an odd-strings fragment for this record, or NULL. */
static const char *odd_fragment(const struct sim_dataset *ds, uint64_t seed, unsigned tag,
                                uint64_t n)
{
    if (!quirk(ds, SIM_Q_ODD_STRINGS) || !one_in(seed, tag, n))
        return NULL;
    return ODD_FRAGMENTS[draw(seed, tag + 2000, N_ODD)];
}

/* "prefix<n>" or "prefix<n><sep><fragment>" as a JSON string field */
static void fld_named(struct sim_record *r, struct sim_field *f, const char *prefix, uint64_t n,
                      const char *sep, const char *fragment)
{
    char lit[256];
    int len;

    len = snprintf(lit, sizeof lit, "%s%llu%s%s", prefix, (unsigned long long)n,
                   fragment != NULL ? sep : "", fragment != NULL ? fragment : "");
    assert(len > 0 && (size_t)len < sizeof lit);
    fld_string(r, f, lit, (size_t)len);
}

/* ---- sessions ----------------------------------------------------------------------------- */

static void make_id(char out[16], const char *prefix, uint64_t rnd, uint64_t key, uint64_t code)
{
    uint64_t rv = rnd % B62_6;
    uint64_t enc = (code + sim_hash(key, rv) % B62_6) % B62_6;
    int i;

    memcpy(out, prefix, 3);
    for (i = 0; i < 6; i++) {
        out[3 + 2 * i] = ALNUM[rv % 62];
        rv /= 62;
        out[4 + 2 * i] = ALNUM[enc % 62];
        enc /= 62;
    }
    out[15] = '\0';
}

/* The code make_id hid in id, or -1 when id is not of that form. */
static int64_t id_code(const char *id, const char *prefix, uint64_t key)
{
    uint64_t rv = 0, enc = 0;
    const char *c;
    int i;

    if (strlen(id) != 15 || memcmp(id, prefix, 3) != 0)
        return -1;
    for (i = 5; i >= 0; i--) {
        c = strchr(ALNUM, id[3 + 2 * i]);
        if (c == NULL || *c == '\0')
            return -1;
        rv = rv * 62 + (uint64_t)(c - ALNUM);
        c = strchr(ALNUM, id[4 + 2 * i]);
        if (c == NULL || *c == '\0')
            return -1;
        enc = enc * 62 + (uint64_t)(c - ALNUM);
    }
    return (int64_t)((enc + B62_6 - sim_hash(key, rv) % B62_6) % B62_6);
}

void sim_session_init(struct sim_session *out, const struct sim_dataset *ds, size_t project,
                      int64_t day, uint32_t index)
{
    uint64_t pseed = ds->project_seeds[project];
    uint64_t seed = sim_hash(sim_hash(pseed, (uint64_t)day), index);
    uint64_t length;
    uint32_t np, total, pmean = ds->participants, cmean = ds->connections;
    uint32_t day_sessions = sim_dataset_sessions(ds, project, day);

    memset(out, 0, sizeof *out);
    out->ds = ds;
    out->project = project;
    out->day = day;
    out->index = index;
    out->seed = seed;
    make_id(out->id, "RM_", sim_hash(seed, T_ID), pseed, ((uint64_t)day << 18) | index);
    /* the only input that depends on `today` */
    out->active = day == ds->today && (uint64_t)index + ds->active_today >= day_sessions;
    out->huge = quirk(ds, SIM_Q_ODD_STRINGS) && day_sessions > 0 &&
                index == draw(sim_hash(pseed, (uint64_t)day), T_HUGE, day_sessions);
    /* a room per session: the day and the index, which no other session of the project has */
    out->room =
        ds->room_names == 0 ? (uint64_t)day * 1000000u + index : draw(seed, T_ROOM, ds->room_names);
    if (ds->hostile) {
        int64_t offset = ds->today - day;

        if (index == 0)
            out->hostile = offset % 2 == 0 ? SIM_H_STRINGS : SIM_H_NUMBERS;
        else if (index == 1 && offset >= 1 && offset <= 4)
            out->hostile = offset == 1   ? SIM_H_DOT
                           : offset == 2 ? SIM_H_DOTDOT
                           : offset == 3 ? SIM_H_MISMATCH
                                         : SIM_H_ID;
        if (out->hostile == SIM_H_DOT || out->hostile == SIM_H_DOTDOT)
            strcpy(out->id, out->hostile == SIM_H_DOT ? "." : "..");
        if (out->hostile == SIM_H_ID)
            strcpy(out->id, SIM_HOSTILE_ID);
    }
    /* created before 12:00 UTC on every day, so the rule needs no `today` */
    out->created.sec = day * DAY_SECONDS + (int64_t)draw(seed, T_CREATED, DAY_SECONDS / 2);
    out->created.nsec = (int32_t)draw(seed, T_CREATED_NS, NSEC_PER_SEC);
    if (one_in(seed, T_LENGTH_LONG, 10))
        length = 60 + draw(seed, T_LENGTH, 14 * 3600); /* some run past midnight */
    else
        length = 60 + draw(seed, T_LENGTH, 4 * 3600);
    if (ds->overnight > 0 && one_in(seed, T_OVERNIGHT, ds->overnight)) {
        /* --overnight: ends between 00:01 and 06:00 of the next day */
        length = (uint64_t)((day + 1) * DAY_SECONDS - out->created.sec) + 60 +
                 draw(seed, T_OVERNIGHT_END, 6 * 3600 - 60);
    }
    out->start = out->created;
    if (ds->revision > 0 && one_in(sim_hash(seed, ds->revision), T_REVISED, 3)) {
        /* --revision: the session as the API tells it on a later night: another length
         * (its list entry changes, so its details are fetched again) and a startTime up to
         * 18 h from createdAt, often on the day before or after */
        uint64_t rev = sim_hash(seed, ds->revision);
        length = 60 + draw(rev, T_REV_LENGTH, 20 * 3600); /* often past midnight */
        out->start.sec += (int64_t)draw(rev, T_REV_START, 2 * 18 * 3600 + 1) - 18 * 3600;
    }
    out->ended.sec = out->created.sec + (int64_t)length;
    out->ended.nsec = (int32_t)draw(seed, T_ENDED_NS, NSEC_PER_SEC);
    if (ds->exact_counts) {
        /* --exact-counts: fixed sizes, e.g. a details answer with exactly 10,000 participants */
        np = pmean;
        total = np * (cmean / pmean > 1 ? cmean / pmean : 1);
    } else {
        np = 1 + (uint32_t)draw(seed, T_NP, 2 * (uint64_t)pmean - 1);
        if (ds->empty_sessions > 0 && one_in(seed, T_EMPTY, ds->empty_sessions))
            np = 0; /* --empty-sessions: nobody ever joined */
        /* connections averaging cmean per session: np * cmean / pmean, at least one each */
        total = (uint32_t)(((uint64_t)cmean * np + pmean / 2) / pmean);
    }
    out->n_participants = np;
    out->n_connections = total < np ? np : total;
}

int sim_session_lookup(struct sim_session *out, const struct sim_dataset *ds, size_t project,
                       const char *id)
{
    int64_t code = id_code(id, "RM_", ds->project_seeds[project]);
    int64_t day;
    uint32_t index;

    if (ds->hostile &&
        (strcmp(id, ".") == 0 || strcmp(id, "..") == 0 || strcmp(id, SIM_HOSTILE_ID) == 0)) {
        /* index 1 of today-1 / today-2 / today-4 */
        day = ds->today - (id[0] != '.' ? 4 : id[1] == '.' ? 2 : 1);
        if (day < ds->first_day || sim_dataset_sessions(ds, project, day) < 2)
            return -1;
        sim_session_init(out, ds, project, day, 1);
        return 0;
    }
    if (code < 0)
        return -1;
    day = code >> 18;
    index = (uint32_t)(code & 0x3ffff);
    if (index >= sim_dataset_sessions(ds, project, day)) /* 0 outside the dataset's days */
        return -1;
    sim_session_init(out, ds, project, day, index);
    return strcmp(out->id, id) == 0 ? 0 : -1;
}

static uint64_t order_seed(const struct sim_dataset *ds, uint64_t seed, unsigned tag)
{
    /* two records in three get shuffled keys, the rest keep the canonical order */
    if (!quirk(ds, SIM_Q_SHUFFLED_KEYS) || one_in(seed, tag, 3))
        return 0;
    return sim_hash(seed, T_SHUFFLE) | 1;
}

static void fld_room_name(struct sim_record *r, struct sim_field *f, const struct sim_session *s)
{
    size_t mark, i;
    char *tmp;
    size_t unit = sizeof HUGE_UNIT - 1;

    if (!s->huge) {
        fld_named(r, f, s->ds->room_names == 0 ? "call-" : "room-", s->room, " ",
                  odd_fragment(s->ds, s->seed, T_ODD_ROOM, 3));
        return;
    }
    /* the day's huge room name, well below 1 MiB */
    tmp = malloc(32 + unit * HUGE_REPEATS);
    if (tmp == NULL) {
        r->failed = true;
        return;
    }
    mark = (size_t)snprintf(tmp, 32, "room-huge-%llu-", (unsigned long long)s->room);
    for (i = 0; i < HUGE_REPEATS; i++) {
        memcpy(tmp + mark, HUGE_UNIT, unit);
        mark += unit;
    }
    fld_string(r, f, tmp, mark);
    free(tmp);
}

int sim_build_list_session(struct sim_record *r, const struct sim_session *s)
{
    const struct sim_dataset *ds = s->ds;
    uint64_t seed = s->seed;
    struct sim_field *f;
    bool bad = quirk(ds, SIM_Q_BAD_VALUES), nulls = quirk(ds, SIM_Q_NULLS);

    rec_reset(r, order_seed(ds, seed, T_ORDER_LIST));
    if (s->hostile != SIM_H_NONE)
        r->order_seed = 0; /* the order of repeated keys matters */
    fld_plain(r, rec_add(r, "sessionId", SC_SESSION_ID), s->id);
    if (s->hostile == SIM_H_STRINGS)
        fld_hostile_text(r, rec_add(r, "roomName", SC_ROOM_NAME), "room-", true);
    else
        fld_room_name(r, rec_add(r, "roomName", SC_ROOM_NAME), s);
    fld_ts(r, rec_add(r, "createdAt", SC_CREATED_AT), ds, seed, T_FORM_CREATED, s->created);
    f = rec_add(r, "endedAt", SC_ENDED_AT);
    if (s->active)
        fld_unset(r, f, ds, seed, T_UNSET_ENDED);
    else
        fld_ts(r, f, ds, seed, T_FORM_ENDED, s->ended);
    /* lastActive stays a real time even while the session is active */
    f = rec_add(r, "lastActive", SC_LAST_ACTIVE);
    if (bad && one_in(seed, T_BAD_LAST, 8))
        fld_bad(r, f, "\"yesterday\"");
    else if (nulls && one_in(seed, T_NULL_LAST, 6))
        fld_null(r, f);
    else
        fld_ts(r, f, ds, seed, T_FORM_LAST, s->ended);
    f = rec_add(r, "bandwidthIn", SC_BANDWIDTH_IN);
    if (s->hostile == SIM_H_NUMBERS)
        fld_unholdable(r, f, "99999999999999999999", 20); /* beyond bigint */
    else if (bad && one_in(seed, T_BAD_BW_IN, 8))
        fld_bad(r, f, "\"12abc\"");
    else
        fld_bytes(r, f, ds, seed, T_BW_IN, T_STR_BW_IN, T_BIG_BW_IN);
    f = rec_add(r, "bandwidthOut", SC_BANDWIDTH_OUT);
    if (s->hostile == SIM_H_NUMBERS)
        fld_unholdable(r, f, "-12345", 6); /* a negative byte count */
    else if (nulls && one_in(seed, T_NULL_BW_OUT, 6))
        fld_null(r, f);
    else
        fld_bytes(r, f, ds, seed, T_BW_OUT, T_STR_BW_OUT, T_BIG_BW_OUT);
    f = rec_add(r, "egress", SC_EGRESS);
    if (s->hostile == SIM_H_NUMBERS) {
        /* repeated: an unconvertible value, then a good one; the column takes the last, and
         * extra, which held the first, holds the last too (as a string: the original text) */
        fld_bad(r, f, "\"active\"");
        fld_raw(r, rec_add(r, "egress", SC_EGRESS), "1", 1, "1", 1, "\"1\"");
        /* repeated: the column takes the last value */
        fld_u64(r, rec_add(r, "numParticipants", SC_NUM_PARTICIPANTS), 999, false);
        /* an unknown key repeated: every occurrence in extra, jsonb keeps the last */
        fld_unknown(r, rec_add(r, "hostileRepeated", -1), "1", NULL);
        fld_unknown(r, rec_add(r, "hostileRepeated", -1), "\"two\"", NULL);
    } else if (s->hostile == SIM_H_STRINGS) {
        fld_hostile_unknown(r);
        fld_u64(r, f, draw(seed, T_EGRESS, 3), false);
    } else if (s->hostile == SIM_H_ID) {
        /* a repeated key: a warning names the session by its id (escapes, a newline) */
        fld_u64(r, f, draw(seed, T_EGRESS, 3), false);
        fld_unknown(r, rec_add(r, "hostileRepeated", -1), "1", NULL);
        fld_unknown(r, rec_add(r, "hostileRepeated", -1), "2", NULL);
    } else if (bad && one_in(seed, T_BAD_EGRESS, 8))
        fld_bad(r, f, "\"active\"");
    else
        fld_u64(r, f, draw(seed, T_EGRESS, 3),
                quirk(ds, SIM_Q_INT64_STRINGS) && one_in(seed, T_STR_EGRESS, 3));
    fld_u64(r, rec_add(r, "numParticipants", SC_NUM_PARTICIPANTS), s->n_participants, false);
    if (s->hostile == SIM_H_NUMBERS) /* beyond integer */
        fld_unholdable(r, rec_add(r, "numActiveParticipants", SC_NUM_ACTIVE), "2147483648", 10);
    else
        fld_u64(r, rec_add(r, "numActiveParticipants", SC_NUM_ACTIVE), s->active ? 1 : 0, false);
    if (quirk(ds, SIM_Q_UNKNOWN_FIELDS)) {
        if (one_in(seed, T_UNK_AGENT, 3)) {
            f = rec_add(r, "agentCount", -1);
            fld_unknown(r, f, draw(seed, T_AGENTS, 2) ? "2" : "0", NULL);
        }
        if (one_in(seed, T_UNK_FEATURES, 3))
            fld_unknown(r, rec_add(r, "features", -1),
                        "{\"x\":[1,\"a\",null,true,1.5],\"noiseCancellation\":{\"on\":false}}",
                        NULL);
    }
    return r->failed ? -1 : 0;
}

int sim_build_details(struct sim_record *r, const struct sim_session *s)
{
    const struct sim_dataset *ds = s->ds;
    uint64_t seed = s->seed;
    struct sim_field *f;
    char minutes[32];
    /* at most everyone connected for the whole session, in hundredths of a minute */
    uint64_t cents =
        draw(seed, T_MINUTES,
             (uint64_t)(s->ended.sec - s->created.sec) * s->n_participants * 100 / 60 + 1);

    rec_reset(r, s->hostile != SIM_H_NONE ? 0 : order_seed(ds, seed, T_ORDER_DETAILS));
    if (s->hostile == SIM_H_MISMATCH) {
        /* a details answer about another session: nothing of it may be stored */
        /* its id cut after 14 characters, then terminal escapes and a newline: the error
         * names it, in the log and in the ledger that status prints */
        char other[64];

        snprintf(other, sizeof other, "%.14s\\u001b[2J\\nlkarchive: forged line", s->id);
        fld_plain(r, rec_add(r, "roomId", -1), other);
    } else {
        fld_plain(r, rec_add(r, "roomId", -1), s->id);
    }
    /* the list's roomName is the column; a null here must not erase it */
    f = rec_add(r, "roomName", -1);
    if (s->hostile == SIM_H_STRINGS)
        fld_hostile_text(r, f, "room-", true);
    else if (quirk(ds, SIM_Q_NULLS) && one_in(seed, T_NULL_ROOM, 6))
        fld_null(r, f);
    else
        fld_room_name(r, f, s);
    if (s->hostile == SIM_H_NUMBERS) /* beyond bigint, as a string */
        fld_unholdable(r, rec_add(r, "bandwidth", SC_BANDWIDTH), "\"18446744073709551616\"", 22);
    else
        fld_bytes(r, rec_add(r, "bandwidth", SC_BANDWIDTH), ds, seed, T_BW, T_STR_BW, T_BIG_BW);
    fld_ts(r, rec_add(r, "startTime", SC_START_TIME), ds, seed, T_FORM_START, s->start);
    f = rec_add(r, "endTime", SC_END_TIME);
    if (s->active)
        fld_unset(r, f, ds, seed, T_UNSET_END);
    else
        fld_ts(r, f, ds, seed, T_FORM_END, s->ended);
    fld_u64(r, rec_add(r, "numParticipants", SC_DETAILS_NUM_PARTICIPANTS), s->n_participants,
            false);
    /* up to two fraction digits, trailing zeros dropped: "123.45", "120.5", "17" */
    if (cents % 100 == 0)
        snprintf(minutes, sizeof minutes, "%llu", (unsigned long long)(cents / 100));
    else if (cents % 10 == 0)
        snprintf(minutes, sizeof minutes, "%llu.%u", (unsigned long long)(cents / 100),
                 (unsigned)(cents % 100 / 10));
    else
        snprintf(minutes, sizeof minutes, "%llu.%02u", (unsigned long long)(cents / 100),
                 (unsigned)(cents % 100));
    if (s->hostile == SIM_H_NUMBERS && (ds->today - s->day) % 4 == 1) {
        /* more digits after the point than numeric holds (16383) */
        char *digits = malloc(2 + 20000 + 1);

        if (digits == NULL) {
            r->failed = true;
        } else {
            memcpy(digits, "0.", 2);
            for (size_t i = 0; i < 20000; i++)
                digits[2 + i] = (char)('0' + (i * 7 + 3) % 10);
            digits[2 + 20000] = '\0';
            fld_unholdable(r, rec_add(r, "connectionMinutes", SC_CONNECTION_MINUTES), digits,
                           2 + 20000);
            free(digits);
        }
    } else if (s->hostile == SIM_H_NUMBERS) { /* a first digit above 10^131071 */
        fld_unholdable(r, rec_add(r, "connectionMinutes", SC_CONNECTION_MINUTES), "1e200000", 8);
    } else {
        fld_number(r, rec_add(r, "connectionMinutes", SC_CONNECTION_MINUTES), minutes,
                   quirk(ds, SIM_Q_INT64_STRINGS) && one_in(seed, T_STR_MINUTES, 3));
    }
    if (s->hostile == SIM_H_NUMBERS) /* an unknown number jsonb cannot hold */
        fld_raw(r, rec_add(r, "hostileHugeNumber", -1), "1e1000000", 9, NULL, 0, "\"1e1000000\"");
    f = rec_add(r, "participants", -1);
    f->nest = SIM_NEST_PARTICIPANTS;
    f->present = true;
    /* --hostile numbers: the array repeated, every participant twice (stored once) */
    if (s->hostile == SIM_H_NUMBERS) {
        f = rec_add(r, "participants", -1);
        f->nest = SIM_NEST_PARTICIPANTS;
        f->present = true;
    }
    if (quirk(ds, SIM_Q_UNKNOWN_FIELDS)) {
        if (one_in(seed, T_UNK_RECORDING, 3))
            fld_unknown(r, rec_add(r, "recordingMinutes", -1), "\"12.5\"", NULL);
        if (one_in(seed, T_UNK_METADATA, 4))
            fld_unknown(r, rec_add(r, "roomMetadata", -1),
                        "{\"source\":\"sim\",\"tags\":[\"a\",\"b\"],\"depth\":{\"n\":-3e2}}", NULL);
    }
    return r->failed ? -1 : 0;
}

/* --long-identity: bytes of the one long identity (PostgreSQL's btree holds ~2,700) */
#define LONG_IDENTITY_BYTES 20000

int sim_build_participant(struct sim_record *r, struct sim_participant *out,
                          const struct sim_session *s, uint32_t k)
{
    const struct sim_dataset *ds = s->ds;
    uint64_t seed = sim_hash(sim_hash(s->seed, T_PART), k);
    uint64_t span = (uint64_t)(s->ended.sec - s->created.sec);
    uint32_t np = s->n_participants, extra = s->n_connections - np, rot;
    struct sim_field *f;
    const char *fragment, *name_fragment = NULL;
    bool nulls = quirk(ds, SIM_Q_NULLS), name_null = false;

    memset(out, 0, sizeof *out);
    out->k = k;
    out->seed = seed;
    out->active = s->active && k == np - 1;
    out->joined.sec = s->created.sec + (int64_t)draw(seed, T_JOINED, span / 2 + 1);
    out->joined.nsec = (int32_t)draw(seed, T_JOINED_NS, NSEC_PER_SEC);
    out->left.sec = out->joined.sec + 1 +
                    (int64_t)draw(seed, T_LEFT, (uint64_t)(s->ended.sec - out->joined.sec));
    out->left.nsec = (int32_t)draw(seed, T_LEFT_NS, NSEC_PER_SEC);
    /* each participant has one connection, the session's extra ones spread evenly */
    rot = (uint32_t)draw(s->seed, T_CONN_ROTATE, np);
    out->n_connections = 1 + extra / np + ((k + rot) % np < extra % np ? 1 : 0);

    rec_reset(r, s->hostile != SIM_H_NONE ? 0 : order_seed(ds, seed, T_ORDER_PART));
    fragment = odd_fragment(ds, seed, T_ODD_IDENTITY, 4);
    if (s->hostile == SIM_H_STRINGS) {
        static const char attrs[] = "{\"k\x80\":\"\\u0000\xff\"}";
        char prefix[32];

        snprintf(prefix, sizeof prefix, "user-%u-", (unsigned)k);
        fld_hostile_text(r, rec_add(r, "participantIdentity", PC_IDENTITY), prefix, true);
        snprintf(prefix, sizeof prefix, "User %u ", (unsigned)k);
        fld_hostile_text(r, rec_add(r, "participantName", PC_NAME), prefix, false);
        fld_raw(r, rec_add(r, "hostileAttributes", -1), attrs, sizeof attrs - 1, NULL, 0,
                "{\"k\\ufffd\":\"\\ufffd\\ufffd\"}");
    } else {
        /* --hostile numbers: repeated, a decoy first and the identity after the connections */
        if (ds->long_identity && s->day == ds->today - 1 && s->index == 1 && k == 0) {
            char *long_id = malloc(LONG_IDENTITY_BYTES);
            if (long_id == NULL) {
                r->failed = true;
            } else {
                /* letters drawn from the seed: an index entry cannot compress them away */
                memcpy(long_id, "user-long-", 10);
                for (size_t i = 10; i < LONG_IDENTITY_BYTES; i++)
                    long_id[i] =
                        "abcdefghijklmnopqrstuvwxyz0123456789"[draw(seed, (unsigned)i, 36)];
                fld_string(r, rec_add(r, "participantIdentity", PC_IDENTITY), long_id,
                           LONG_IDENTITY_BYTES);
                free(long_id);
            }
        } else {
            fld_named(r, rec_add(r, "participantIdentity", PC_IDENTITY),
                      s->hostile == SIM_H_NUMBERS ? "decoy-" : "user-", k, "-", fragment);
        }
        if (s->hostile == SIM_H_NUMBERS) { /* repeated: the last wins */
            fld_plain(r, rec_add(r, "participantName", PC_NAME), "first name");
            fld_plain(r, rec_add(r, "region", PC_REGION), "first-region");
        }
        f = rec_add(r, "participantName", PC_NAME);
        name_null = nulls && one_in(seed, T_NULL_NAME, 6);
        name_fragment = odd_fragment(ds, seed, T_ODD_NAME, 3);
        if (name_null)
            fld_null(r, f);
        else
            fld_named(r, f, "User ", k, " ", name_fragment);
        out->echo = ds->identity_echo && s->hostile == SIM_H_NONE && fragment == NULL;
    }
    fld_plain(r, rec_add(r, "roomId", -1), s->id);
    fld_ts(r, rec_add(r, "joinedAt", PC_JOINED_AT), ds, seed, T_FORM_JOINED, out->joined);
    f = rec_add(r, "leftAt", PC_LEFT_AT);
    if (out->active)
        fld_unset(r, f, ds, seed, T_UNSET_LEFT);
    else
        fld_ts(r, f, ds, seed, T_FORM_LEFT, out->left);
    f = rec_add(r, "region", PC_REGION);
    if (nulls && one_in(seed, T_NULL_REGION, 6))
        fld_null(r, f);
    else
        fld_plain(r, f, REGIONS[draw(seed, T_REGION, sizeof REGIONS / sizeof REGIONS[0])]);
    fld_plain(r, rec_add(r, "connectionType", PC_CONNECTION_TYPE),
              CONNECTION_TYPES[draw(seed, T_CTYPE, 3)]);
    f = rec_add(r, "sdkVersion", PC_SDK_VERSION);
    if (nulls && one_in(seed, T_NULL_SDK, 6))
        fld_null(r, f);
    else
        fld_plain(r, f,
                  SDK_VERSIONS[draw(seed, T_SDK, sizeof SDK_VERSIONS / sizeof SDK_VERSIONS[0])]);
    f = rec_add(r, "publishedSources", -1);
    f->nest = SIM_NEST_PUBLISHED;
    f->present = true;
    f = rec_add(r, "sessions", -1);
    f->nest = SIM_NEST_CONNECTIONS;
    f->present = true;
    if (s->hostile == SIM_H_NUMBERS)
        fld_named(r, rec_add(r, "participantIdentity", PC_IDENTITY), "user-", k, "-", fragment);
    if (out->echo) {
        char json[160];
        snprintf(json, sizeof json, "{\"email\":\"user-%u\",\"name\":\"%s%u\"}", (unsigned)k,
                 name_null || name_fragment ? "nobody-" : "User ", (unsigned)k);
        fld_unknown(r, rec_add(r, "attributes", -1), json, NULL);
        snprintf(json, sizeof json, "\"{\\\"owner\\\":\\\"user-%u\\\"}\"", (unsigned)k);
        fld_unknown(r, rec_add(r, "metadata", -1), json, NULL);
    } else if (quirk(ds, SIM_Q_UNKNOWN_FIELDS) && one_in(seed, T_UNK_ATTRS, 3)) {
        f = rec_add(r, "attributes", -1);
        fragment = odd_fragment(ds, seed, T_UNK_ATTRS + 3000, 2);
        if (fragment == NULL) {
            fld_unknown(r, f, "{\"k\":\"v\",\"n\":\"1\"}", NULL);
        } else {
            /* a string with escapes inside extra: jsonb holds it decoded, NUL as U+FFFD */
            char served[256], stored[256 * 6], decoded[256];
            size_t n = sim_json_unescape(decoded, fragment, strlen(fragment));

            snprintf(served, sizeof served, "{\"k\":\"%s\"}", fragment);
            memcpy(stored, "{\"k\":\"", 6);
            n = 6 + sim_json_escape(stored + 6, decoded, n);
            memcpy(stored + n, "\"}", 3);
            fld_unknown(r, f, served, stored);
        }
    }
    return r->failed ? -1 : 0;
}

int sim_build_published(struct sim_record *r, const struct sim_session *s,
                        const struct sim_participant *p)
{
    const struct sim_dataset *ds = s->ds;
    uint64_t seed = p->seed;
    uint64_t bits = sim_hash(seed, T_PUB_BITS);
    int bad = -1, null = -1, i;
    struct sim_field *f;

    if (quirk(ds, SIM_Q_BAD_VALUES) && one_in(seed, T_BAD_PUB, 8))
        bad = (int)draw(seed, T_BAD_PUB + 4000, 4);
    if (quirk(ds, SIM_Q_NULLS) && one_in(seed, T_NULL_PUB, 6))
        null = (int)draw(seed, T_NULL_PUB + 4000, 4);
    rec_reset(r, order_seed(ds, seed, T_ORDER_PUB));
    for (i = 0; i < 4; i++) {
        f = rec_add(r, PUBLISHED_KEYS[i], PC_CAMERA + i);
        if (i == bad)
            fld_bad(r, f, "\"yes\"");
        else if (i == null)
            fld_null(r, f);
        else
            /* microphones mostly on, screen share mostly off */
            fld_bool(r, f,
                     i == 0   ? (bits & 1) != 0
                     : i == 1 ? (bits & 6) != 0
                     : i == 2 ? (bits & 0x38) == 0
                              : (bits & 0x38) == 0 && (bits & 0x40) != 0);
    }
    if (quirk(ds, SIM_Q_UNKNOWN_FIELDS) && one_in(seed, T_UNK_DATATRACK, 4))
        fld_unknown(r, rec_add(r, "dataTrack", -1), "true", NULL);
    return r->failed ? -1 : 0;
}

int sim_build_connection(struct sim_record *r, const struct sim_session *s,
                         const struct sim_participant *p, uint32_t c)
{
    const struct sim_dataset *ds = s->ds;
    uint64_t seed = sim_hash(sim_hash(p->seed, T_CONN), c);
    uint64_t span = (uint64_t)(p->left.sec - p->joined.sec);
    uint32_t n = p->n_connections;
    struct sim_time joined, left;
    struct sim_field *f;
    char id[16];

    /* the participant's time cut in n consecutive slots, one per connection */
    joined.sec = p->joined.sec + (int64_t)(span * c / n);
    joined.nsec = c == 0 ? p->joined.nsec : (int32_t)draw(seed, T_CONN_JOIN_NS, NSEC_PER_SEC);
    left.sec = p->joined.sec + (int64_t)(span * (c + 1) / n);
    left.nsec = c == n - 1 ? p->left.nsec : (int32_t)draw(seed, T_CONN_LEFT_NS, NSEC_PER_SEC);
    if (c == n - 1)
        left.sec = p->left.sec;
    if (left.sec == joined.sec && left.nsec < joined.nsec)
        left.nsec = joined.nsec;
    make_id(id, "PA_", sim_hash(seed, T_CONN_ID), s->seed, ((uint64_t)p->k << 12) | c);

    rec_reset(r, order_seed(ds, seed, T_ORDER_CONN));
    fld_plain(r, rec_add(r, "sessionId", CC_CONNECTION_ID), id);
    fld_ts(r, rec_add(r, "joinedAt", CC_JOINED_AT), ds, seed, T_FORM_JOINED, joined);
    f = rec_add(r, "leftAt", CC_LEFT_AT);
    if (p->active && c == n - 1)
        fld_unset(r, f, ds, seed, T_UNSET_LEFT);
    else
        fld_ts(r, f, ds, seed, T_FORM_LEFT, left);
    if (quirk(ds, SIM_Q_UNKNOWN_FIELDS) && one_in(seed, T_UNK_TRANSPORT, 3))
        fld_unknown(r, rec_add(r, "transport", -1), "\"udp\"", NULL);
    if (p->echo) {
        char json[96];
        snprintf(json, sizeof json, "\"user-%u\"", (unsigned)p->k);
        fld_unknown(r, rec_add(r, "participantIdentity", -1), json, NULL);
        snprintf(json, sizeof json, "{\"sdk\":\"js\",\"user\":\"user-%u\"}", (unsigned)p->k);
        fld_unknown(r, rec_add(r, "clientInfo", -1), json, NULL);
    }
    return r->failed ? -1 : 0;
}

bool sim_list_wrapper_extra(const struct sim_dataset *ds, uint64_t page_seed, bool *first)
{
    *first = quirk(ds, SIM_Q_SHUFFLED_KEYS) && one_in(page_seed, T_PAGE_ORDER, 2);
    return quirk(ds, SIM_Q_UNKNOWN_FIELDS);
}

/* ---- expected rows ---------------------------------------------------------------------- */

struct col {
    const char *p;
    size_t n;
    bool set;
};

struct strbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void sb_cat(struct strbuf *b, const char *p, size_t n)
{
    size_t cap;
    char *np;

    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n)
            cap *= 2;
        np = realloc(b->p, cap);
        if (np == NULL) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void sb_cats(struct strbuf *b, const char *s)
{
    sb_cat(b, s, strlen(s));
}

static void fill_cols(struct col *cols, const struct sim_record *r)
{
    size_t i;
    const struct sim_field *f;

    for (i = 0; i < r->n_fields; i++) {
        f = &r->fields[i];
        if (f->col < 0)
            continue;
        cols[f->col].set = f->present && f->col_set;
        cols[f->col].p = r->buf + f->col_off;
        cols[f->col].n = f->col_len;
    }
}

/* ",\"key\":value" for every extra member of r (first: no leading comma) */
static void add_extras(struct strbuf *b, const struct sim_record *r, bool *first)
{
    size_t i;
    const struct sim_field *f;

    for (i = 0; i < r->n_fields; i++) {
        f = &r->fields[i];
        if (!f->present || !f->in_extra)
            continue;
        if (!*first)
            sb_cats(b, ",");
        *first = false;
        sb_cats(b, "\"");
        sb_cats(b, f->extra_key != NULL ? f->extra_key : f->key);
        sb_cats(b, "\":");
        sb_cat(b, r->buf + f->extra_off, f->extra_len);
    }
}

/* One COPY TEXT row: tab-separated, \N for NULL, backslash escapes. */
static void write_row(FILE *fp, const struct col *cols, size_t n)
{
    size_t i, j;
    unsigned char ch;

    for (i = 0; i < n; i++) {
        if (i > 0)
            putc('\t', fp);
        if (!cols[i].set) {
            fputs("\\N", fp);
            continue;
        }
        for (j = 0; j < cols[i].n; j++) {
            ch = (unsigned char)cols[i].p[j];
            switch (ch) {
            case '\\':
                fputs("\\\\", fp);
                break;
            case '\t':
                fputs("\\t", fp);
                break;
            case '\n':
                fputs("\\n", fp);
                break;
            case '\r':
                fputs("\\r", fp);
                break;
            default:
                putc(ch, fp);
                break;
            }
        }
    }
    putc('\n', fp);
}

static struct col text_col(const char *s, size_t n)
{
    struct col c;

    c.p = s;
    c.n = n;
    c.set = true;
    return c;
}

struct expected_files {
    FILE *sessions, *participants, *connections;
};

static int write_session_rows(struct expected_files *out, struct sim_gen *g, struct strbuf *b,
                              const struct sim_session *s)
{
    const struct sim_dataset *ds = s->ds;
    const char *project = ds->projects[s->project];
    struct col scols[SC_COUNT], pcols[PC_COUNT], ccols[CC_COUNT];
    char day[11];
    uint32_t k, c;
    bool first, details;
    int rc = -1;

    memset(scols, 0, sizeof scols);
    sim_date_format(day, s->day);
    if (sim_build_list_session(&g->top, s) != 0)
        goto done;
    /* details goes into part: top must survive for the row */
    if (sim_build_details(&g->part, s) != 0)
        goto done;
    /* --hostile: details about another session are an error for the session: only its list
     * entry is stored (details columns NULL, no participants), as for details that fail */
    details = s->hostile != SIM_H_MISMATCH;
    scols[SC_PROJECT] = text_col(project, strlen(project));
    fill_cols(scols, &g->top);
    if (details)
        fill_cols(scols, &g->part);
    scols[SC_SESSION_ID] = text_col(s->id, strlen(s->id));
    scols[SC_LIST_DAY] = text_col(day, 10);
    b->len = 0;
    first = true;
    sb_cats(b, "{");
    add_extras(b, &g->top, &first);
    if (details)
        add_extras(b, &g->part, &first);
    sb_cats(b, "}");
    if (b->failed)
        goto done;
    scols[SC_EXTRA] = text_col(b->p, b->len);
    write_row(out->sessions, scols, SC_COUNT);

    for (k = 0; details && k < s->n_participants; k++) {
        memset(pcols, 0, sizeof pcols);
        if (sim_build_participant(&g->part, &g->p, s, k) != 0 ||
            sim_build_published(&g->pub, s, &g->p) != 0)
            goto done;
        pcols[PC_PROJECT] = text_col(project, strlen(project));
        pcols[PC_SESSION_ID] = text_col(s->id, strlen(s->id));
        fill_cols(pcols, &g->part);
        fill_cols(pcols, &g->pub);
        b->len = 0;
        first = true;
        sb_cats(b, "{");
        add_extras(b, &g->part, &first);
        {
            /* unknown or bad publishedSources members nest under their object's key */
            bool pub_first = true;
            size_t mark = b->len;

            sb_cats(b, first ? "\"publishedSources\":{" : ",\"publishedSources\":{");
            add_extras(b, &g->pub, &pub_first);
            if (pub_first)
                b->len = mark;
            else
                sb_cats(b, "}");
        }
        sb_cats(b, "}");
        if (b->failed)
            goto done;
        pcols[PC_EXTRA] = text_col(b->p, b->len);
        write_row(out->participants, pcols, PC_COUNT);

        for (c = 0; c < g->p.n_connections; c++) {
            memset(ccols, 0, sizeof ccols);
            if (sim_build_connection(&g->conn, s, &g->p, c) != 0)
                goto done;
            ccols[CC_PROJECT] = text_col(project, strlen(project));
            ccols[CC_SESSION_ID] = text_col(s->id, strlen(s->id));
            fill_cols(ccols, &g->conn);
            ccols[CC_IDENTITY] = pcols[PC_IDENTITY];
            b->len = 0;
            first = true;
            sb_cats(b, "{");
            add_extras(b, &g->conn, &first);
            sb_cats(b, "}");
            if (b->failed)
                goto done;
            ccols[CC_EXTRA] = text_col(b->p, b->len);
            write_row(out->connections, ccols, CC_COUNT);
        }
    }
    rc = 0;
done:
    return rc;
}

static FILE *open_out(const char *dir, const char *name, char *err, size_t errlen)
{
    char path[4096];
    FILE *fp;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    fp = fopen(path, "w");
    if (fp == NULL)
        snprintf(err, errlen, "could not create %s: %s", path, strerror(errno));
    else
        setvbuf(fp, NULL, _IOFBF, 1 << 20);
    return fp;
}

static int close_out(FILE *fp, const char *name, char *err, size_t errlen, int rc)
{
    if (fp == NULL)
        return rc;
    if ((ferror(fp) || fclose(fp) != 0) && rc == 0) {
        snprintf(err, errlen, "could not write %s: %s", name, strerror(errno));
        rc = -1;
    }
    return rc;
}

int sim_dataset_write_expected(const struct sim_dataset *ds, const char *dir, char *err,
                               size_t errlen)
{
    struct expected_files out = {NULL, NULL, NULL};
    struct sim_gen g;
    struct sim_session s;
    struct strbuf b = {NULL, 0, 0, false};
    size_t project;
    int64_t day;
    uint32_t index;
    int rc = -1;

    sim_gen_init(&g);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "could not create %s: %s", dir, strerror(errno));
        goto done;
    }
    out.sessions = open_out(dir, "sessions.tsv", err, errlen);
    if (out.sessions == NULL)
        goto done;
    out.participants = open_out(dir, "participants.tsv", err, errlen);
    if (out.participants == NULL)
        goto done;
    out.connections = open_out(dir, "participant_connections.tsv", err, errlen);
    if (out.connections == NULL)
        goto done;
    for (project = 0; project < ds->n_projects; project++) {
        for (day = ds->first_day; day <= ds->today; day++) {
            for (index = 0; index < sim_dataset_sessions(ds, project, day); index++) {
                sim_session_init(&s, ds, project, day, index);
                if (write_session_rows(&out, &g, &b, &s) != 0) {
                    snprintf(err, errlen, "out of memory writing the expected rows");
                    goto done;
                }
            }
        }
    }
    rc = 0;
done:
    rc = close_out(out.sessions, "sessions.tsv", err, errlen, rc);
    rc = close_out(out.participants, "participants.tsv", err, errlen, rc);
    rc = close_out(out.connections, "participant_connections.tsv", err, errlen, rc);
    free(b.p);
    sim_gen_dispose(&g);
    return rc;
}

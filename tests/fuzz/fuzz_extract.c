/* fuzz_extract.c -- libFuzzer target: any bytes, in any chunking, into both extractors, with
 * an oracle for what PostgreSQL accepts.
 *
 * The first byte picks the body kind (bit 0) and a chunk size (the other bits); the rest is
 * the body. Every record the sink receives is checked against the records.h contract and
 * against what PostgreSQL 15 would take, written here independently of src/:
 * - ids present; every text value valid UTF-8 (RFC 3629) without NUL;
 * - each column's value fits its type in sql/001_schema.sql: bigint, integer and smallint
 *   ranges in canonical decimal (byte counts not negative), numeric by PostgreSQL's own rules
 *   (a literal port of numeric.c's set_var_from_str and make_result checks), booleans "t"/"f",
 *   timestamps in the canonical "YYYY-MM-DD HH:MM:SS[.fffffffff]+00" of a real date;
 * - extra is one JSON object (yajl, strict) whose keys and strings are valid UTF-8 without
 *   NUL, without a \u escape of NUL or a surrogate, and whose numbers jsonb holds.
 * Built and run by ci/fuzz.sh with clang -fsanitize=fuzzer,address,undefined; a failed check
 * aborts, which libFuzzer reports as a crash with its input.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "error.h"
#include "extract.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void oracle_failed(const char *what, const char *value)
{
    fprintf(stderr, "oracle: %s: \"%.200s\"\n", what, value ? value : "(null)");
    abort();
}

#define CHECK(cond, what, value)                                                                   \
    do {                                                                                           \
        if (!(cond))                                                                               \
            oracle_failed((what), (value));                                                        \
    } while (0)

/* ---- text: RFC 3629 by its table, no NUL ---- */

static bool valid_utf8(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        unsigned char lo = 0x80, hi = 0xbf;

        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            n = 1;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3;
        else
            return false;
        if (c == 0xe0)
            lo = 0xa0;
        if (c == 0xed)
            hi = 0x9f;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f;
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || s[i + k] < lo || s[i + k] > hi)
                return false;
            lo = 0x80, hi = 0xbf;
        }
        i += n + 1;
    }
    return true;
}

/* ---- numbers ---- */

/* Canonical decimal integer text within [min, max]. */
static bool canonical_integer(const char *s, long long min, long long max)
{
    char *end;
    long long v;
    char again[32];

    if (s[0] == '\0' || strlen(s) > 20)
        return false;
    v = strtoll(s, &end, 10);
    if (*end != '\0' || v < min || v > max)
        return false;
    snprintf(again, sizeof again, "%lld", v);
    return strcmp(again, s) == 0; /* no leading zeros, no '+', no "-0" */
}

/* What PostgreSQL 15 numeric_in (and jsonb) accepts of a JSON-grammar number: a port of
 * set_var_from_str and the overflow checks of make_result_opt_error (NBASE 10000). */
static bool postgres_numeric(const char *s, size_t len)
{
    size_t i = 0;
    long dweight = -1, dscale = 0, ddigits = 0, digit_at_first_nonzero = -1;
    bool have_dp = false, any_digit = false;

    if (i < len && s[i] == '-')
        i++;
    /* JSON grammar first: digits, optional .digits, optional exponent */
    if (i >= len || s[i] < '0' || s[i] > '9')
        return false;
    for (; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            any_digit = true;
            if (s[i] != '0' && digit_at_first_nonzero < 0)
                digit_at_first_nonzero = ddigits;
            ddigits++;
            if (!have_dp)
                dweight++;
            else
                dscale++;
        } else if (s[i] == '.' && !have_dp) {
            if (i + 1 >= len || s[i + 1] < '0' || s[i + 1] > '9')
                return false;
            have_dp = true;
        } else {
            break;
        }
    }
    if (!any_digit)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        char buf[32];
        size_t k = 0;
        long exponent;
        char *end;

        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            buf[k++] = s[i++];
        if (i >= len || s[i] < '0' || s[i] > '9')
            return false;
        while (i + 1 < len && s[i] == '0' && s[i + 1] >= '0' && s[i + 1] <= '9')
            i++; /* leading zeros: strtol reads them as nothing */
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (k == sizeof buf - 1)
                return false; /* over 30 digits: strtol saturates, PostgreSQL refuses */
            buf[k++] = s[i++];
        }
        buf[k] = '\0';
        exponent = strtol(buf, &end, 10);
        if (exponent >= 2147483647 / 2 || exponent <= -(2147483647 / 2))
            return false;
        dweight += exponent;
        dscale -= exponent;
        if (dscale < 0)
            dscale = 0;
    }
    if (i != len)
        return false;
    if (dscale > 0x3fff) /* NUMERIC_DSCALE_MAX */
        return false;
    if (digit_at_first_nonzero < 0)
        return true; /* zero: weight 0 after strip_var */
    {
        /* the decimal weight of the first non-zero digit, then its NBASE weight */
        long p = dweight - digit_at_first_nonzero;
        long weight = p >= 0 ? p / 4 : -((-p - 1) / 4 + 1);
        return weight >= -32768 && weight <= 32767;
    }
}

/* ---- timestamps ---- */

static bool digits_at(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool canonical_timestamp(const char *s)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, se, max_day;
    size_t len = strlen(s), pos = 19;

    if (len < 22 || !digits_at(s, 4, &y) || s[4] != '-' || !digits_at(s + 5, 2, &mo) ||
        s[7] != '-' || !digits_at(s + 8, 2, &d) || s[10] != ' ' || !digits_at(s + 11, 2, &h) ||
        s[13] != ':' || !digits_at(s + 14, 2, &mi) || s[16] != ':' || !digits_at(s + 17, 2, &se))
        return false;
    if (y < 1 || mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 60)
        return false;
    max_day = days[mo - 1] + (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    if (d < 1 || d > max_day)
        return false;
    if (s[pos] == '.') {
        size_t from = ++pos;
        while (pos < len && s[pos] >= '0' && s[pos] <= '9')
            pos++;
        if (pos == from || pos - from > 9)
            return false;
    }
    return strcmp(s + pos, "+00") == 0;
}

/* ---- extra: strict JSON whose every part jsonb takes ---- */

static int x_null(void *ctx)
{
    (void)ctx;
    return 1;
}
static int x_bool(void *ctx, int v)
{
    (void)ctx, (void)v;
    return 1;
}
static int x_number(void *ctx, const char *s, size_t len)
{
    (void)ctx;
    CHECK(postgres_numeric(s, len), "a number in extra jsonb cannot hold", s);
    return 1;
}
static int x_string(void *ctx, const unsigned char *s, size_t len)
{
    (void)ctx;
    CHECK(valid_utf8(s, len), "a string or key in extra that is not UTF-8 or holds NUL",
          (const char *)s);
    return 1;
}
static int x_open(void *ctx)
{
    int *depth = ctx;
    ++*depth;
    return 1;
}
static int x_close(void *ctx)
{
    int *depth = ctx;
    --*depth;
    return 1;
}

static const yajl_callbacks extra_callbacks = {
    x_null, x_bool, NULL, NULL, x_number, x_string, x_open, x_string, x_close, x_open, x_close};

static void check_extra(const char *extra)
{
    yajl_handle parser;
    int depth = 0;
    size_t len;

    CHECK(extra != NULL && extra[0] == '{', "extra is not an object", extra);
    len = strlen(extra);
    /* PostgreSQL's JSON lexer refuses \u0000 (for jsonb) and lone surrogate escapes; our
     * generator writes \u escapes only for control characters, so any such escape is wrong */
    for (const char *at = extra; (at = strstr(at, "\\u")) != NULL; at += 2) {
        unsigned v;
        if (at > extra && at[-1] == '\\') {
            size_t run = 0;
            for (const char *b = at - 1; b >= extra && *b == '\\'; b--)
                run++;
            if (run % 2 == 1)
                continue; /* an escaped backslash followed by 'u' */
        }
        CHECK(sscanf(at + 2, "%4x", &v) == 1, "a bad \\u escape in extra", at);
        CHECK(v != 0 && (v < 0xd800 || v > 0xdfff), "a \\u escape jsonb refuses in extra", at);
    }
    parser = yajl_alloc(&extra_callbacks, NULL, &depth);
    CHECK(parser != NULL, "out of memory", NULL);
    CHECK(yajl_parse(parser, (const unsigned char *)extra, len) == yajl_status_ok &&
              yajl_complete_parse(parser) == yajl_status_ok,
          "extra is not valid JSON", extra);
    yajl_free(parser);
    CHECK(depth == 0, "extra is not one complete value", extra);
}

/* ---- records ---- */

enum col { TEXT, ID, TS, BYTES, I32, I16, NUM, BOOLEAN, NONE };

static const enum col list_cols[LS_COUNT] = {ID, TEXT, TS, TS, TS, BYTES, BYTES, I16, I32, I32};
static const enum col details_cols[DS_COUNT] = {ID, TEXT, TS, TS, BYTES, NUM, I32};
static const enum col participant_cols[PT_COUNT] = {ID,   ID,   TEXT,    TS,      TS,      TEXT,
                                                    TEXT, TEXT, BOOLEAN, BOOLEAN, BOOLEAN, BOOLEAN};
static const enum col connection_cols[CN_COUNT] = {ID, ID, ID, TS, TS};

static void check_value(enum col type, const char *v)
{
    if (v == NULL) {
        CHECK(type != ID, "an id is NULL", v);
        return;
    }
    CHECK(valid_utf8((const unsigned char *)v, strlen(v)), "a value is not UTF-8 or holds NUL", v);
    switch (type) {
    case TS:
        CHECK(canonical_timestamp(v), "a timestamp is not canonical", v);
        break;
    case BYTES:
        CHECK(canonical_integer(v, 0, INT64_MAX), "a byte count is not a bigint >= 0", v);
        break;
    case I32:
        CHECK(canonical_integer(v, INT32_MIN, INT32_MAX), "not an integer", v);
        break;
    case I16:
        CHECK(canonical_integer(v, INT16_MIN, INT16_MAX), "not a smallint", v);
        break;
    case NUM:
        CHECK(postgres_numeric(v, strlen(v)), "not a numeric PostgreSQL holds", v);
        break;
    case BOOLEAN:
        CHECK(strcmp(v, "t") == 0 || strcmp(v, "f") == 0, "not a boolean", v);
        break;
    default:
        break;
    }
}

static int check_record(void *ctx, const struct record *rec, struct lk_error *err)
{
    const enum col *cols;
    int count;

    (void)ctx;
    (void)err;
    switch (rec->kind) {
    case RECORD_LIST_SESSION:
        cols = list_cols, count = LS_COUNT;
        break;
    case RECORD_DETAILS_SESSION:
        cols = details_cols, count = DS_COUNT;
        CHECK(strcmp(rec->values[DS_SESSION_ID], "RM_fuzz") == 0, "details keyed by another id",
              rec->values[DS_SESSION_ID]);
        break;
    case RECORD_PARTICIPANT:
        cols = participant_cols, count = PT_COUNT;
        break;
    case RECORD_CONNECTION:
        cols = connection_cols, count = CN_COUNT;
        break;
    default:
        abort();
    }
    for (int c = 0; c < RECORD_MAX_COLUMNS; c++)
        check_value(c < count ? cols[c] : NONE, rec->values[c]);
    check_extra(rec->extra);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* bounds small enough for inputs of at most 64 KiB to pass them: a 20000-byte token (a
     * numeric string with 16384 digits after the point fits), 32 KiB per record, 8 sessions
     * per page, 60000 bytes per body */
    struct extract_limits limits = {20000, 32, 60000, 32768, 8};
    struct record_sink sink = {NULL, check_record, NULL};
    struct extract *ex = NULL;
    struct lk_error err;
    size_t chunk, at = 1;
    int rc = 0;

    if (size < 1)
        return 0;
    log_set_level(LOG_LEVEL_ERROR);
    lk_error_init(&err);
    chunk = (size_t)(data[0] >> 1) + 1;
    if (extract_new(&ex, (data[0] & 1) ? EXTRACT_DETAILS : EXTRACT_LIST, "RM_fuzz", &limits, &sink,
                    &err) != 0)
        return 0;
    while (rc == 0 && at < size) {
        size_t n = size - at < chunk ? size - at : chunk;
        rc = extract_feed(ex, (const char *)data + at, n, &err);
        at += n;
    }
    if (rc == 0)
        rc = extract_finish(ex, &err);
    if (!(rc == 0 || (err.code == rc && err.message[0] != '\0')))
        oracle_failed("an error without its message", err.message);
    extract_free(ex);
    return 0;
}

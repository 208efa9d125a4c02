/* extract.c -- the streaming extractor's public side: start, feed, finish, free; see extract.h.
 *
 * Flow: extract_feed() counts the body against max_body_bytes, then scans each piece of a
 * chunk (token lengths, which yajl would otherwise buffer without end; escapes and control
 * characters yajl would refuse or decode wrongly) and hands it, rewritten where needed, to
 * yajl, whose callbacks (extract_sax.c) walk the body with the scopes of its kind
 * (extract_list.c or extract_details.c) and build and emit the records (extract_record.c).
 * The first error wins: it is kept in ex->rc and every later call returns it.
 *
 * Invariants: see extract_internal.h; the scanner state (in_string, token_len, carry) spans
 * chunks, so a token is measured and repaired the same whatever the chunking.
 */
#include "extract.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "extract_internal.h"
#include "utf8.h"

/* The scanner works on pieces of at most this many bytes of a chunk, so its buffers stay
 * small whatever size of chunk the caller feeds (libcurl's are 16 KiB). */
#define PIECE_BYTES 65536

/* ---- public functions ---- */

int extract_new(struct extract **out, enum extract_body body, const char *session_id,
                const struct extract_limits *limits, const struct record_sink *sink,
                struct lk_error *err)
{
    struct extract *ex = calloc(1, sizeof *ex);
    int rc = LK_ENOMEM;

    *out = NULL;
    if (ex == NULL)
        goto done;
    ex->body = body == EXTRACT_LIST ? &extract_list_body : &extract_details_body;
    ex->limits = *limits;
    ex->sink = *sink;
    ex->session_id = strdup(session_id ? session_id : "");
    for (int i = 0; i < RECORD_KIND_COUNT; i++)
        ex->builders[i].record_bytes = &ex->record_bytes;
    ex->frame_capacity = limits->max_depth + 2;
    ex->frames = malloc((size_t)ex->frame_capacity * sizeof *ex->frames);
    ex->parser = yajl_alloc(&extract_callbacks, NULL, ex);
    ex->scratch = extract_gen_new(ex);
    if (ex->session_id == NULL || ex->frames == NULL || ex->parser == NULL || ex->scratch == NULL)
        goto done;
    /* Bytes that are not UTF-8 reach the callbacks, which repair them (utf8_clean): yajl's
     * own check lets overlong forms, surrogates and code points above U+10FFFF through, and
     * fails the whole body for one stray byte. */
    yajl_config(ex->parser, yajl_dont_validate_strings, 1);
    /* no string can be longer than the record that holds it */
    ex->token_max = limits->max_string_bytes;
    if (limits->max_record_bytes != 0 && limits->max_record_bytes < ex->token_max)
        ex->token_max = limits->max_record_bytes;
    *out = ex;
    ex = NULL;
    rc = 0;
done:
    if (rc != 0)
        lk_error_set(err, rc, "out of memory starting the JSON parser");
    extract_free(ex);
    return rc;
}

static int token_too_long(struct extract *ex, size_t at)
{
    bool by_record = ex->limits.max_record_bytes != 0 &&
                     ex->limits.max_record_bytes < ex->limits.max_string_bytes;

    lk_error_set(ex->err, LK_EDATA, "a JSON %s at byte %zu is longer than the limit of %zu bytes",
                 ex->in_string ? "string" : "token", at, ex->token_max);
    lk_error_detail(ex->err, "raise %s in the configuration if this is legitimate data",
                    by_record ? "max_record_bytes" : "max_string_bytes");
    return LK_EDATA;
}

/* ---- the stream scanner ----
 *
 * Every byte passes here before yajl sees it. Outside strings it measures tokens; inside it
 * measures the string and repairs what yajl would refuse or decode wrongly, so a bad value
 * costs that value and not the body:
 * - a raw control character (yajl refuses the whole body) becomes its \u00XX escape, and a
 *   raw NUL the escape of U+FFFD;
 * - \u0000 becomes \uFFFD (PostgreSQL text cannot hold NUL);
 * - a lone surrogate escape becomes \uFFFD: yajl would write '?' for a high one without a low
 *   one after it, CESU bytes for a lone low one, and a wrong character for a high one followed
 *   by any other \u escape (\uD800\u0041 is U+10041 to yajl).
 * Rewrites of escapes keep the length; a control character grows to six bytes. An escape cut
 * by the end of a piece is held back (ex->carry) and scanned again with the next piece, so
 * the result does not depend on where the network cut the body. Raw bytes that are not
 * UTF-8 pass through (yajl is told not to check them) and are repaired in the callbacks. */

/* Append to a scanner buffer, growing it. 0 or LK_ENOMEM. */
static int buf_append(struct byte_buf *b, const char *bytes, size_t len)
{
    if (len == 0)
        return 0;
    if (b->len + len > b->cap) {
        size_t capacity = b->cap ? b->cap : 4096;
        char *grown;
        while (capacity < b->len + len)
            capacity *= 2;
        grown = realloc(b->data, capacity);
        if (grown == NULL)
            return LK_ENOMEM;
        b->data = grown;
        b->cap = capacity;
    }
    memcpy(b->data + b->len, bytes, len);
    b->len += len;
    return 0;
}

/* One piece being scanned: data[0..len) starts at stream offset base. */
struct piece {
    const char *data;
    size_t len;
    size_t base;
    bool rewriting; /* ex->work holds data[0..copied) as rewritten */
    size_t copied;
};

/* Replace data[at..at+n) with `with` in what yajl is fed. */
static int rewrite(struct extract *ex, struct piece *p, size_t at, size_t n, const char *with,
                   size_t with_len)
{
    if (!p->rewriting) {
        p->rewriting = true;
        p->copied = 0;
        ex->work.len = 0;
    }
    if (buf_append(&ex->work, p->data + p->copied, at - p->copied) != 0 ||
        buf_append(&ex->work, with, with_len) != 0)
        return LK_ENOMEM;
    p->copied = at + n;
    return 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The code unit of the \uXXXX escape at p (6 bytes there), or -1 when it is not one. */
static long unicode_escape(const char *p)
{
    long value = 0;

    if (p[0] != '\\' || p[1] != 'u')
        return -1;
    for (int i = 2; i < 6; i++) {
        int digit = hex_digit(p[i]);
        if (digit < 0)
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

/* Whether the avail (< 6) bytes at p may still become a \uXXXX escape. */
static bool may_become_escape(const char *p, size_t avail)
{
    for (size_t i = 0; i < avail; i++) {
        bool ok = i == 0 ? p[i] == '\\' : i == 1 ? p[i] == 'u' : hex_digit(p[i]) >= 0;
        if (!ok)
            return false;
    }
    return true;
}

/* Count n more bytes of the current token (the first at data[at]). Past max_string_bytes a
 * string is cut: the bytes beyond are dropped from what yajl sees (an escape whole, a
 * character never split) and CUT is returned, so that the caller rewrites nothing of them;
 * scan_string closes it with the marker. Any other token past the limit, or a string past a
 * smaller max_record_bytes, is LK_EDATA naming the very byte, whatever the chunking. */
#define CUT 1
static inline int count_token(struct extract *ex, struct piece *p, size_t at, size_t n)
{
    size_t keep;

    if (ex->cutting) {
        ex->token_len += n;
        return rewrite(ex, p, at, n, "", 0) == 0 ? CUT : LK_ENOMEM;
    }
    if (ex->token_len + n <= ex->token_max) {
        ex->token_len += n;
        return 0;
    }
    if (!ex->in_string || ex->token_max < ex->limits.max_string_bytes)
        return token_too_long(ex, p->base + at + (ex->token_max - ex->token_len));
    /* an escape whole or not at all; never inside a character: back to its first byte */
    keep = p->data[at] == '\\' ? 0 : utf8_cut(p->data + at, n, ex->token_max - ex->token_len);
    ex->cutting = true;
    ex->token_len += n;
    return rewrite(ex, p, at + keep, n - keep, "", 0) == 0 ? CUT : LK_ENOMEM;
}

/* The escape at data[i] (a backslash inside a string). *advance gets the bytes it spans; 0
 * means the piece ends before it can be judged: hold it back. */
static int scan_escape(struct extract *ex, struct piece *p, size_t i, size_t *advance)
{
    static const char replacement[] = "\\uFFFD";
    const char *at = p->data + i;
    size_t avail = p->len - i;
    long unit = -1, low;
    int rc;

    *advance = 0;
    if (avail < 2)
        return 0;
    if (at[1] != 'u' || (avail >= 6 && (unit = unicode_escape(at)) < 0)) {
        *advance = 2; /* a short escape, or a bad one yajl will name */
        rc = count_token(ex, p, i, 2);
        return rc == CUT ? 0 : rc;
    }
    if (avail < 6)
        return 0;
    if (unit >= 0xd800 && unit <= 0xdbff) {
        if (avail < 12 && may_become_escape(at + 6, avail - 6))
            return 0; /* a low half may follow in the next piece */
        low = avail >= 12 ? unicode_escape(at + 6) : -1;
        if (low >= 0xdc00 && low <= 0xdfff) {
            *advance = 12; /* a well-formed pair */
            rc = count_token(ex, p, i, 12);
            return rc == CUT ? 0 : rc;
        }
    } else if (unit != 0 && (unit < 0xdc00 || unit > 0xdfff)) {
        *advance = 6;
        rc = count_token(ex, p, i, 6);
        return rc == CUT ? 0 : rc;
    }
    /* \u0000, a lone low half, or a high half without its low half */
    *advance = 6;
    if ((rc = count_token(ex, p, i, 6)) != 0)
        return rc == CUT ? 0 : rc;
    return rewrite(ex, p, i, 6, replacement, 6);
}

/* A raw control character inside a string, which JSON forbids: its escape instead. */
static int scan_control(struct extract *ex, struct piece *p, size_t i)
{
    static const char hex[] = "0123456789ABCDEF";
    unsigned char c = (unsigned char)p->data[i];
    char escape[7] = "\\u00";
    int rc;

    if ((rc = count_token(ex, p, i, 1)) != 0)
        return rc == CUT ? 0 : rc;
    if (c == 0) {
        memcpy(escape, "\\uFFFD", 6);
    } else {
        escape[4] = hex[c >> 4];
        escape[5] = hex[c & 0xf];
    }
    return rewrite(ex, p, i, 1, escape, 6);
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* How many of the eight bytes at p come before the first that is a quote, a backslash, below
 * 0x20 or above 0x7f: 8 when none is. The zero-byte test of "Bit Twiddling Hacks" flags the
 * first such byte exactly (it may also flag later ones, which are not looked at). */
static size_t plain_bytes(const char *p)
{
    uint64_t word, quote, backslash, flags;

    memcpy(&word, p, 8);
    quote = word ^ (ONES * '"');
    backslash = word ^ (ONES * '\\');
    flags = (((quote - ONES) & ~quote) | ((backslash - ONES) & ~backslash) | (word - ONES * 0x20) |
             word) &
            HIGHS;
    if (flags == 0)
        return 8;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (size_t)__builtin_ctzll(flags) / 8;
#else
    return 0; /* the caller looks at the bytes one by one */
#endif
}

/* A cut string closes: the marker with its length goes before its closing quote at data[i]. */
static int close_cut(struct extract *ex, struct piece *p, size_t i)
{
    char marker[64];
    int n = snprintf(marker, sizeof marker, EXTRACT_CUT_MARKER, ex->token_len);

    ex->cutting = false;
    return rewrite(ex, p, i, 0, marker, (size_t)n) == 0 ? 0 : LK_ENOMEM;
}

#define NOTE_KEY_MAX 160

/* A string cut at max_string_bytes ends with EXTRACT_CUT_MARKER: its original length, or 0
 * when it was not cut. */
static size_t cut_from(const char *text, size_t len)
{
    static const char head[] = "...[lkarchive: cut from ", tail[] = " bytes]";
    size_t end, i, n = 0;

    if (len < sizeof head + sizeof tail ||
        memcmp(text + len - (sizeof tail - 1), tail, sizeof tail - 1) != 0)
        return 0;
    end = len - (sizeof tail - 1);
    for (i = end; i > 0 && text[i - 1] >= '0' && text[i - 1] <= '9';)
        i--;
    if (i == end || i < sizeof head - 1 ||
        memcmp(text + i - (sizeof head - 1), head, sizeof head - 1) != 0)
        return 0;
    for (; i < end; i++)
        n = n * 10 + (size_t)(text[i] - '0');
    return n;
}

int extract_note_cut(struct extract *ex, const struct frame *top, const char *text, size_t len)
{
    char key[200], digits[24];
    size_t n = cut_from(text, len), key_len;
    yajl_gen extra;

    if (n == 0 || top->scope->record == SCOPE_NO_RECORD)
        return 1;
    /* the key kept to 160 bytes, never inside a character (extra must stay valid UTF-8) */
    key_len = utf8_cut(top->key, strlen(top->key), NOTE_KEY_MAX);
    snprintf(key, sizeof key, "%.*s.original_bytes", (int)key_len, top->key);
    snprintf(digits, sizeof digits, "%zu", n);
    extra = extract_extra_for(ex, top->scope);
    if (extra == NULL || extract_gen_key(extra, key) != 0 ||
        extract_gen_scalar(extra, JK_NUMBER, digits, strlen(digits)) != 0)
        return extract_fail(ex, LK_ENOMEM, "could not note a cut string in extra");
    return 1;
}

/* Scan data[*at..) inside a string up to its closing quote or an escape held back. */
static int scan_string(struct extract *ex, struct piece *p, size_t *at, bool *hold)
{
    size_t i = *at, from = i, advance;
    int rc;

    for (;;) {
        /* the usual bytes in bulk, eight at a time: neither quote, backslash, control
         * character nor a byte of a non-ASCII character (noted: the callbacks repair only
         * the strings of a piece that has some) */
        while (i < p->len) {
            unsigned char c;
            if (i + 8 <= p->len) {
                size_t plain = plain_bytes(p->data + i);
                i += plain;
                if (plain == 8)
                    continue;
            }
            c = (unsigned char)p->data[i];
            if (c >= 0x80) {
                ex->string_high = ex->piece_high = true;
            } else if (c == '"' || c == '\\' || c < 0x20) {
                break;
            }
            i++;
        }
        if ((rc = count_token(ex, p, from, i - from)) < 0)
            return rc;
        if (i == p->len)
            break;
        if (p->data[i] == '"') {
            if (ex->cutting && (rc = close_cut(ex, p, i)) != 0)
                return rc;
            ex->in_string = false;
            ex->token_len = 0;
            i++;
            break;
        }
        if (p->data[i] != '\\') {
            rc = scan_control(ex, p, i);
            advance = 1;
        } else {
            rc = scan_escape(ex, p, i, &advance);
            if (rc == 0 && advance == 0) {
                *hold = true;
                break;
            }
        }
        if (rc != 0)
            return rc;
        i += advance;
        from = i;
    }
    *at = i;
    return 0;
}

/* Bytes outside strings: a quote opens one, structure and blanks end a token, the rest
 * (numbers, literals, bytes yajl will refuse) make a token longer. */
enum { OUT_TOKEN = 0, OUT_QUOTE, OUT_SEPARATOR };
static const unsigned char outside[256] = {
    ['"'] = OUT_QUOTE,      ['{'] = OUT_SEPARATOR,  ['}'] = OUT_SEPARATOR,  ['['] = OUT_SEPARATOR,
    [']'] = OUT_SEPARATOR,  [','] = OUT_SEPARATOR,  [':'] = OUT_SEPARATOR,  [' '] = OUT_SEPARATOR,
    ['\n'] = OUT_SEPARATOR, ['\r'] = OUT_SEPARATOR, ['\t'] = OUT_SEPARATOR,
};

/* Scan one piece; *fed gets how many of its bytes go to yajl now (the rest is held). */
static int scan_piece(struct extract *ex, struct piece *p, size_t *fed)
{
    size_t i = 0;
    bool hold = false;
    int rc;

    while (i < p->len && !hold) {
        if (ex->in_string) {
            if ((rc = scan_string(ex, p, &i, &hold)) != 0)
                return rc;
            continue;
        }
        switch (outside[(unsigned char)p->data[i]]) {
        case OUT_QUOTE:
            ex->in_string = true;
            ex->string_high = false;
            ex->token_len = 0;
            break;
        case OUT_SEPARATOR:
            ex->token_len = 0;
            break;
        default:
            if ((rc = count_token(ex, p, i, 1)) != 0)
                return rc;
            break;
        }
        i++;
    }
    *fed = i;
    return 0;
}

/* yajl stopped: a callback said why, or the JSON itself is bad. */
static int parse_error(struct extract *ex)
{
    unsigned char *message;

    if (ex->rc != 0)
        return ex->rc; /* a callback stopped the parse and said why */
    message = yajl_get_error(ex->parser, 0, NULL, 0);
    lk_error_set(ex->err, LK_EDATA, "invalid JSON in the %s response near byte %zu", ex->body->name,
                 ex->fed + yajl_get_bytes_consumed(ex->parser));
    lk_error_detail(ex->err, "%s", message ? (const char *)message : "parse error");
    if (message)
        yajl_free_error(ex->parser, message);
    ex->rc = LK_EDATA;
    return LK_EDATA;
}

static int parse(struct extract *ex, const char *data, size_t len)
{
    if (len == 0)
        return 0;
    if (yajl_parse(ex->parser, (const unsigned char *)data, len) != yajl_status_ok)
        return parse_error(ex);
    ex->fed += len;
    return 0;
}

/* Scan and parse one piece of at most PIECE_BYTES (the work buffer stays small whatever the
 * caller's chunk size), after the bytes held back from the piece before. */
static int feed_piece(struct extract *ex, const char *chunk, size_t len)
{
    struct piece p = {chunk, len, ex->scanned, false, 0};
    size_t fed = 0;
    int rc;

    if (ex->carry_len > 0) { /* rare: an escape was cut; join it with this piece */
        ex->join.len = 0;
        if (buf_append(&ex->join, ex->carry, ex->carry_len) != 0 ||
            buf_append(&ex->join, chunk, len) != 0)
            return LK_ENOMEM;
        p.data = ex->join.data;
        p.len = ex->join.len;
        ex->carry_len = 0;
    }
    /* a string that goes on from the last piece with non-ASCII bytes makes this one need
     * repairs too: yajl hands it over while parsing this piece */
    ex->piece_high = ex->in_string && ex->string_high;
    if ((rc = scan_piece(ex, &p, &fed)) != 0)
        return rc;
    assert(p.len - fed < sizeof ex->carry);
    memcpy(ex->carry, p.data + fed, p.len - fed);
    ex->carry_len = p.len - fed;
    ex->scanned = p.base + fed;
    if (!p.rewriting)
        return parse(ex, p.data, fed);
    if (buf_append(&ex->work, p.data + p.copied, fed - p.copied) != 0)
        return LK_ENOMEM;
    return parse(ex, ex->work.data, ex->work.len);
}

int extract_feed(struct extract *ex, const char *chunk, size_t len, struct lk_error *err)
{
    int rc = 0;

    ex->err = err;
    if (ex->rc != 0)
        return ex->rc;
    if (ex->limits.max_body_bytes != 0 && len > ex->limits.max_body_bytes - ex->body_bytes) {
        lk_error_set(err, LK_EAPI, "the %s response%s%.128s is larger than the limit of %zu bytes",
                     ex->body->name, ex->session_id[0] ? " for session " : "", ex->session_id,
                     ex->limits.max_body_bytes);
        lk_error_detail(err, "raise max_body_bytes in the configuration if this is legitimate "
                             "data (bytes are counted after decompression)");
        ex->rc = LK_EAPI;
        return ex->rc;
    }
    ex->body_bytes += len;
    for (size_t at = 0; rc == 0 && at < len; at += PIECE_BYTES)
        rc = feed_piece(ex, chunk + at, len - at < PIECE_BYTES ? len - at : PIECE_BYTES);
    if (rc != 0 && ex->rc == 0) {
        if (rc == LK_ENOMEM)
            lk_error_set(err, rc, "out of memory reading the %s response", ex->body->name);
        ex->rc = rc;
    }
    return ex->rc;
}

int extract_finish(struct extract *ex, struct lk_error *err)
{
    ex->err = err;
    if (ex->rc != 0)
        return ex->rc;
    /* an escape held back at the very end: the body ends inside a string, which yajl says */
    if (parse(ex, ex->carry, ex->carry_len) != 0)
        return ex->rc;
    ex->carry_len = 0;
    if (yajl_complete_parse(ex->parser) != yajl_status_ok)
        return parse_error(ex);
    if (ex->records == 0 && ex->body->needs_record) {
        lk_error_set(err, LK_EDATA, "%s response for session %s is empty", ex->body->name,
                     ex->session_id);
        ex->rc = LK_EDATA;
        return LK_EDATA;
    }
    return 0;
}

size_t extract_record_count(const struct extract *ex)
{
    return ex->records;
}

void extract_free(struct extract *ex)
{
    if (ex == NULL)
        return;
    if (ex->parser)
        yajl_free(ex->parser);
    for (int i = 0; i < RECORD_KIND_COUNT; i++) {
        extract_builder_reset(&ex->builders[i]);
        free(ex->builders[i].unknown_keys.slots);
        if (ex->builders[i].extra)
            yajl_gen_free(ex->builders[i].extra);
    }
    for (int i = 0; i < ex->frame_count; i++)
        free(ex->frames[i].key);
    free(ex->frames);
    extract_drop_connections(ex);
    free(ex->connections);
    extract_capture_reset(&ex->cap);
    if (ex->nested_extra)
        yajl_gen_free(ex->nested_extra);
    if (ex->scratch)
        yajl_gen_free(ex->scratch);
    free(ex->work.data);
    free(ex->join.data);
    free(ex->clean.data);
    free(ex->session_id);
    free(ex);
}

/* sim_json.c -- JSON text for the simulator: string escapes, the output pipeline, serialisers.
 *
 * Serialisers write compact JSON; sim_out then applies the transport quirks in order:
 * `pretty` (a small state machine that re-spaces tokens outside strings), then `gzip`
 * (zlib, windowBits 31, streamed: Z_NO_FLUSH per write, Z_FINISH at the end), and appends to
 * a growable buffer that the HTTP layer drains. Drained bytes are reclaimed, so a streamed
 * page costs about one MHD write block plus one session of memory.
 * Key order: a record with an order_seed is emitted in a Fisher-Yates order drawn from it
 * (quirk `shuffled-keys`); the same record always comes out in the same order.
 */
#include "sim_json.h"

#include <stdlib.h>
#include <string.h>

/* ---- strings ---------------------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static unsigned hex4(const char *p)
{
    unsigned v = 0;
    int i, h;

    for (i = 0; i < 4; i++) {
        h = hexval(p[i]);
        v = v * 16 + (unsigned)(h < 0 ? 0 : h);
    }
    return v;
}

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
        cp = 0xfffd; /* NUL and lone surrogates: what the archive stores instead */
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

size_t sim_json_unescape(char *out, const char *lit, size_t len)
{
    size_t i = 0, n = 0;
    unsigned cp, lo;

    while (i < len) {
        if (lit[i] != '\\' || i + 1 >= len) {
            out[n++] = lit[i++];
            continue;
        }
        switch (lit[i + 1]) {
        case 'b':
            out[n++] = '\b';
            break;
        case 'f':
            out[n++] = '\f';
            break;
        case 'n':
            out[n++] = '\n';
            break;
        case 'r':
            out[n++] = '\r';
            break;
        case 't':
            out[n++] = '\t';
            break;
        case 'u':
            if (i + 6 > len) {
                i = len;
                continue;
            }
            cp = hex4(lit + i + 2);
            if (cp >= 0xd800 && cp <= 0xdbff && i + 12 <= len && lit[i + 6] == '\\' &&
                lit[i + 7] == 'u') {
                lo = hex4(lit + i + 8);
                if (lo >= 0xdc00 && lo <= 0xdfff) {
                    n += put_utf8(out + n, 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00));
                    i += 12;
                    continue;
                }
            }
            n += put_utf8(out + n, cp);
            i += 6;
            continue;
        default:
            out[n++] = lit[i + 1];
            break; /* \" \\ \/ */
        }
        i += 2;
    }
    return n;
}

size_t sim_json_escape(char *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, n = 0;
    unsigned char c;

    for (i = 0; i < len; i++) {
        c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c == '\n') {
            out[n++] = '\\';
            out[n++] = 'n';
        } else if (c == '\t') {
            out[n++] = '\\';
            out[n++] = 't';
        } else if (c == '\r') {
            out[n++] = '\\';
            out[n++] = 'r';
        } else if (c < 0x20) {
            memcpy(out + n, "\\u00", 4);
            out[n + 4] = hex[c >> 4];
            out[n + 5] = hex[c & 15];
            n += 6;
        } else {
            out[n++] = (char)c;
        }
    }
    return n;
}

/* ---- output pipeline -------------------------------------------------------------------- */

int sim_out_init(struct sim_out *o, bool pretty, bool gzip)
{
    int rc = 0;

    memset(o, 0, sizeof *o);
    o->pretty = pretty;
    o->gzip = gzip;
    if (gzip) {
        /* windowBits 31: a gzip wrapper; level 1 keeps big pages cheap to serve */
        if (deflateInit2(&o->z, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            o->failed = true;
            rc = -1;
        } else {
            o->z_ready = true;
        }
    }
    return rc;
}

void sim_out_dispose(struct sim_out *o)
{
    if (o->z_ready)
        deflateEnd(&o->z);
    free(o->buf);
    memset(o, 0, sizeof *o);
}

/* Room for n more bytes at buf + len, compacting drained bytes first. */
static bool out_reserve(struct sim_out *o, size_t n)
{
    size_t cap;
    char *nb;

    if (o->failed)
        return false;
    if (o->off > 0 && (o->off == o->len || o->len + n > o->cap)) {
        memmove(o->buf, o->buf + o->off, o->len - o->off);
        o->len -= o->off;
        o->off = 0;
    }
    if (o->len + n <= o->cap)
        return true;
    cap = o->cap ? o->cap : 16384;
    while (cap < o->len + n)
        cap *= 2;
    nb = realloc(o->buf, cap);
    if (nb == NULL) {
        o->failed = true;
        return false;
    }
    o->buf = nb;
    o->cap = cap;
    return true;
}

static void out_deflate(struct sim_out *o, const char *p, size_t n, int flush)
{
    int zr;

    o->z.next_in = (const Bytef *)p;
    o->z.avail_in = (uInt)n;
    for (;;) {
        if (!out_reserve(o, 16384))
            return;
        o->z.next_out = (Bytef *)(o->buf + o->len);
        o->z.avail_out = (uInt)(o->cap - o->len);
        zr = deflate(&o->z, flush);
        o->len = o->cap - o->z.avail_out;
        if (zr == Z_STREAM_ERROR) {
            o->failed = true;
            return;
        }
        if (flush == Z_FINISH ? zr == Z_STREAM_END : o->z.avail_in == 0 && o->z.avail_out > 0)
            return;
    }
}

/* stage 2: compress or append */
static void out_emit(struct sim_out *o, const char *p, size_t n)
{
    if (o->failed || n == 0)
        return;
    if (o->gzip) {
        out_deflate(o, p, n, Z_NO_FLUSH);
        return;
    }
    if (!out_reserve(o, n))
        return;
    memcpy(o->buf + o->len, p, n);
    o->len += n;
}

static size_t pretty_newline(char *t, int depth)
{
    int i, spaces = 2 * (depth < 0 ? 0 : depth > 16 ? 16 : depth);

    t[0] = '\n';
    for (i = 0; i < spaces; i++)
        t[1 + i] = ' ';
    return 1 + (size_t)spaces;
}

/* stage 1 (quirk `pretty`): newlines and indentation between tokens, outside strings */
static void out_pretty(struct sim_out *o, const char *p, size_t n)
{
    char tmp[4096];
    size_t t = 0, i;
    char c;

    for (i = 0; i < n; i++) {
        if (t + 40 > sizeof tmp) {
            out_emit(o, tmp, t);
            t = 0;
        }
        c = p[i];
        if (o->in_string) {
            tmp[t++] = c;
            if (o->escaped)
                o->escaped = false;
            else if (c == '\\')
                o->escaped = true;
            else if (c == '"')
                o->in_string = false;
            continue;
        }
        switch (c) {
        case '"':
            o->in_string = true;
            tmp[t++] = c;
            break;
        case '{':
        case '[':
            tmp[t++] = c;
            o->depth++;
            t += pretty_newline(tmp + t, o->depth);
            break;
        case '}':
        case ']':
            o->depth--;
            t += pretty_newline(tmp + t, o->depth);
            tmp[t++] = c;
            break;
        case ',':
            tmp[t++] = c;
            t += pretty_newline(tmp + t, o->depth);
            break;
        case ':':
            tmp[t++] = ':';
            tmp[t++] = ' ';
            break;
        default:
            tmp[t++] = c;
            break;
        }
    }
    out_emit(o, tmp, t);
}

void sim_out_write(struct sim_out *o, const char *p, size_t n)
{
    if (o->failed)
        return;
    if (o->pretty)
        out_pretty(o, p, n);
    else
        out_emit(o, p, n);
}

void sim_out_puts(struct sim_out *o, const char *s)
{
    sim_out_write(o, s, strlen(s));
}

void sim_out_finish(struct sim_out *o)
{
    if (o->finished)
        return;
    o->finished = true;
    if (o->pretty)
        out_emit(o, "\n", 1);
    if (o->gzip && !o->failed)
        out_deflate(o, "", 0, Z_FINISH);
}

size_t sim_out_pending(const struct sim_out *o)
{
    return o->len - o->off;
}

size_t sim_out_take(struct sim_out *o, char *dst, size_t max)
{
    size_t n = o->len - o->off;

    if (n > max)
        n = max;
    memcpy(dst, o->buf + o->off, n);
    o->off += n;
    if (o->off == o->len)
        o->off = o->len = 0;
    return n;
}

/* ---- serialisers ------------------------------------------------------------------------ */

void sim_gen_init(struct sim_gen *g)
{
    sim_record_init(&g->top);
    sim_record_init(&g->part);
    sim_record_init(&g->pub);
    sim_record_init(&g->conn);
    memset(&g->p, 0, sizeof g->p);
}

void sim_gen_dispose(struct sim_gen *g)
{
    sim_record_dispose(&g->top);
    sim_record_dispose(&g->part);
    sim_record_dispose(&g->pub);
    sim_record_dispose(&g->conn);
}

static void emit_record(struct sim_out *o, struct sim_gen *g, const struct sim_record *r,
                        const struct sim_session *s);

static void emit_nested(struct sim_out *o, struct sim_gen *g, enum sim_nest nest,
                        const struct sim_session *s)
{
    uint32_t i;

    switch (nest) {
    case SIM_NEST_PARTICIPANTS:
        sim_out_puts(o, "[");
        for (i = 0; i < s->n_participants && !o->failed; i++) {
            if (i > 0)
                sim_out_puts(o, ",");
            if (sim_build_participant(&g->part, &g->p, s, i) != 0)
                o->failed = true;
            else
                emit_record(o, g, &g->part, s);
        }
        sim_out_puts(o, "]");
        break;
    case SIM_NEST_PUBLISHED:
        if (sim_build_published(&g->pub, s, &g->p) != 0)
            o->failed = true;
        else
            emit_record(o, g, &g->pub, s);
        break;
    case SIM_NEST_CONNECTIONS:
        sim_out_puts(o, "[");
        for (i = 0; i < g->p.n_connections && !o->failed; i++) {
            if (i > 0)
                sim_out_puts(o, ",");
            if (sim_build_connection(&g->conn, s, &g->p, i) != 0)
                o->failed = true;
            else
                emit_record(o, g, &g->conn, s);
        }
        sim_out_puts(o, "]");
        break;
    case SIM_NEST_NONE:
        break;
    }
}

static void emit_record(struct sim_out *o, struct sim_gen *g, const struct sim_record *r,
                        const struct sim_session *s)
{
    size_t order[SIM_MAX_FIELDS], i, j, tmp;
    uint64_t h = r->order_seed;
    const struct sim_field *f;
    bool first = true;

    for (i = 0; i < r->n_fields; i++)
        order[i] = i;
    if (h != 0) {
        for (i = r->n_fields; i > 1; i--) {
            h = sim_hash(h, i);
            j = (size_t)(h % i);
            tmp = order[i - 1];
            order[i - 1] = order[j];
            order[j] = tmp;
        }
    }
    sim_out_puts(o, "{");
    for (i = 0; i < r->n_fields; i++) {
        f = &r->fields[order[i]];
        if (!f->present)
            continue;
        if (!first)
            sim_out_puts(o, ",");
        first = false;
        sim_out_puts(o, "\"");
        sim_out_puts(o, f->key);
        sim_out_puts(o, "\":");
        if (f->nest == SIM_NEST_NONE)
            sim_out_write(o, sim_record_text(r, f->json_off), f->json_len);
        else
            emit_nested(o, g, f->nest, s);
    }
    sim_out_puts(o, "}");
}

int sim_json_list_session(struct sim_out *o, struct sim_gen *g, const struct sim_session *s)
{
    if (sim_build_list_session(&g->top, s) != 0)
        o->failed = true;
    else
        emit_record(o, g, &g->top, s);
    return o->failed ? -1 : 0;
}

int sim_json_details(struct sim_out *o, struct sim_gen *g, const struct sim_session *s)
{
    if (sim_build_details(&g->top, s) != 0)
        o->failed = true;
    else
        emit_record(o, g, &g->top, s);
    return o->failed ? -1 : 0;
}

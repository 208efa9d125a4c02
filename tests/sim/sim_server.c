/* sim_server.c -- the HTTP side of lkarchive-sim: libmicrohttpd on 127.0.0.1 only.
 *
 * One access handler routes each request: /_sim/stats (no auth), then for /api/... the token
 * (401), the plan (403), the project (404) and the endpoint. Every body goes through a
 * struct body: a sim_out pipeline plus, for list pages, the position of the next session.
 * A list page is always streamed: MHD pulls through body_read, which generates sessions
 * until one MHD block is ready, so a page of 50,000 sessions needs a few KB of state. Other
 * bodies are built whole and copied into the response, unless the `chunked` quirk wants them
 * streamed in 7..500-byte pieces (MHD_SIZE_UNKNOWN: HTTP/1.1 chunked transfer encoding).
 * Faults: each request carries a struct request (made by the URI log callback, so it holds
 * path+query as sent; freed when MHD reports the request completed). After the token check,
 * the --fault rules look at it with the URL's request count from a bounded hash map; a status
 * fault answers at once, reset/truncate build the real body whole and cut it, and slow/hang
 * (and --slow-above-limit) suspend the connection and hand it to a timer thread, which
 * resumes it at the deadline: MHD then calls the handler again, which answers (slow) or
 * returns MHD_NO so MHD closes the connection without a byte sent (hang). A suspended
 * connection holds no MHD thread.
 * Every /api/ request is decided when it arrives (decide: token, rate limit, faults) and
 * answered then or, with --latency-ms or a delaying fault, from the same decision when the
 * timer resumes it (answer). The rate limit is a token bucket per project (struct bucket,
 * integer units so that Retry-After and X-RateLimit-* are exact): a request without a token
 * gets 429 and never reaches the fault rules.
 * Shared between threads: counters (C11 atomics), the URL map, the timer and each project's
 * bucket (one mutex each).
 */
#include "sim_server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include <microhttpd.h>

#include "sim_json.h"

#define LIST_DEFAULT_LIMIT 100
#define LIST_MAX_LIMIT 1000000
#define API_WINDOW_DAYS 7
#define STREAM_BLOCK (16 * 1024)
/* MHD zeroes this per-connection pool on every request: keep it small */
#define POOL_SIZE (64 * 1024)
/* the URL map: open addressing, grown by doubling, never past COUNTS_MAX slots */
#define COUNTS_MIN 4096u
#define COUNTS_MAX (1u << 20)
#define TWO_POW_53 9007199254740992.0

/* A token is UNITS_PER_TOKEN units, so a bucket refilled at per_min tokens a minute gains
 * exactly per_min units a nanosecond: no fractions, no drift. */
#define UNITS_PER_TOKEN 60000000000ull
#define NS_PER_SEC 1000000000ull

/* What --fault does to the real answer once it is built. */
enum cut { CUT_NONE = 0, CUT_RESET, CUT_TRUNCATE };

/* Which endpoint a path is (match=list / match=details, --slow-above-limit). */
enum api_kind { API_OTHER, API_LIST, API_DETAILS };

/* The rate limit's verdict on one request, taken when it arrived. */
struct rate_verdict {
    bool limited;       /* the project has a limit: the fields below mean something */
    bool throttled;     /* no token: 429 */
    uint64_t per_min;   /* X-RateLimit-Limit */
    uint64_t remaining; /* whole tokens left after this request */
    uint64_t reset_s;   /* whole seconds (rounded up) until the next token; 0: one is there */
};

/* One HTTP request: made by on_uri, freed by on_completed. Touched by one MHD thread at a
 * time; the timer thread only links it while the connection is suspended. */
struct request {
    const char *url; /* MHD's decoded path, set on each call of the handler */
    bool seen;       /* the headers were seen: the next call routes */
    bool delayed;    /* suspended once: after the resume, answer (or close: hang) */
    bool hang;
    enum cut cut;
    /* what decide found when the request arrived; answer acts on it */
    struct timespec arrived;       /* CLOCK_MONOTONIC, taken in on_uri */
    bool not_get;                  /* a method other than GET under /api/: 404 */
    const char *unauthorized;      /* the token check's reason (static text): 401 */
    struct rate_verdict rate;      /* throttled: 429 */
    bool rate_headers;             /* --rate-limit-headers and the project has a limit */
    const struct sim_fault *fault; /* a status or badjson fault answers instead */
    enum api_kind kind;
    uint64_t url_hash, url_count; /* badjson draws its form from them */
    struct MHD_Connection *conn;
    struct timespec deadline; /* CLOCK_MONOTONIC */
    struct request *next;     /* the timer's list */
    bool queued;              /* on the timer's list */
    char uri[];               /* path+query as sent */
};

/* Requests per URL (64-bit hash of path+query): how many came before this one. */
struct url_counts {
    pthread_mutex_t lock;
    uint64_t *keys; /* 0: empty slot */
    uint32_t *hits;
    size_t cap, used;
};

/* Resumes suspended connections at their deadline. */
struct timer {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool running, stopping;
    struct request *pending; /* unsorted: at most the connection limit */
};

/* One project's token bucket (--rate-limit, --project-rate-limit). */
struct bucket {
    pthread_mutex_t lock;
    uint64_t per_min;  /* 0: no limit (no lock either) */
    uint64_t capacity; /* burst * UNITS_PER_TOKEN */
    uint64_t units;    /* what is in it */
    int64_t last_ns;   /* CLOCK_MONOTONIC of the last refill */
};

/* The distinct tokens a project's accepted requests carried (what shows a client renews its
 * token): a lock-free set of their hashes, counted up to TOKEN_SLOTS. */
#define TOKEN_SLOTS 64

/* The /api/ requests of one project, for /_sim/stats. */
struct project_counters {
    atomic_ullong requests, lists, details, throttled;
    atomic_ullong token_hashes[TOKEN_SLOTS]; /* 0: a free slot */
    atomic_ullong tokens;                    /* how many slots hold a hash */
};

struct sim_server {
    struct MHD_Daemon *daemon;
    const struct sim_dataset *ds;
    const struct sim_auth *auth;
    struct sim_server_options opt;
    uint16_t port;
    atomic_ullong requests, lists, details, unauthorized, errors, faults, throttled;
    bool sync_ready, timer_ready;
    size_t buckets_ready; /* how many buckets have a mutex to destroy */
    struct url_counts counts;
    struct timer timer;
    struct bucket buckets[SIM_MAX_PROJECTS];
    struct project_counters projects[SIM_MAX_PROJECTS];
};

enum body_state { BODY_DONE = 0, BODY_HEAD, BODY_SESSIONS, BODY_TAIL };

/* One response body. Owned by MHD once a callback response is created (body_free). */
struct body {
    struct sim_out out;
    enum body_state state;
    bool chunked;
    uint64_t piece_seed, pieces;
    /* faults */
    uint64_t sent, stop_at;   /* reset: END_WITH_ERROR once stop_at bytes are sent */
    bool gzip_later;          /* truncate: cut the plain JSON, then gzip the cut */
    const char *content_type; /* static */
    char retry_after[24];     /* "": no Retry-After header */
    /* list pages only */
    struct sim_gen gen;
    struct sim_session session;
    const struct sim_dataset *ds;
    size_t project;
    int64_t day;
    uint32_t index;
    uint64_t remaining;
    bool first, wrapper_extra, wrapper_first;
};

static uint64_t text_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static bool contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; hay != NULL && *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

/* A body for this request; plain: no transport quirks (the simulator's own endpoints). */
static struct body *body_new(const struct sim_dataset *ds, struct MHD_Connection *conn,
                             const struct request *rq, bool plain)
{
    struct body *b = calloc(1, sizeof *b);
    unsigned quirks = plain ? 0 : ds->quirks;
    const char *accept;
    bool gzip;

    if (b == NULL)
        return NULL;
    accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    gzip = (quirks & SIM_Q_GZIP) != 0 && contains_nocase(accept, "gzip");
    sim_gen_init(&b->gen);
    b->ds = ds;
    b->chunked = (quirks & SIM_Q_CHUNKED) != 0;
    b->piece_seed = sim_hash(ds->seed, text_hash(rq->url));
    b->stop_at = UINT64_MAX;
    b->content_type = "application/json";
    if (rq->cut == CUT_TRUNCATE) {
        /* the cut is made in the JSON text; gzip, if any, wraps the cut (respond) */
        b->gzip_later = gzip;
        gzip = false;
    }
    if (sim_out_init(&b->out, (quirks & SIM_Q_PRETTY) != 0, gzip) != 0) {
        sim_out_dispose(&b->out);
        sim_gen_dispose(&b->gen);
        free(b);
        return NULL;
    }
    return b;
}

static void body_free(void *cls)
{
    struct body *b = cls;

    if (b == NULL)
        return;
    sim_out_dispose(&b->out);
    sim_gen_dispose(&b->gen);
    free(b);
}

/* One step of a list page: the wrapper's head, one session, or the tail. */
static void body_produce(struct body *b)
{
    switch (b->state) {
    case BODY_HEAD:
        sim_out_puts(&b->out, b->wrapper_extra && b->wrapper_first
                                  ? "{\"nextPageToken\":null,\"sessions\":["
                                  : "{\"sessions\":[");
        b->state = BODY_SESSIONS;
        break;
    case BODY_SESSIONS:
        if (b->remaining == 0) {
            b->state = BODY_TAIL;
            break;
        }
        if (!b->first)
            sim_out_puts(&b->out, ",");
        b->first = false;
        /* past the day's last session (days differ in size, some have none): the next day
         * that has one; remaining > 0 says there is one */
        while (b->index >= sim_dataset_sessions(b->ds, b->project, b->day)) {
            b->index = 0;
            b->day++;
        }
        sim_session_init(&b->session, b->ds, b->project, b->day, b->index);
        sim_json_list_session(&b->out, &b->gen, &b->session);
        b->index++;
        b->remaining--;
        break;
    case BODY_TAIL:
        sim_out_puts(&b->out,
                     b->wrapper_extra && !b->wrapper_first ? "],\"nextPageToken\":null}" : "]}");
        sim_out_finish(&b->out);
        b->state = BODY_DONE;
        break;
    case BODY_DONE:
        break;
    }
}

static ssize_t body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct body *b = cls;
    size_t want = max, n;
    uint64_t piece;

    (void)pos;
    assert(max > 0); /* MHD only asks when it has room; 0 would end the stream here */
    if (b->sent >= b->stop_at)
        return MHD_CONTENT_READER_END_WITH_ERROR; /* fault `reset`: MHD closes the socket */
    if (want > b->stop_at - b->sent)
        want = (size_t)(b->stop_at - b->sent);
    if (b->chunked) {
        /* quirk `chunked`: odd-sized pieces, each its own HTTP chunk */
        piece = 7 + sim_hash(b->piece_seed, b->pieces++) % 494;
        if (piece < want)
            want = (size_t)piece;
    }
    while (sim_out_pending(&b->out) < want && b->state != BODY_DONE && !b->out.failed)
        body_produce(b);
    if (b->out.failed)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    n = sim_out_take(&b->out, buf, want);
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    b->sent += n;
    return (ssize_t)n;
}

/* Fault `truncate`: keep the first half of the finished JSON; gzip it if the client wanted. */
static void truncate_body(struct body *b)
{
    size_t half = sim_out_pending(&b->out) / 2;
    struct sim_out z;

    if (b->out.failed)
        return;
    if (!b->gzip_later) {
        b->out.len = b->out.off + half;
        return;
    }
    if (sim_out_init(&z, false, true) == 0) {
        sim_out_write(&z, b->out.buf + b->out.off, half);
        sim_out_finish(&z);
    }
    if (z.failed) {
        b->out.failed = true;
    } else {
        /* hand z's bytes to b->out (which has no zlib state of its own to keep) */
        free(b->out.buf);
        b->out.buf = z.buf;
        b->out.len = z.len;
        b->out.cap = z.cap;
        b->out.off = z.off;
        b->out.gzip = true;
        z.buf = NULL;
    }
    sim_out_dispose(&z);
}

/* --rate-limit-headers: the budget as the request found it (GitHub's and many APIs' names). */
static void add_rate_headers(struct MHD_Response *resp, const struct rate_verdict *v)
{
    char text[24];

    snprintf(text, sizeof text, "%llu", (unsigned long long)v->per_min);
    MHD_add_response_header(resp, "X-RateLimit-Limit", text);
    snprintf(text, sizeof text, "%llu", (unsigned long long)v->remaining);
    MHD_add_response_header(resp, "X-RateLimit-Remaining", text);
    snprintf(text, sizeof text, "%llu", (unsigned long long)v->reset_s);
    MHD_add_response_header(resp, "X-RateLimit-Reset", text);
}

/* Queues b (finished, or a list page to stream) with status; takes ownership of b.
 * A reset or truncate fault of the request is applied here, to the real answer. */
static enum MHD_Result respond(const struct request *rq, struct MHD_Connection *conn,
                               unsigned status, struct body *b)
{
    struct MHD_Response *resp = NULL;
    enum MHD_Result ret;
    bool streamed = b->chunked || b->state != BODY_DONE, gzip;
    uint64_t size = MHD_SIZE_UNKNOWN;
    const char *content_type = b->content_type;
    char retry_after[sizeof b->retry_after];

    if (rq->cut != CUT_NONE) {
        /* half of the real body needs its length: build it whole (a faulted page only) */
        while (b->state != BODY_DONE && !b->out.failed)
            body_produce(b);
        if (rq->cut == CUT_TRUNCATE) {
            truncate_body(b); /* a complete answer with a Content-Length, chunked or not */
            streamed = false;
        } else {
            /* reset: the framing the real answer had (chunked, or a Content-Length) */
            b->stop_at = sim_out_pending(&b->out) / 2;
            if (!streamed)
                size = sim_out_pending(&b->out);
            streamed = true;
        }
    }
    if (b->out.failed) {
        body_free(b);
        return MHD_NO;
    }
    gzip = b->out.gzip;
    memcpy(retry_after, b->retry_after, sizeof retry_after);
    if (streamed) {
        resp = MHD_create_response_from_callback(size, STREAM_BLOCK, body_read, b, body_free);
        if (resp == NULL)
            body_free(b);
    } else {
        resp = MHD_create_response_from_buffer(sim_out_pending(&b->out), b->out.buf + b->out.off,
                                               MHD_RESPMEM_MUST_COPY);
        body_free(b);
    }
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (gzip)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    if (retry_after[0] != '\0')
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
    if (rq->rate_headers)
        add_rate_headers(resp, &rq->rate);
    ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* A small fixed JSON body. */
static enum MHD_Result send_text(struct sim_server *srv, struct MHD_Connection *conn,
                                 const struct request *rq, unsigned status, const char *json,
                                 bool plain)
{
    struct body *b = body_new(srv->ds, conn, rq, plain);

    if (b == NULL)
        return MHD_NO;
    sim_out_puts(&b->out, json);
    sim_out_finish(&b->out);
    b->state = BODY_DONE;
    return respond(rq, conn, status, b);
}

static enum MHD_Result send_error(struct sim_server *srv, struct MHD_Connection *conn,
                                  const struct request *rq, unsigned status, const char *message,
                                  const char *why)
{
    const char *url = rq->url;
    char json[256];

    if (status == MHD_HTTP_UNAUTHORIZED)
        atomic_fetch_add(&srv->unauthorized, 1);
    else
        atomic_fetch_add(&srv->errors, 1);
    if (!srv->opt.quiet)
        fprintf(stderr, "lkarchive-sim: %u GET %s: %s\n", status, url, why ? why : message);
    snprintf(json, sizeof json, "{\"error\":\"%s\"}", message);
    return send_text(srv, conn, rq, status, json, false);
}

/* Strict unsigned decimal, at most max; NULL (absent) gives def. 0 or -1. */
static int parse_count(uint64_t *out, const char *text, uint64_t def, uint64_t max)
{
    uint64_t v = 0;
    const char *p;

    if (text == NULL) {
        *out = def;
        return 0;
    }
    if (*text == '\0')
        return -1;
    for (p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > max)
            return -1;
    }
    *out = v;
    return 0;
}

static enum MHD_Result handle_list(struct sim_server *srv, struct MHD_Connection *conn,
                                   const struct request *rq, size_t project)
{
    const struct sim_dataset *ds = srv->ds;
    const char *start_text, *end_text;
    int64_t start = ds->today - (API_WINDOW_DAYS - 1), end = ds->today, lo, hi, day;
    uint64_t page = 0, limit, total = 0, first, rest;
    struct body *b;

    if (parse_count(&limit, MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit"),
                    LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT) != 0 ||
        limit == 0)
        return send_error(srv, conn, rq, MHD_HTTP_BAD_REQUEST, "invalid limit", NULL);
    /* --ignore-page: an API that ignores paging answers page 0 whatever was asked */
    if (!srv->opt.ignore_page &&
        parse_count(&page, MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "page"), 0,
                    1000000000) != 0)
        return send_error(srv, conn, rq, MHD_HTTP_BAD_REQUEST, "invalid page", NULL);
    start_text = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "start");
    end_text = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "end");
    if (start_text != NULL && sim_date_parse(&start, start_text) != 0)
        return send_error(srv, conn, rq, MHD_HTTP_BAD_REQUEST, "invalid start date", NULL);
    if (end_text != NULL && sim_date_parse(&end, end_text) != 0)
        return send_error(srv, conn, rq, MHD_HTTP_BAD_REQUEST, "invalid end date", NULL);
    if (start < ds->today - (API_WINDOW_DAYS - 1))
        return send_error(srv, conn, rq, MHD_HTTP_BAD_REQUEST,
                          "start date must be within the last 7 days", NULL);
    if (start > ds->today)
        return send_error(srv, conn, rq, MHD_HTTP_BAD_REQUEST, "start date is in the future", NULL);

    /* sessions of the days [lo, hi], in (day, index) order; each (project, day) has its own
     * count (--day-sessions, --project-sessions) */
    lo = start > ds->first_day ? start : ds->first_day;
    hi = end < ds->today ? end : ds->today;
    for (day = lo; day <= hi; day++)
        total += sim_dataset_sessions(ds, project, day);
    first = page * limit;
    if (srv->opt.shifting_pages && page > 0)
        first--;
    b = body_new(ds, conn, rq, false);
    if (b == NULL)
        return MHD_NO;
    b->project = project;
    b->remaining = first < total ? (total - first < limit ? total - first : limit) : 0;
    if (b->remaining > 0) {
        /* offset -> (day, index): skip whole days, then the rest is an index into the day */
        for (day = lo, rest = first; rest >= sim_dataset_sessions(ds, project, day); day++)
            rest -= sim_dataset_sessions(ds, project, day);
        b->day = day;
        b->index = (uint32_t)rest;
    }
    b->first = true;
    b->wrapper_extra = sim_list_wrapper_extra(ds, b->piece_seed, &b->wrapper_first);
    b->state = BODY_HEAD;
    if (rq->cut == CUT_NONE) /* a cut answer is a fault, not a list answer */
        atomic_fetch_add(&srv->lists, 1);
    return respond(rq, conn, MHD_HTTP_OK, b);
}

static enum MHD_Result handle_details(struct sim_server *srv, struct MHD_Connection *conn,
                                      const struct request *rq, size_t project, const char *id)
{
    struct sim_session s;
    struct body *b;
    const char *segment;

    if (srv->ds->hostile && (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)) {
        /* --hostile: MHD hands over the decoded path; as sent, the ids "." and ".." must be
         * percent-encoded (%2E): a literal dot segment is what RFC 3986 removes, and what a
         * proxy or curl would turn into the project's list */
        segment = strrchr(rq->uri, '/');
        if (segment == NULL || segment[1] == '.')
            return send_error(srv, conn, rq, MHD_HTTP_NOT_FOUND, "session not found",
                              "a dot segment sent unencoded");
    }
    if (sim_session_lookup(&s, srv->ds, project, id) != 0)
        return send_error(srv, conn, rq, MHD_HTTP_NOT_FOUND, "session not found", NULL);
    b = body_new(srv->ds, conn, rq, false);
    if (b == NULL)
        return MHD_NO;
    sim_json_details(&b->out, &b->gen, &s);
    sim_out_finish(&b->out);
    b->state = BODY_DONE;
    if (rq->cut == CUT_NONE)
        atomic_fetch_add(&srv->details, 1);
    return respond(rq, conn, MHD_HTTP_OK, b);
}

/* The counters as one compact line. The per-project members have names of their own
 * ("api_requests", not "requests"): scripts read a counter with a greedy sed, whose
 * `.*"requests":` would otherwise find the last project's. */
static enum MHD_Result handle_stats(struct sim_server *srv, struct MHD_Connection *conn,
                                    const struct request *rq)
{
    /* 16 projects of up to 100-byte ids with five 20-digit counters each fit */
    char json[8192];
    const struct project_counters *pc;
    size_t len, p;

    len =
        (size_t)snprintf(json, sizeof json,
                         "{\"requests\":%llu,\"list\":%llu,\"details\":%llu,\"unauthorized\":%llu,"
                         "\"errors\":%llu,\"faults\":%llu,\"throttled\":%llu,\"projects\":{",
                         (unsigned long long)atomic_load(&srv->requests),
                         (unsigned long long)atomic_load(&srv->lists),
                         (unsigned long long)atomic_load(&srv->details),
                         (unsigned long long)atomic_load(&srv->unauthorized),
                         (unsigned long long)atomic_load(&srv->errors),
                         (unsigned long long)atomic_load(&srv->faults),
                         (unsigned long long)atomic_load(&srv->throttled));
    for (p = 0; p < srv->ds->n_projects && len < sizeof json; p++) {
        pc = &srv->projects[p];
        len += (size_t)snprintf(json + len, sizeof json - len,
                                "%s\"%s\":{\"api_requests\":%llu,\"list_requests\":%llu,"
                                "\"details_requests\":%llu,\"throttled_requests\":%llu,"
                                "\"distinct_tokens\":%llu}",
                                p > 0 ? "," : "", srv->ds->projects[p],
                                (unsigned long long)atomic_load(&pc->requests),
                                (unsigned long long)atomic_load(&pc->lists),
                                (unsigned long long)atomic_load(&pc->details),
                                (unsigned long long)atomic_load(&pc->throttled),
                                (unsigned long long)atomic_load(&pc->tokens));
    }
    if (len < sizeof json)
        snprintf(json + len, sizeof json - len, "}}");
    /* compact and unquirked whatever --quirks says: scripts read it with sed */
    return send_text(srv, conn, rq, MHD_HTTP_OK, json, true);
}

/* ---- fault rules ------------------------------------------------------------------------ */

static const char *const FAULT_NAMES[] = {"500",     "503",  "429",  "reset", "truncate",
                                          "badjson", "slow", "hang", "echo"};

const char *sim_fault_name(enum sim_fault_kind kind)
{
    return FAULT_NAMES[kind];
}

/* Strict decimal in [min, max]: 0 or -1. */
static int parse_range(uint64_t *out, const char *text, uint64_t min, uint64_t max)
{
    uint64_t v;

    if (text == NULL || parse_count(&v, text, 0, max) != 0 || v < min)
        return -1;
    *out = v;
    return 0;
}

/* A probability: digits with at most one '.', 0..1. 0 or -1. */
static int parse_rate(double *out, const char *text)
{
    const char *p;
    char *end = NULL;
    int dots = 0, digits = 0;
    double v;

    if (text == NULL)
        return -1;
    for (p = text; *p; p++) {
        if (*p == '.')
            dots++;
        else if (*p >= '0' && *p <= '9')
            digits++;
        else
            return -1;
    }
    if (dots > 1 || digits == 0)
        return -1;
    v = strtod(text, &end);
    if (end == NULL || *end != '\0' || !(v >= 0.0 && v <= 1.0))
        return -1;
    *out = v;
    return 0;
}

int sim_fault_parse(struct sim_fault *out, const char *rule, char *err, size_t errlen)
{
    enum { K_MATCH = 1, K_TIMES = 2, K_PERMANENT = 4, K_RATE = 8, K_RETRY = 16, K_MS = 32 };
    const char *colon = strchr(rule, ':'), *p, *end, *value;
    char item[320], *eq;
    unsigned seen = 0, key;
    size_t len, i;
    uint64_t v;
    int rc = -1;

    memset(out, 0, sizeof *out);
    out->retry_after = -1;
    len = colon != NULL ? (size_t)(colon - rule) : strlen(rule);
    for (i = 0; i < sizeof FAULT_NAMES / sizeof FAULT_NAMES[0]; i++)
        if (strlen(FAULT_NAMES[i]) == len && memcmp(FAULT_NAMES[i], rule, len) == 0)
            break;
    if (i == sizeof FAULT_NAMES / sizeof FAULT_NAMES[0]) {
        snprintf(err, errlen,
                 "unknown kind '%.*s' (500, 503, 429, reset, truncate, badjson, slow, hang, echo)",
                 (int)(len > 32 ? 32 : len), rule);
        goto done;
    }
    out->kind = (enum sim_fault_kind)i;
    for (p = colon != NULL ? colon + 1 : NULL; p != NULL; p = end != NULL ? end + 1 : NULL) {
        end = strchr(p, ',');
        len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len == 0) {
            snprintf(err, errlen, "empty key");
            goto done;
        }
        if (len >= sizeof item) {
            snprintf(err, errlen, "'%.32s...' is too long", p);
            goto done;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        /* the value runs to the next comma and may hold '=' (match=start=2026-11-19) */
        eq = strchr(item, '=');
        value = NULL;
        if (eq != NULL) {
            *eq = '\0';
            value = eq + 1;
        }
        if (strcmp(item, "match") == 0) {
            key = K_MATCH;
            if (value == NULL || *value == '\0' || strlen(value) >= sizeof out->substr) {
                snprintf(err, errlen, "match wants list, details or a substring (1..255 bytes)");
                goto done;
            }
            if (strcmp(value, "list") == 0) {
                out->match = SIM_MATCH_LIST;
            } else if (strcmp(value, "details") == 0) {
                out->match = SIM_MATCH_DETAILS;
            } else {
                out->match = SIM_MATCH_SUBSTR;
                memcpy(out->substr, value, strlen(value) + 1);
            }
        } else if (strcmp(item, "times") == 0) {
            key = K_TIMES;
            if (parse_range(&out->times, value, 1, 1000000000) != 0) {
                snprintf(err, errlen, "times wants a number in 1..1000000000");
                goto done;
            }
        } else if (strcmp(item, "permanent") == 0) {
            key = K_PERMANENT;
            if (value != NULL) {
                snprintf(err, errlen, "permanent takes no value");
                goto done;
            }
            out->permanent = true;
        } else if (strcmp(item, "rate") == 0) {
            key = K_RATE;
            if (parse_rate(&out->rate, value) != 0) {
                snprintf(err, errlen, "rate wants a probability in 0..1, e.g. 0.25");
                goto done;
            }
            out->has_rate = true;
            out->rate_limit = (uint64_t)(out->rate * TWO_POW_53);
        } else if (strcmp(item, "retry-after") == 0) {
            key = K_RETRY;
            if (out->kind != SIM_FAULT_429 && out->kind != SIM_FAULT_503) {
                snprintf(err, errlen, "retry-after is only for 429 and 503");
                goto done;
            }
            if (parse_range(&v, value, 0, 86400) != 0) {
                snprintf(err, errlen, "retry-after wants seconds in 0..86400");
                goto done;
            }
            out->retry_after = (int64_t)v;
        } else if (strcmp(item, "ms") == 0) {
            key = K_MS;
            if (out->kind != SIM_FAULT_SLOW && out->kind != SIM_FAULT_HANG) {
                snprintf(err, errlen, "ms is only for slow and hang");
                goto done;
            }
            if (parse_range(&out->ms, value, 0, SIM_FAULT_MAX_MS) != 0) {
                snprintf(err, errlen, "ms wants milliseconds in 0..%u", SIM_FAULT_MAX_MS);
                goto done;
            }
        } else {
            snprintf(err, errlen,
                     "unknown key '%.32s' (match, times, permanent, rate, retry-after, ms)", item);
            goto done;
        }
        if ((seen & key) != 0) {
            snprintf(err, errlen, "%s given twice", item);
            goto done;
        }
        seen |= key;
    }
    if (out->permanent && (seen & K_TIMES) != 0) {
        snprintf(err, errlen, "permanent and times exclude each other");
        goto done;
    }
    if (!out->permanent && !out->has_rate && out->times == 0)
        out->times = 1; /* transient by default: the first request to each URL fails */
    if ((seen & K_MS) == 0)
        out->ms = out->kind == SIM_FAULT_HANG ? 30000 : 2000;
    rc = 0;
done:
    return rc;
}

/* ---- per-URL request counts ------------------------------------------------------------- */

static int counts_grow(struct url_counts *c)
{
    size_t cap = c->cap != 0 ? c->cap * 2 : COUNTS_MIN, i, j;
    uint64_t *keys = calloc(cap, sizeof *keys);
    uint32_t *hits = calloc(cap, sizeof *hits);

    if (keys == NULL || hits == NULL) {
        free(keys);
        free(hits);
        return -1;
    }
    for (i = 0; i < c->cap; i++) {
        if (c->keys[i] == 0)
            continue;
        for (j = (size_t)c->keys[i] & (cap - 1); keys[j] != 0; j = (j + 1) & (cap - 1))
            ;
        keys[j] = c->keys[i];
        hits[j] = c->hits[i];
    }
    free(c->keys);
    free(c->hits);
    c->keys = keys;
    c->hits = hits;
    c->cap = cap;
    return 0;
}

/* How many requests this URL had before; counts this one. A new URL when the map is full
 * (or memory is short) counts as 0 every time. */
static uint64_t counts_bump(struct url_counts *c, uint64_t h)
{
    uint64_t prev = 0;
    size_t i;

    if (h == 0)
        h = 1; /* 0 marks an empty slot */
    pthread_mutex_lock(&c->lock);
    if ((c->used + 1) * 4 > c->cap * 3 && c->cap < COUNTS_MAX)
        (void)counts_grow(c); /* on failure the map stays as it is: still correct */
    if (c->cap == 0)
        goto done;
    for (i = (size_t)h & (c->cap - 1); c->keys[i] != 0; i = (i + 1) & (c->cap - 1)) {
        if (c->keys[i] == h) {
            prev = c->hits[i];
            if (c->hits[i] < UINT32_MAX)
                c->hits[i]++;
            goto done;
        }
    }
    if ((c->used + 1) * 4 > c->cap * 3)
        goto done; /* full: a probe must always end on an empty slot */
    c->keys[i] = h;
    c->hits[i] = 1;
    c->used++;
done:
    pthread_mutex_unlock(&c->lock);
    return prev;
}

/* ---- the timer: resumes suspended connections --------------------------------------------- */

static int ts_cmp(const struct timespec *a, const struct timespec *b)
{
    if (a->tv_sec != b->tv_sec)
        return a->tv_sec < b->tv_sec ? -1 : 1;
    return a->tv_nsec < b->tv_nsec ? -1 : a->tv_nsec > b->tv_nsec ? 1 : 0;
}

/* Resumes every request of the list. Called without the timer's lock: MHD takes its own. */
static void resume_all(struct request *r)
{
    struct request *next;
    struct MHD_Connection *conn;

    while (r != NULL) {
        /* once resumed, r may complete and be freed at any moment: read it first */
        next = r->next;
        conn = r->conn;
        MHD_resume_connection(conn);
        r = next;
    }
}

static void *timer_main(void *cls)
{
    struct timer *t = cls;
    struct request *r, **pp, *due;
    struct timespec now, next = {0, 0};
    bool have_next;

    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        due = NULL;
        have_next = false;
        for (pp = &t->pending; (r = *pp) != NULL;) {
            if (ts_cmp(&r->deadline, &now) <= 0) {
                *pp = r->next;
                r->queued = false;
                r->next = due;
                due = r;
            } else {
                if (!have_next || ts_cmp(&r->deadline, &next) < 0)
                    next = r->deadline;
                have_next = true;
                pp = &r->next;
            }
        }
        if (due != NULL) {
            pthread_mutex_unlock(&t->lock);
            resume_all(due);
            pthread_mutex_lock(&t->lock);
        } else if (have_next) {
            pthread_cond_timedwait(&t->cond, &t->lock, &next);
        } else {
            pthread_cond_wait(&t->cond, &t->lock);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

static int timer_start(struct timer *t)
{
    pthread_condattr_t attr;
    int rc = -1;

    if (pthread_mutex_init(&t->lock, NULL) != 0)
        return -1;
    if (pthread_condattr_init(&attr) != 0) {
        pthread_mutex_destroy(&t->lock);
        return -1;
    }
    /* deadlines are monotonic: a wall clock step must not shorten or stretch a hang */
    if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
        pthread_cond_init(&t->cond, &attr) == 0) {
        if (pthread_create(&t->thread, NULL, timer_main, t) == 0) {
            t->running = true;
            rc = 0;
        } else {
            pthread_cond_destroy(&t->cond);
        }
    }
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        pthread_mutex_destroy(&t->lock);
    return rc;
}

/* Called in the handler after MHD_suspend_connection: the timer resumes r at r->deadline. */
static void timer_add(struct timer *t, struct request *r)
{
    pthread_mutex_lock(&t->lock);
    if (t->stopping) {
        /* shutting down: MHD_stop_daemon must find no suspended connection */
        pthread_mutex_unlock(&t->lock);
        MHD_resume_connection(r->conn);
        return;
    }
    r->next = t->pending;
    r->queued = true;
    t->pending = r;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
}

/* Stops the thread and resumes whatever still waits (before MHD_stop_daemon). */
static void timer_stop(struct timer *t)
{
    struct request *r, *due;

    pthread_mutex_lock(&t->lock);
    t->stopping = true;
    due = t->pending;
    t->pending = NULL;
    for (r = due; r != NULL; r = r->next)
        r->queued = false;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    t->running = false;
    resume_all(due);
}

/* ---- fault injection -------------------------------------------------------------------- */

static enum api_kind classify(const char *url)
{
    static const char prefix[] = "/api/project/";
    const char *p, *slash;

    if (strncmp(url, prefix, sizeof prefix - 1) != 0)
        return API_OTHER;
    p = url + sizeof prefix - 1;
    slash = strchr(p, '/');
    if (slash == NULL || slash == p)
        return API_OTHER;
    if (strcmp(slash, "/sessions") == 0)
        return API_LIST;
    if (strncmp(slash, "/sessions/", 10) == 0 && slash[10] != '\0' &&
        strchr(slash + 10, '/') == NULL)
        return API_DETAILS;
    return API_OTHER;
}

/* The first rule that decides to fail this request (the URL's n-th, from 0), or NULL;
 * why says which limit let it fail. */
static const struct sim_fault *pick_fault(const struct sim_server *srv, const struct request *rq,
                                          enum api_kind kind, uint64_t h, uint64_t n, char *why,
                                          size_t whylen)
{
    const struct sim_fault *f;
    uint64_t draw;
    size_t i;

    for (i = 0; i < srv->opt.n_faults; i++) {
        f = &srv->opt.faults[i];
        if ((f->match == SIM_MATCH_LIST && kind != API_LIST) ||
            (f->match == SIM_MATCH_DETAILS && kind != API_DETAILS) ||
            (f->match == SIM_MATCH_SUBSTR && strstr(rq->uri, f->substr) == NULL))
            continue;
        if (f->times != 0 && n >= f->times)
            continue;
        if (f->has_rate) {
            /* the same (seed, URL, n, rule) always draws the same: a request order replays */
            draw = sim_hash(sim_hash(sim_hash(srv->ds->seed, h), n), i) >> 11;
            if (draw >= f->rate_limit)
                continue;
        }
        if (f->has_rate && f->times != 0)
            snprintf(why, whylen, "rate %g, times %llu/%llu", f->rate, (unsigned long long)n + 1,
                     (unsigned long long)f->times);
        else if (f->has_rate)
            snprintf(why, whylen, "rate %g, request %llu", f->rate, (unsigned long long)n + 1);
        else if (f->permanent)
            snprintf(why, whylen, "permanent, request %llu", (unsigned long long)n + 1);
        else
            snprintf(why, whylen, "times %llu/%llu", (unsigned long long)n + 1,
                     (unsigned long long)f->times);
        return f;
    }
    return NULL;
}

/* 500, 503, 429: a small JSON error instead of the answer. */
static enum MHD_Result send_fault_status(struct sim_server *srv, struct MHD_Connection *conn,
                                         const struct request *rq, const struct sim_fault *f)
{
    static const struct {
        unsigned status;
        const char *json;
    } answers[] = {
        {MHD_HTTP_INTERNAL_SERVER_ERROR, "{\"error\":\"internal server error\"}"},
        {MHD_HTTP_SERVICE_UNAVAILABLE, "{\"error\":\"service unavailable\"}"},
        {MHD_HTTP_TOO_MANY_REQUESTS, "{\"error\":\"too many requests\"}"},
    };
    struct body *b = body_new(srv->ds, conn, rq, false);
    size_t i = f->kind == SIM_FAULT_500 ? 0 : f->kind == SIM_FAULT_503 ? 1 : 2;

    if (b == NULL)
        return MHD_NO;
    if (f->retry_after >= 0)
        snprintf(b->retry_after, sizeof b->retry_after, "%lld", (long long)f->retry_after);
    sim_out_puts(&b->out, answers[i].json);
    sim_out_finish(&b->out);
    b->state = BODY_DONE;
    return respond(rq, conn, answers[i].status, b);
}

/* echo: a 500 whose body echoes the request's Authorization header (as a careless proxy or
 * debug page does) after what a terminal would obey: ESC [2J (clear), an OSC title, CR LF and
 * a forged line, a U+202E override. The client must show none of it raw, nor the token. */
static enum MHD_Result send_echo(struct sim_server *srv, struct MHD_Connection *conn,
                                 const struct request *rq)
{
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    struct body *b = body_new(srv->ds, conn, rq, false);

    if (b == NULL)
        return MHD_NO;
    sim_out_puts(&b->out, "{\"error\":\"upstream \x1b[2J\x1b]0;owned\x07\r\nlkarchive: forged "
                          "line \xe2\x80\xae"
                          "evil\",\"authorization\":\"");
    sim_out_puts(&b->out, auth ? auth : "");
    sim_out_puts(&b->out, "\"}");
    sim_out_finish(&b->out);
    b->state = BODY_DONE;
    return respond(rq, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, b);
}

/* badjson: a 200 whose body is a proxy's HTML page or broken JSON (alternating per URL). */
static enum MHD_Result send_badjson(struct sim_server *srv, struct MHD_Connection *conn,
                                    const struct request *rq, enum api_kind kind, uint64_t h,
                                    uint64_t n)
{
    struct body *b = body_new(srv->ds, conn, rq, true); /* a proxy's page: no quirks */
    bool html = (sim_hash(sim_hash(srv->ds->seed, h), n) & 1) == 0;

    if (b == NULL)
        return MHD_NO;
    if (html) {
        b->content_type = "text/html";
        sim_out_puts(&b->out, "<html><body>502 Bad Gateway</body></html>\n");
    } else {
        sim_out_puts(&b->out, kind == API_LIST ? "{\"sessions\":[{\"sessionId\":\"RM_\",}]"
                                               : "{\"roomId\":\"RM_\",\"participants\":[{,}]");
    }
    sim_out_finish(&b->out);
    b->state = BODY_DONE;
    return respond(rq, conn, MHD_HTTP_OK, b);
}

/* The --fault and --slow-above-limit decision on an authenticated /api/ request that got past
 * the rate limit: a status or badjson fault goes to rq->fault, reset/truncate to rq->cut, hang
 * to rq->hang. Returns the delay (ms) that slow, hang and --slow-above-limit add. */
static uint64_t pick_faults(struct sim_server *srv, struct MHD_Connection *conn, struct request *rq)
{
    const struct sim_fault *f = NULL;
    uint64_t delay = 0, limit;
    char why[96];

    if (srv->opt.n_faults > 0) {
        rq->url_hash = text_hash(rq->uri);
        rq->url_count = counts_bump(&srv->counts, rq->url_hash);
        f = pick_fault(srv, rq, rq->kind, rq->url_hash, rq->url_count, why, sizeof why);
    }
    if (f != NULL) {
        atomic_fetch_add(&srv->faults, 1);
        if (!srv->opt.quiet)
            fprintf(stderr, "lkarchive-sim: fault %s on %s (%s)\n", sim_fault_name(f->kind),
                    rq->uri, why);
        switch (f->kind) {
        case SIM_FAULT_500:
        case SIM_FAULT_503:
        case SIM_FAULT_429:
        case SIM_FAULT_BADJSON:
        case SIM_FAULT_ECHO:
            rq->fault = f; /* answered instead of the real answer (answer) */
            break;
        case SIM_FAULT_RESET:
            rq->cut = CUT_RESET;
            break;
        case SIM_FAULT_TRUNCATE:
            rq->cut = CUT_TRUNCATE;
            break;
        case SIM_FAULT_SLOW:
            delay = f->ms;
            break;
        case SIM_FAULT_HANG:
            rq->hang = true;
            delay = f->ms;
            break;
        }
    }
    if (srv->opt.slow_above && rq->kind == API_LIST && rq->fault == NULL && !rq->hang &&
        parse_count(&limit, MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit"),
                    LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT) == 0 &&
        limit > srv->opt.slow_above_limit) {
        /* an API that times out on large pages */
        if (f == NULL)
            atomic_fetch_add(&srv->faults, 1);
        if (!srv->opt.quiet)
            fprintf(stderr, "lkarchive-sim: fault slow-above-limit on %s (limit %llu > %llu)\n",
                    rq->uri, (unsigned long long)limit,
                    (unsigned long long)srv->opt.slow_above_limit);
        delay += srv->opt.slow_above_ms;
    }
    return delay;
}

/* Parks the connection until ms after the request arrived: no MHD thread waits; the timer
 * resumes it and MHD calls the handler again, which answers from the decision (answer). */
static enum MHD_Result park(struct sim_server *srv, struct MHD_Connection *conn, struct request *rq,
                            uint64_t ms)
{
    rq->deadline.tv_sec = rq->arrived.tv_sec + (time_t)(ms / 1000);
    rq->deadline.tv_nsec = rq->arrived.tv_nsec + (long)(ms % 1000) * 1000000L;
    if (rq->deadline.tv_nsec >= 1000000000L) {
        rq->deadline.tv_sec++;
        rq->deadline.tv_nsec -= 1000000000L;
    }
    rq->delayed = true;
    rq->conn = conn;
    MHD_suspend_connection(conn);
    timer_add(&srv->timer, rq);
    return MHD_YES;
}

/* ---- rate limit: a token bucket per project --------------------------------------------- */

static int64_t monotonic_ns(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * (int64_t)NS_PER_SEC + (int64_t)now.tv_nsec;
}

/* Refills b up to now_ns, takes a token if there is one, and says what is left. */
static void bucket_take(struct bucket *b, int64_t now_ns, struct rate_verdict *out)
{
    uint64_t room, elapsed, wait_ns;

    pthread_mutex_lock(&b->lock);
    if (now_ns > b->last_ns) {
        /* per_min units a nanosecond; once the time that fills it is past, it is full (the
         * product below stays under the room left, so it cannot overflow) */
        elapsed = (uint64_t)(now_ns - b->last_ns);
        room = b->capacity - b->units;
        if (elapsed >= (room + b->per_min - 1) / b->per_min)
            b->units = b->capacity;
        else
            b->units += elapsed * b->per_min;
        b->last_ns = now_ns;
    }
    out->limited = true;
    out->per_min = b->per_min;
    out->throttled = b->units < UNITS_PER_TOKEN;
    if (!out->throttled)
        b->units -= UNITS_PER_TOKEN;
    out->remaining = b->units / UNITS_PER_TOKEN;
    out->reset_s = 0;
    if (b->units < UNITS_PER_TOKEN) {
        wait_ns = (UNITS_PER_TOKEN - b->units + b->per_min - 1) / b->per_min;
        out->reset_s = (wait_ns + NS_PER_SEC - 1) / NS_PER_SEC;
    }
    pthread_mutex_unlock(&b->lock);
}

/* Adds the hash of an accepted request's Authorization to project p's set of tokens. */
static void note_token(struct project_counters *pc, const char *authorization)
{
    unsigned long long hash = text_hash(authorization), seen;

    if (hash == 0)
        hash = 1; /* 0 marks a free slot */
    for (size_t i = 0; i < TOKEN_SLOTS; i++) {
        seen = atomic_load(&pc->token_hashes[i]);
        if (seen == 0) {
            unsigned long long expected = 0;
            if (atomic_compare_exchange_strong(&pc->token_hashes[i], &expected, hash)) {
                atomic_fetch_add(&pc->tokens, 1);
                return;
            }
            seen = expected; /* another thread filled it first */
        }
        if (seen == hash)
            return;
    }
}

/* Counts an authenticated request of project p and takes its token (if p has a limit).
 * True: no token, the request gets 429 (rq->rate says when to come back). */
static bool throttle(struct sim_server *srv, struct request *rq, size_t p)
{
    struct project_counters *pc = &srv->projects[p];
    struct bucket *b = &srv->buckets[p];

    atomic_fetch_add(&pc->requests, 1);
    if (b->per_min > 0) {
        bucket_take(b, monotonic_ns(), &rq->rate);
        rq->rate_headers = srv->opt.rate_limit_headers;
    }
    if (rq->rate.throttled) {
        atomic_fetch_add(&pc->throttled, 1);
        atomic_fetch_add(&srv->throttled, 1);
        if (!srv->opt.quiet)
            fprintf(stderr,
                    "lkarchive-sim: 429 GET %s: rate limit of %s (%llu a minute), retry after "
                    "%llu s\n",
                    rq->url, srv->ds->projects[p], (unsigned long long)b->per_min,
                    (unsigned long long)rq->rate.reset_s);
    } else if (rq->kind == API_LIST) {
        atomic_fetch_add(&pc->lists, 1);
    } else if (rq->kind == API_DETAILS) {
        atomic_fetch_add(&pc->details, 1);
    }
    return rq->rate.throttled;
}

/* The rate limit's 429: Retry-After in whole seconds until the next token, at least 1. */
static enum MHD_Result send_throttled(struct sim_server *srv, struct MHD_Connection *conn,
                                      const struct request *rq)
{
    struct body *b = body_new(srv->ds, conn, rq, false);

    if (b == NULL)
        return MHD_NO;
    snprintf(b->retry_after, sizeof b->retry_after, "%llu",
             (unsigned long long)(rq->rate.reset_s > 0 ? rq->rate.reset_s : 1));
    sim_out_puts(&b->out, "{\"error\":\"too many requests\"}");
    sim_out_finish(&b->out);
    b->state = BODY_DONE;
    return respond(rq, conn, MHD_HTTP_TOO_MANY_REQUESTS, b);
}

/* ---- routing ---------------------------------------------------------------------------- */

/* An authenticated /api/ request, after any fault delay. */
static enum MHD_Result dispatch(struct sim_server *srv, struct MHD_Connection *conn,
                                const struct request *rq)
{
    static const char prefix[] = "/api/project/";
    const char *url = rq->url, *p, *slash;
    char project[128];
    size_t len;
    int index;

    if (srv->opt.plan_below_scale)
        return send_error(srv, conn, rq, MHD_HTTP_FORBIDDEN,
                          "analytics API requires the Scale plan or higher", NULL);
    if (strncmp(url, prefix, sizeof prefix - 1) != 0)
        return send_error(srv, conn, rq, MHD_HTTP_NOT_FOUND, "not found", NULL);
    p = url + sizeof prefix - 1;
    slash = strchr(p, '/');
    len = slash != NULL ? (size_t)(slash - p) : strlen(p);
    if (len == 0 || len >= sizeof project)
        return send_error(srv, conn, rq, MHD_HTTP_NOT_FOUND, "not found", NULL);
    memcpy(project, p, len);
    project[len] = '\0';
    index = sim_dataset_project(srv->ds, project);
    if (index < 0)
        return send_error(srv, conn, rq, MHD_HTTP_NOT_FOUND, "project not found", NULL);
    p += len;
    if (strcmp(p, "/sessions") == 0)
        return handle_list(srv, conn, rq, (size_t)index);
    if (strncmp(p, "/sessions/", 10) == 0 && p[10] != '\0' && strchr(p + 10, '/') == NULL)
        return handle_details(srv, conn, rq, (size_t)index, p + 10);
    return send_error(srv, conn, rq, MHD_HTTP_NOT_FOUND, "not found", NULL);
}

/* The index of the project an /api/project/{id}/... path names, or -1. */
static int url_project(const struct sim_dataset *ds, const char *url)
{
    static const char prefix[] = "/api/project/";
    const char *p, *slash;
    char project[128];
    size_t len;
    int index = -1;

    if (strncmp(url, prefix, sizeof prefix - 1) == 0) {
        p = url + sizeof prefix - 1;
        slash = strchr(p, '/');
        len = slash != NULL ? (size_t)(slash - p) : strlen(p);
        if (len > 0 && len < sizeof project) {
            memcpy(project, p, len);
            project[len] = '\0';
            index = sim_dataset_project(ds, project);
        }
    }
    return index;
}

/* Everything about an /api/ request is decided when it arrives, in this order: the method,
 * the token (401), the project's rate limit (429), the fault rules. Returns how long after
 * its arrival the request is answered (--latency-ms plus what a fault adds). */
static uint64_t decide(struct sim_server *srv, struct MHD_Connection *conn, struct request *rq,
                       const char *method)
{
    const char *reason = NULL;
    const char *authorization =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    uint64_t delay = srv->opt.latency_ms;
    int project;

    if (strcmp(method, "GET") != 0) {
        rq->not_get = true;
    } else if (sim_auth_check(srv->auth, authorization, time(NULL), &reason) != 0) {
        rq->unauthorized = reason != NULL ? reason : "invalid token";
    } else {
        rq->kind = classify(rq->url);
        project = url_project(srv->ds, rq->url);
        if (project >= 0)
            note_token(&srv->projects[project], authorization);
        /* the rate limit after the token check (a bad token takes no token), the faults
         * after the rate limit (a throttled request does not count for times=N) */
        if ((project < 0 || !throttle(srv, rq, (size_t)project)) &&
            (srv->opt.n_faults > 0 || srv->opt.slow_above))
            delay += pick_faults(srv, conn, rq);
    }
    return delay;
}

/* Answers an /api/ request from what decide found: at once, or when the timer resumed it. */
static enum MHD_Result answer(struct sim_server *srv, struct MHD_Connection *conn,
                              const struct request *rq)
{
    if (rq->not_get)
        return send_error(srv, conn, rq, MHD_HTTP_NOT_FOUND, "not found", NULL);
    if (rq->unauthorized != NULL)
        return send_error(srv, conn, rq, MHD_HTTP_UNAUTHORIZED, "invalid token", rq->unauthorized);
    if (rq->rate.throttled)
        return send_throttled(srv, conn, rq);
    if (rq->hang)
        return MHD_NO; /* MHD closes the connection without a byte sent */
    if (rq->fault != NULL && rq->fault->kind == SIM_FAULT_BADJSON)
        return send_badjson(srv, conn, rq, rq->kind, rq->url_hash, rq->url_count);
    if (rq->fault != NULL && rq->fault->kind == SIM_FAULT_ECHO)
        return send_echo(srv, conn, rq);
    if (rq->fault != NULL)
        return send_fault_status(srv, conn, rq, rq->fault);
    return dispatch(srv, conn, rq);
}

static enum MHD_Result route(struct sim_server *srv, struct MHD_Connection *conn,
                             struct request *rq, const char *method)
{
    const char *url = rq->url;
    uint64_t delay;

    /* every request counts, a stats request too (before it reads the counters) */
    atomic_fetch_add(&srv->requests, 1);
    if (strcmp(url, "/_sim/stats") == 0 && strcmp(method, "GET") == 0)
        return handle_stats(srv, conn, rq);
    if (strncmp(url, "/api/", 5) != 0)
        return send_error(srv, conn, rq, MHD_HTTP_NOT_FOUND, "not found", NULL);
    delay = decide(srv, conn, rq, method);
    if (delay > 0 || rq->hang)
        return park(srv, conn, rq, delay);
    return answer(srv, conn, rq);
}

/* MHD_OPTION_URI_LOG_CALLBACK: the request's context, with path+query as sent. Its return
 * value is the handler's first *req_cls; MHD then reports completion (on_completed). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    size_t len = strlen(uri);
    struct request *rq = calloc(1, sizeof *rq + len + 1);

    (void)cls;
    if (rq != NULL) {
        memcpy(rq->uri, uri, len + 1);
        rq->conn = conn;
        /* --latency-ms counts from here: the headers have just arrived */
        clock_gettime(CLOCK_MONOTONIC, &rq->arrived);
    }
    return rq;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct sim_server *srv = cls;
    struct request *rq = *req_cls, **pp;

    (void)conn;
    (void)toe;
    if (rq == NULL)
        return;
    if (rq->queued) {
        /* cannot happen (a suspended request does not complete), but never leave it linked */
        pthread_mutex_lock(&srv->timer.lock);
        for (pp = &srv->timer.pending; *pp != NULL; pp = &(*pp)->next) {
            if (*pp == rq) {
                *pp = rq->next;
                break;
            }
        }
        pthread_mutex_unlock(&srv->timer.lock);
    }
    free(rq);
    *req_cls = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct request *rq = *req_cls;

    (void)version;
    (void)upload_data;
    if (rq == NULL)
        return MHD_NO; /* on_uri ran out of memory */
    if (!rq->seen) {
        rq->seen = true; /* headers only: answer on the next call */
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* a request body is ignored */
        return MHD_YES;
    }
    rq->url = url;
    if (rq->delayed)
        return answer(cls, conn, rq); /* resumed by the timer: latency, slow or hang */
    return route(cls, conn, rq, method);
}

static bool needs_timer(const struct sim_server_options *opt)
{
    size_t i;

    for (i = 0; i < opt->n_faults; i++)
        if (opt->faults[i].kind == SIM_FAULT_SLOW || opt->faults[i].kind == SIM_FAULT_HANG)
            return true;
    return opt->slow_above || opt->latency_ms > 0;
}

/* One bucket per project that has a limit, full: burst requests may come at once. 0 or -1. */
static int buckets_init(struct sim_server *srv)
{
    const struct sim_rate_limit *limit;
    struct bucket *b;
    size_t p;
    int rc = 0;

    for (p = 0; p < srv->ds->n_projects && rc == 0; p++) {
        limit = &srv->opt.rate_limits[p];
        b = &srv->buckets[p];
        if (limit->per_min == 0)
            continue;
        assert(limit->burst >= 1 && limit->burst <= SIM_RATE_MAX_BURST);
        if (pthread_mutex_init(&b->lock, NULL) != 0) {
            rc = -1;
            break;
        }
        b->per_min = limit->per_min;
        b->capacity = limit->burst * UNITS_PER_TOKEN;
        b->units = b->capacity;
        b->last_ns = monotonic_ns();
        srv->buckets_ready = p + 1;
    }
    return rc;
}

int sim_server_start(struct sim_server **out, const struct sim_dataset *ds,
                     const struct sim_auth *auth, const struct sim_server_options *opt, char *err,
                     size_t errlen)
{
    struct sim_server *srv = calloc(1, sizeof *srv);
    struct sockaddr_in addr;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
    size_t p;
    int rc = -1;

    if (srv == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    srv->ds = ds;
    srv->auth = auth;
    srv->opt = *opt;
    atomic_init(&srv->requests, 0);
    atomic_init(&srv->lists, 0);
    atomic_init(&srv->details, 0);
    atomic_init(&srv->unauthorized, 0);
    atomic_init(&srv->errors, 0);
    atomic_init(&srv->faults, 0);
    atomic_init(&srv->throttled, 0);
    for (p = 0; p < SIM_MAX_PROJECTS; p++) {
        atomic_init(&srv->projects[p].requests, 0);
        atomic_init(&srv->projects[p].lists, 0);
        atomic_init(&srv->projects[p].details, 0);
        atomic_init(&srv->projects[p].throttled, 0);
        atomic_init(&srv->projects[p].tokens, 0);
        for (size_t i = 0; i < TOKEN_SLOTS; i++)
            atomic_init(&srv->projects[p].token_hashes[i], 0);
    }
    if (pthread_mutex_init(&srv->counts.lock, NULL) != 0) {
        snprintf(err, errlen, "could not create a mutex");
        goto done;
    }
    srv->sync_ready = true;
    if (buckets_init(srv) != 0) {
        snprintf(err, errlen, "could not create a mutex");
        goto done;
    }
    if (needs_timer(opt)) {
        if (timer_start(&srv->timer) != 0) {
            snprintf(err, errlen, "could not start the timer thread");
            goto done;
        }
        srv->timer_ready = true;
        flags |= MHD_ALLOW_SUSPEND_RESUME;
    }
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(opt->port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* never reachable from outside */
    if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
        flags |= MHD_USE_EPOLL;
    if (!opt->quiet)
        flags |= MHD_USE_ERROR_LOG;
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(opt->threads > 0 ? opt->threads : 1),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)POOL_SIZE, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)120, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1000,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)256, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_END);
    if (srv->daemon == NULL) {
        snprintf(err, errlen, "could not listen on 127.0.0.1:%u", (unsigned)opt->port);
        goto done;
    }
    info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0) {
        snprintf(err, errlen, "could not read the bound port");
        goto done;
    }
    srv->port = info->port;
    *out = srv;
    srv = NULL;
    rc = 0;
done:
    sim_server_stop(srv);
    return rc;
}

uint16_t sim_server_port(const struct sim_server *srv)
{
    return srv->port;
}

void sim_server_stop(struct sim_server *srv)
{
    size_t p;

    if (srv == NULL)
        return;
    /* first wake every parked connection: MHD_stop_daemon must find none suspended */
    if (srv->timer.running)
        timer_stop(&srv->timer);
    if (srv->daemon != NULL)
        MHD_stop_daemon(srv->daemon);
    if (srv->timer_ready) {
        pthread_cond_destroy(&srv->timer.cond);
        pthread_mutex_destroy(&srv->timer.lock);
    }
    if (srv->sync_ready)
        pthread_mutex_destroy(&srv->counts.lock);
    for (p = 0; p < srv->buckets_ready; p++)
        if (srv->buckets[p].per_min > 0)
            pthread_mutex_destroy(&srv->buckets[p].lock);
    free(srv->counts.keys);
    free(srv->counts.hits);
    free(srv);
}

/* sim_server.c -- the HTTP side of lkarchive-sim: libmicrohttpd on 127.0.0.1 only.
 *
 * One access handler routes each request: /_sim/stats (no auth), then for /api/... the token
 * (401), the plan (403), the project (404) and the endpoint. Every body goes through a
 * struct body: a sim_out pipeline plus, for list pages, the position of the next session.
 * A list page is always streamed: MHD pulls through body_read, which generates sessions
 * until one MHD block is ready, so a page of 50,000 sessions needs a few KB of state. Other
 * bodies are built whole and copied into the response, unless the `chunked` quirk wants them
 * streamed in 7..500-byte pieces (MHD_SIZE_UNKNOWN: HTTP/1.1 chunked transfer encoding).
 * Counters are C11 atomics; nothing else is shared between MHD's threads.
 */
#include "sim_server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
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

struct sim_server {
    struct MHD_Daemon *daemon;
    const struct sim_dataset *ds;
    const struct sim_auth *auth;
    struct sim_server_options opt;
    uint16_t port;
    atomic_ullong requests, lists, details, unauthorized, errors;
};

enum body_state { BODY_DONE = 0, BODY_HEAD, BODY_SESSIONS, BODY_TAIL };

/* One response body. Owned by MHD once a callback response is created (body_free). */
struct body {
    struct sim_out out;
    enum body_state state;
    bool chunked;
    uint64_t piece_seed, pieces;
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
                             const char *url, bool plain)
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
    b->piece_seed = sim_hash(ds->seed, text_hash(url));
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
        sim_session_init(&b->session, b->ds, b->project, b->day, b->index);
        sim_json_list_session(&b->out, &b->gen, &b->session);
        if (++b->index == b->ds->sessions_per_day) {
            b->index = 0;
            b->day++;
        }
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
    return (ssize_t)n;
}

/* Queues b (finished, or a list page to stream) with status; takes ownership of b. */
static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, struct body *b)
{
    struct MHD_Response *resp = NULL;
    enum MHD_Result ret;
    bool gzip = b->out.gzip;

    if (b->out.failed) {
        body_free(b);
        return MHD_NO;
    }
    if (b->chunked || b->state != BODY_DONE) {
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, body_read, b,
                                                 body_free);
        if (resp == NULL)
            body_free(b);
    } else {
        resp = MHD_create_response_from_buffer(sim_out_pending(&b->out), b->out.buf + b->out.off,
                                               MHD_RESPMEM_MUST_COPY);
        body_free(b);
    }
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (gzip)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* A small fixed JSON body. */
static enum MHD_Result send_text(struct sim_server *srv, struct MHD_Connection *conn,
                                 const char *url, unsigned status, const char *json, bool plain)
{
    struct body *b = body_new(srv->ds, conn, url, plain);

    if (b == NULL)
        return MHD_NO;
    sim_out_puts(&b->out, json);
    sim_out_finish(&b->out);
    b->state = BODY_DONE;
    return respond(conn, status, b);
}

static enum MHD_Result send_error(struct sim_server *srv, struct MHD_Connection *conn,
                                  const char *url, unsigned status, const char *message,
                                  const char *why)
{
    char json[256];

    if (status == MHD_HTTP_UNAUTHORIZED)
        atomic_fetch_add(&srv->unauthorized, 1);
    else
        atomic_fetch_add(&srv->errors, 1);
    if (!srv->opt.quiet)
        fprintf(stderr, "lkarchive-sim: %u GET %s: %s\n", status, url, why ? why : message);
    snprintf(json, sizeof json, "{\"error\":\"%s\"}", message);
    return send_text(srv, conn, url, status, json, false);
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
                                   const char *url, size_t project)
{
    const struct sim_dataset *ds = srv->ds;
    const char *start_text, *end_text;
    int64_t start = ds->today - (API_WINDOW_DAYS - 1), end = ds->today, lo, hi;
    uint64_t page, limit, total, first;
    struct body *b;

    if (parse_count(&limit, MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit"),
                    LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT) != 0 ||
        limit == 0)
        return send_error(srv, conn, url, MHD_HTTP_BAD_REQUEST, "invalid limit", NULL);
    if (parse_count(&page, MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "page"), 0,
                    1000000000) != 0)
        return send_error(srv, conn, url, MHD_HTTP_BAD_REQUEST, "invalid page", NULL);
    start_text = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "start");
    end_text = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "end");
    if (start_text != NULL && sim_date_parse(&start, start_text) != 0)
        return send_error(srv, conn, url, MHD_HTTP_BAD_REQUEST, "invalid start date", NULL);
    if (end_text != NULL && sim_date_parse(&end, end_text) != 0)
        return send_error(srv, conn, url, MHD_HTTP_BAD_REQUEST, "invalid end date", NULL);
    if (start < ds->today - (API_WINDOW_DAYS - 1))
        return send_error(srv, conn, url, MHD_HTTP_BAD_REQUEST,
                          "start date must be within the last 7 days", NULL);
    if (start > ds->today)
        return send_error(srv, conn, url, MHD_HTTP_BAD_REQUEST, "start date is in the future",
                          NULL);

    /* sessions of the days [lo, hi], in (day, index) order */
    lo = start > ds->first_day ? start : ds->first_day;
    hi = end < ds->today ? end : ds->today;
    total = hi >= lo ? (uint64_t)(hi - lo + 1) * ds->sessions_per_day : 0;
    first = page * limit;
    b = body_new(ds, conn, url, false);
    if (b == NULL)
        return MHD_NO;
    b->project = project;
    b->remaining = first < total ? (total - first < limit ? total - first : limit) : 0;
    if (b->remaining > 0) {
        b->day = lo + (int64_t)(first / ds->sessions_per_day);
        b->index = (uint32_t)(first % ds->sessions_per_day);
    }
    b->first = true;
    b->wrapper_extra = sim_list_wrapper_extra(ds, b->piece_seed, &b->wrapper_first);
    b->state = BODY_HEAD;
    atomic_fetch_add(&srv->lists, 1);
    return respond(conn, MHD_HTTP_OK, b);
}

static enum MHD_Result handle_details(struct sim_server *srv, struct MHD_Connection *conn,
                                      const char *url, size_t project, const char *id)
{
    struct sim_session s;
    struct body *b;

    if (sim_session_lookup(&s, srv->ds, project, id) != 0)
        return send_error(srv, conn, url, MHD_HTTP_NOT_FOUND, "session not found", NULL);
    b = body_new(srv->ds, conn, url, false);
    if (b == NULL)
        return MHD_NO;
    sim_json_details(&b->out, &b->gen, &s);
    sim_out_finish(&b->out);
    b->state = BODY_DONE;
    atomic_fetch_add(&srv->details, 1);
    return respond(conn, MHD_HTTP_OK, b);
}

static enum MHD_Result handle_stats(struct sim_server *srv, struct MHD_Connection *conn,
                                    const char *url)
{
    char json[256];

    snprintf(json, sizeof json,
             "{\"requests\":%llu,\"list\":%llu,\"details\":%llu,\"unauthorized\":%llu,"
             "\"errors\":%llu}",
             (unsigned long long)atomic_load(&srv->requests),
             (unsigned long long)atomic_load(&srv->lists),
             (unsigned long long)atomic_load(&srv->details),
             (unsigned long long)atomic_load(&srv->unauthorized),
             (unsigned long long)atomic_load(&srv->errors));
    /* compact and unquirked whatever --quirks says: scripts read it with sed */
    return send_text(srv, conn, url, MHD_HTTP_OK, json, true);
}

static enum MHD_Result route(struct sim_server *srv, struct MHD_Connection *conn, const char *url,
                             const char *method)
{
    static const char prefix[] = "/api/project/";
    const char *reason = NULL, *p, *slash;
    char project[128];
    size_t len;
    int index;

    /* every request counts, a stats request too (before it reads the counters) */
    atomic_fetch_add(&srv->requests, 1);
    if (strcmp(url, "/_sim/stats") == 0 && strcmp(method, "GET") == 0)
        return handle_stats(srv, conn, url);
    if (strcmp(method, "GET") != 0 || strncmp(url, "/api/", 5) != 0)
        return send_error(srv, conn, url, MHD_HTTP_NOT_FOUND, "not found", NULL);
    if (sim_auth_check(
            srv->auth,
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
            time(NULL), &reason) != 0)
        return send_error(srv, conn, url, MHD_HTTP_UNAUTHORIZED, "invalid token", reason);
    if (srv->opt.plan_below_scale)
        return send_error(srv, conn, url, MHD_HTTP_FORBIDDEN,
                          "analytics API requires the Scale plan or higher", NULL);
    if (strncmp(url, prefix, sizeof prefix - 1) != 0)
        return send_error(srv, conn, url, MHD_HTTP_NOT_FOUND, "not found", NULL);
    p = url + sizeof prefix - 1;
    slash = strchr(p, '/');
    len = slash != NULL ? (size_t)(slash - p) : strlen(p);
    if (len == 0 || len >= sizeof project)
        return send_error(srv, conn, url, MHD_HTTP_NOT_FOUND, "not found", NULL);
    memcpy(project, p, len);
    project[len] = '\0';
    index = sim_dataset_project(srv->ds, project);
    if (index < 0)
        return send_error(srv, conn, url, MHD_HTTP_NOT_FOUND, "project not found", NULL);
    p += len;
    if (strcmp(p, "/sessions") == 0)
        return handle_list(srv, conn, url, (size_t)index);
    if (strncmp(p, "/sessions/", 10) == 0 && p[10] != '\0' && strchr(p + 10, '/') == NULL)
        return handle_details(srv, conn, url, (size_t)index, p + 10);
    return send_error(srv, conn, url, MHD_HTTP_NOT_FOUND, "not found", NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    static int seen; /* a marker: its address says "headers already seen" */

    (void)version;
    (void)upload_data;
    if (*req_cls == NULL) {
        *req_cls = &seen;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* a request body is ignored */
        return MHD_YES;
    }
    return route(cls, conn, url, method);
}

int sim_server_start(struct sim_server **out, const struct sim_dataset *ds,
                     const struct sim_auth *auth, const struct sim_server_options *opt, char *err,
                     size_t errlen)
{
    struct sim_server *srv = calloc(1, sizeof *srv);
    struct sockaddr_in addr;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
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
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)256, MHD_OPTION_END);
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
    if (srv == NULL)
        return;
    if (srv->daemon != NULL)
        MHD_stop_daemon(srv->daemon);
    free(srv);
}

/* store_conn.c -- the store's connection: open, free, advisory project locks, reconnect.
 *
 * One libpq connection, in UTC, UTF-8 on the wire. The project locks are session-level
 * advisory locks, so they die with the connection: the store remembers which it holds and a
 * reconnect takes them again before anything else is written.
 */
#include "store.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "log.h"
#include "pq.h"
#include "redact.h"
#include "store_internal.h"

int store_exec(struct store *st, const char *sql, const char *what, struct lk_error *err)
{
    return pq_exec(NULL, st->conn, PQ_COMMAND_OK, sql, 0, NULL, err, "%s", what);
}

/* Server notices ("schema already exists, skipping") are noise for a cron job: debug only. */
static void on_notice(void *arg, const char *message)
{
    (void)arg;
    log_debug("postgres: %.*s", (int)strcspn(message, "\n"), message);
}

/* What to do about a failed connection, by its cause as libpq and the server word it
 * (`reason`, the whole message): a fix per cause, else where the connection is set. */
static void connection_hint(struct lk_error *err, const PGconn *conn, const char *reason)
{
    const char *host = conn && PQhost(conn) ? PQhost(conn) : "";
    const char *port = conn && PQport(conn) ? PQport(conn) : "5432";
    const char *db = conn && PQdb(conn) ? PQdb(conn) : "";
    const char *user = conn && PQuser(conn) ? PQuser(conn) : "";

    if (strstr(reason, "password authentication failed") || strstr(reason, "no password supplied"))
        lk_error_hint(err,
                      "give %s's password in ~/.pgpass (or the file PGPASSFILE names; mode 0600) "
                      "as a line host:port:database:user:password, or in DATABASE_URL "
                      "(postgresql://USER:PASSWORD@HOST:PORT/DB)",
                      user);
    else if (strstr(reason, "database \"") && strstr(reason, "does not exist"))
        lk_error_hint(err,
                      "create it (createdb -O %s %s, as a role that may create databases), or "
                      "name an existing one in DATABASE_URL",
                      user, db);
    else if (strstr(reason, "role \"") && strstr(reason, "does not exist"))
        lk_error_hint(err, "create the role (createuser %s), or name another user in DATABASE_URL",
                      user);
    else if (strstr(reason, "pg_hba.conf"))
        lk_error_hint(err,
                      "allow user %s to reach database %s in the server's pg_hba.conf (then "
                      "reload it), or connect as another user or over another way",
                      user, db);
    else if (strstr(reason, "Connection refused") || strstr(reason, "No such file or directory") ||
             strstr(reason, "timeout expired") || strstr(reason, "could not translate host"))
        lk_error_hint(err,
                      "is PostgreSQL running and accepting connections on %s%s%s port %s? "
                      "Start it (systemctl start postgresql), or point DATABASE_URL (or PGHOST "
                      "and PGPORT) at the server",
                      *host == '/' ? "socket " : "host ", host, *host == '/' ? "/.s.PGSQL.*," : "",
                      port);
    else
        lk_error_hint(err, "set DATABASE_URL or database_url (a libpq connection string or "
                           "URI), or the PG* variables");
}

/* text as it may be shown: the password redacted (see connection_failed). */
static void redact_reason(char *out, size_t size, const char *text, bool parsed,
                          const char *password)
{
    char quoted[1024];

    if (!parsed) /* does not parse: quoted fragments may be anything */
        redact_quoted(quoted, sizeof quoted, text);
    else
        snprintf(quoted, sizeof quoted, "%s", text);
    redact_text(out, size, quoted, password);
}

/* Why connecting failed, without the password: libpq's first line as the message, its own
 * hint lines ("Is the server running ...") as the detail, with the password of conninfo (when
 * it parses) redacted wherever it is echoed; when conninfo does not parse, libpq quotes the
 * fragment it stumbled on, which may be the password, so every quoted fragment is redacted.
 * The hint says what to do (connection_hint). */
static void connection_failed(struct lk_error *err, const PGconn *conn, const char *conninfo)
{
    char *parse_error = NULL, first[512], rest[512] = "", shown[512];
    PQconninfoOption *options = conninfo ? PQconninfoParse(conninfo, &parse_error) : NULL;
    const char *reason = conn ? PQerrorMessage(conn) : "out of memory", *password = NULL;
    bool parsed = conninfo == NULL || options != NULL;
    size_t used = 0;

    for (PQconninfoOption *o = options; o && o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0)
            password = o->val;
    snprintf(first, sizeof first, "%.*s", (int)strcspn(reason, "\n"), reason);
    /* the lines after the first on one line, tabs dropped */
    for (const char *p = reason + strlen(first); *p && used + 1 < sizeof rest; p++)
        if (*p != '\n' && *p != '\t')
            rest[used++] = *p;
        else if (used > 0 && rest[used - 1] != ' ')
            rest[used++] = ' ';
    while (used > 0 && rest[used - 1] == ' ')
        used--;
    rest[used] = '\0';
    redact_reason(shown, sizeof shown, first, parsed, password);
    lk_error_set(err, LK_EDB, "could not connect to PostgreSQL: %s", shown);
    if (rest[0]) {
        redact_reason(shown, sizeof shown, rest, parsed, password);
        lk_error_detail(err, "%s", shown);
    }
    connection_hint(err, conn, reason);
    PQconninfoFree(options);
    PQfreemem(parse_error);
}

int store_open(struct store **out, const char *conninfo, struct lk_error *err)
{
    /* text goes over the wire as UTF-8 whatever the server or client locale */
    const char *keywords[] = {"dbname", "fallback_application_name", "client_encoding", NULL};
    const char *values[] = {conninfo, "lkarchive", "UTF8", NULL};
    struct store *st = calloc(1, sizeof *st);
    int rc = LK_ENOMEM;

    *out = NULL;
    if (st == NULL || (st->copy_buf = malloc(STORE_COPY_FLUSH_BYTES + 65536)) == NULL) {
        lk_error_set(err, rc, "out of memory");
        goto done;
    }
    st->copy_capacity = STORE_COPY_FLUSH_BYTES + 65536;
    store_set_settling(st, 3600);
    rc = LK_EDB;
    /* expand_dbname=1: conninfo may be a URI or key=value string; NULL means PG* defaults */
    st->conn = PQconnectdbParams(keywords, values, 1);
    if (st->conn == NULL || PQstatus(st->conn) != CONNECTION_OK) {
        connection_failed(err, st->conn, conninfo);
        goto done;
    }
    PQsetNoticeProcessor(st->conn, on_notice, NULL);
    if (store_exec(st, "SET TIME ZONE 'UTC'", "set the session time zone", err) != 0)
        goto done;
    *out = st;
    st = NULL;
    rc = 0;
done:
    store_free(st);
    return rc;
}

const char *store_user(const struct store *st)
{
    assert(st != NULL);
    return PQuser(st->conn) ? PQuser(st->conn) : "";
}

void store_set_settling(struct store *st, int seconds)
{
    assert(st != NULL && seconds >= 0);
    snprintf(st->settle_s, sizeof st->settle_s, "%d", seconds);
}

void store_copy_settings(struct store *dst, const struct store *src)
{
    assert(dst != NULL && src != NULL && dst != src);
    memcpy(dst->settle_s, src->settle_s, sizeof dst->settle_s);
    dst->dry_run = src->dry_run;
    dst->pseudo = src->pseudo;
    dst->pseudo_all = src->pseudo_all;
}

void store_free(struct store *st)
{
    if (st == NULL)
        return;
    if (st->conn)
        PQfinish(st->conn);
    free(st->copy_buf);
    free(st->discarded);
    strmap_clear(&st->known);
    strmap_clear(&st->refused);
    keyset_free(&st->staged_keys);
    strmap_clear(&st->forgotten);
    free(st->scrubbed_extra);
    for (size_t i = 0; i < st->locked_count; i++)
        free(st->locked_projects[i]);
    free(st->locked_projects);
    free(st);
}

/* ---- overlapping runs, reconnects ---- */

/* Session-level advisory lock on one project, keyed by a hash of its id. */
static int try_lock(struct store *st, const char *project, bool *got, struct lk_error *err)
{
    const char *params[1] = {project};
    PGresult *res = NULL;
    int rc = pq_exec(&res, st->conn, PQ_TUPLES_OK,
                     "SELECT pg_try_advisory_lock(hashtextextended('lkarchive:' || $1, 0))", 1,
                     params, err, "take the advisory lock of project %s", project);

    if (rc == 0)
        *got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return rc;
}

int store_lock_project(struct store *st, const char *project, int wait_s, struct lk_error *err)
{
    bool got = false;
    char **grown;
    int rc;

    assert(st != NULL);
    for (int waited = 0;; waited++) {
        rc = try_lock(st, project, &got, err);
        if (rc != 0 || got)
            break;
        if (waited >= wait_s) {
            lk_error_set(err, LK_ELOCKED, "another lkarchive run is archiving project %s", project);
            lk_error_detail(err,
                            "waited %d s for it (lock_wait); this run writes nothing for "
                            "the project and the other run finishes the job",
                            wait_s);
            return LK_ELOCKED;
        }
        if (waited == 0)
            log_info("project %s: another run holds it; waiting up to %d s", project, wait_s);
        struct timespec second = {1, 0};
        nanosleep(&second, NULL);
    }
    if (rc != 0)
        return rc;
    grown = realloc(st->locked_projects, (st->locked_count + 1) * sizeof *grown);
    if (grown == NULL || (grown[st->locked_count] = strdup(project)) == NULL) {
        if (grown)
            st->locked_projects = grown;
        lk_error_set(err, LK_ENOMEM, "out of memory");
        return LK_ENOMEM;
    }
    st->locked_projects = grown;
    st->locked_count++;
    return 0;
}

bool store_connection_ok(const struct store *st)
{
    assert(st != NULL);
    return PQstatus(st->conn) == CONNECTION_OK;
}

int store_reconnect(struct store *st, struct lk_error *err)
{
    bool got = false;

    assert(st != NULL);
    st->in_day = false;
    st->copying = false;
    PQreset(st->conn);
    if (PQstatus(st->conn) != CONNECTION_OK)
        return pq_fail(st->conn, err, "reconnect to PostgreSQL");
    if (store_exec(st, "SET TIME ZONE 'UTC'", "set the session time zone", err) != 0)
        return LK_EDB;
    /* the advisory locks died with the old session: take them again */
    if (store_lock_run(st, err) != 0)
        return LK_EDB;
    for (size_t i = 0; i < st->locked_count; i++) {
        if (try_lock(st, st->locked_projects[i], &got, err) != 0)
            return LK_EDB;
        if (!got) {
            lk_error_set(err, LK_ELOCKED, "another run took project %s while the database was away",
                         st->locked_projects[i]);
            return LK_ELOCKED;
        }
    }
    return 0;
}

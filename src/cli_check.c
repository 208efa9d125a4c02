/* cli_check.c -- `lkarchive check`: the configuration, the database and, with one list
 * request per project, the API credentials, the plan and the project ids. Changes nothing.
 *
 * Every check is made, whatever the ones before it said, and printed as one line ("what:
 * verdict"), a failure followed by a "fix:" line with what to do (the error's hint, else its
 * detail; a "detail:" line before it when there are both), or
 * as JSON lines with --json. The exit status is the first failure's.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "cli.h"
#include "cli_internal.h"
#include "config.h"
#include "error.h"
#include "escape.h"
#include "grants.h"
#include "log.h"
#include "redact.h"
#include "store.h"
#include "store_grant.h"
#include "store_schema.h"

struct checks {
    bool json;
    int failed;     /* checks that failed */
    int first_code; /* LK_E* of the first failure, 0 if none */
};

/* check_line's text form. As the logs do, the API's or the server's words are escaped so they
 * cannot drive the terminal. */
static void print_text_line(const char *what, const char *text, const struct lk_error *err)
{
    char shown[2][sizeof err->detail + 64];

    escape_text(shown[0], sizeof shown[0], what, strlen(what), sizeof shown[0]);
    if (err == NULL) {
        escape_text(shown[1], sizeof shown[1], text, strlen(text), sizeof shown[1]);
        printf("%s: %s\n", shown[0], shown[1]);
        return;
    }
    escape_text(shown[1], sizeof shown[1], err->message, strlen(err->message), sizeof shown[1]);
    printf("%s: FAILED: %s\n", shown[0], shown[1]);
    if (err->hint[0] && err->detail[0])
        printf("  detail: %s\n", escape_text(shown[1], sizeof shown[1], err->detail,
                                             strlen(err->detail), sizeof shown[1]));
    if (err->hint[0] || err->detail[0]) {
        const char *fix = err->hint[0] ? err->hint : err->detail;
        printf("  fix: %s\n",
               escape_text(shown[1], sizeof shown[1], fix, strlen(fix), sizeof shown[1]));
    }
}

/* One check's line: ok (text says what was found) or failed (err says why and what to fix). */
static void check_line(struct checks *c, const char *what, const char *text,
                       const struct lk_error *err)
{
    if (err != NULL) {
        c->failed++;
        if (c->first_code == 0)
            c->first_code = err->code;
    }
    if (c->json) {
        fputs("{\"check\":", stdout);
        cli_json_string(stdout, what);
        printf(",\"ok\":%s,\"message\":", err ? "false" : "true");
        cli_json_string(stdout, err ? err->message : text);
        fputs(",\"fix\":", stdout);
        if (err && (err->hint[0] || err->detail[0]))
            cli_json_string(stdout, err->hint[0] ? err->hint : err->detail);
        else
            fputs("null", stdout);
        if (err && err->hint[0] && err->detail[0]) {
            fputs(",\"detail\":", stdout);
            cli_json_string(stdout, err->detail);
        }
        fputs("}\n", stdout);
    } else {
        print_text_line(what, text, err);
    }
    fflush(stdout);
}

/* Whether the user may create the schema (not migrated) or write the archive (migrated). */
static void check_privileges(struct checks *c, const struct config *cfg, bool migrated)
{
    struct store *st = NULL;
    struct lk_error err;
    char missing[300];
    bool ok = false;
    int rc;

    lk_error_init(&err);
    rc = store_open(&st, cfg->database_url, &err);
    if (rc == 0)
        rc = store_check_privileges(st, migrated, &ok, missing, sizeof missing, &err);
    if (rc == 0 && !ok) {
        lk_error_set(&err, LK_EDB, "database user %s lacks %s", store_user(st), missing);
        if (migrated)
            grants_writer_hint(err.hint, sizeof err.hint, store_user(st));
        else
            lk_error_hint(&err, "GRANT CREATE ON DATABASE to this user, or let the database "
                                "owner run `lkarchive migrate` once");
    }
    store_free(st);
    if (rc != 0 || !ok) {
        check_line(c, "database privileges", NULL, &err);
        return;
    }
    check_line(c, "database privileges",
               migrated ? "may write the archive" : "may create the schema", NULL);
}

static void check_database(struct checks *c, const struct config *cfg)
{
    struct store *st = NULL;
    struct lk_error err;
    bool current = false;
    int rc;

    lk_error_init(&err);
    rc = store_open(&st, cfg->database_url, &err);
    if (rc == 0)
        rc = store_schema_current(st, &current, &err);
    store_free(st);
    if (rc != 0) {
        if (err.detail[0] == '\0' && err.hint[0] == '\0')
            lk_error_detail(&err, "set DATABASE_URL (or database_url, or libpq's PG* variables) "
                                  "to a database this user may connect to");
        check_line(c, "database", NULL, &err);
        return;
    }
    check_line(c, "database",
               current ? "reachable, schema up to date"
                       : "reachable, schema not yet migrated (run `lkarchive migrate` or `run`)",
               NULL);
    check_privileges(c, cfg, current);
}

/* The first of names set in the environment (empty counts as unset), its name in *name_out. */
static const char *first_env(const char *const *names, size_t count, const char **name_out)
{
    for (size_t i = 0; i < count; i++) {
        const char *value = getenv(names[i]);
        if (value && value[0]) {
            *name_out = names[i];
            return value;
        }
    }
    return NULL;
}

/* What the API's TLS trusts (config_ca.c chose and checked it) and the proxy libcurl will
 * take from the environment for the base URL's scheme (as libcurl reads them: http_proxy
 * only in lower case), with NO_PROXY; a proxy's password is not shown. */
static void check_transport(struct checks *c, const struct config *cfg)
{
    static const char *const https_vars[] = {"https_proxy", "HTTPS_PROXY", "all_proxy",
                                             "ALL_PROXY"};
    static const char *const http_vars[] = {"http_proxy", "all_proxy", "ALL_PROXY"};
    static const char *const no_vars[] = {"no_proxy", "NO_PROXY"};
    bool https = strncasecmp(cfg->base_url, "https://", 8) == 0;
    const char *proxy_var = NULL, *no_var = NULL, *proxy, *no_proxy;
    const char *http_version =
        cfg->http2 ? "HTTP/2 when the server offers it" : "HTTP/1.1 (http2: false)";
    char text[1400], shown[512];

    if (cfg->ca_file)
        snprintf(text, sizeof text, "CA file %s (%s), instead of the system store; %s",
                 cfg->ca_file, cfg->ca_source, http_version);
    else
        snprintf(text, sizeof text,
                 "the system store of CAs (set ca_file or LKARCHIVE_CA_FILE "
                 "to trust another); %s",
                 http_version);
    check_line(c, "tls", https ? text : "not used: the base URL is http://", NULL);
    proxy = https ? first_env(https_vars, 4, &proxy_var) : first_env(http_vars, 3, &proxy_var);
    no_proxy = first_env(no_vars, 2, &no_var);
    if (proxy == NULL) {
        check_line(c, "proxy", "none: the API is reached directly", NULL);
        return;
    }
    if (!https && !cfg->allow_insecure_http) { /* http.c: the token would cross it in clear */
        check_line(c, "proxy",
                   "not used: a plain http:// base URL never goes through a proxy "
                   "(allow_insecure_http is not set)",
                   NULL);
        return;
    }
    snprintf(text, sizeof text, "%s from %s%s%s%s%s", redact_text(shown, sizeof shown, proxy, NULL),
             proxy_var, https ? " (a CONNECT tunnel: it sees only TLS)" : "",
             no_proxy ? "; hosts in " : "", no_proxy ? no_var : "",
             no_proxy ? " are reached directly" : "");
    check_line(c, "proxy", text, NULL);
}

/* One authenticated list request per project: credentials, plan and project ids. */
static void check_api(struct checks *c, const struct config *cfg, const char *today)
{
    struct api *api = NULL;
    struct lk_error err;
    char what[300], text[300];

    lk_error_init(&err);
    if (api_new(&api, cfg, &err) != 0) {
        check_line(c, "api", NULL, &err);
        return;
    }
    for (size_t p = 0; p < cfg->project_count; p++) {
        snprintf(what, sizeof what, c->json ? "api project %s" : "api: project %s",
                 cfg->projects[p]);
        lk_error_init(&err);
        if (api_probe(api, cfg->projects[p], today, &err) != 0) {
            if (err.detail[0] == '\0')
                lk_error_detail(&err,
                                "check base_url (LIVEKIT_ANALYTICS_URL), the network, a proxy "
                                "(HTTPS_PROXY, NO_PROXY) and the TLS certificates (ca_file)");
            check_line(c, what, NULL, &err);
            continue;
        }
        snprintf(text, sizeof text,
                 "reachable, credentials accepted, plan allows the Analytics API");
        /* "api: project p_x: reachable, ..." would break greps of the old line: keep it */
        if (c->json)
            check_line(c, what, text, NULL);
        else
            printf("api: project %s reachable, credentials accepted\n", cfg->projects[p]);
    }
    api_free(api);
}

int cli_command_check(const struct config *cfg, const struct cli_options *opt, struct lk_error *err)
{
    struct checks c = {opt->json, 0, 0};
    char base_url[512], text[1024];

    snprintf(text, sizeof text, "%s, %zu project(s), base URL %s",
             cfg->source_path ? cfg->source_path : "environment only", cfg->project_count,
             redact_text(base_url, sizeof base_url, cfg->base_url, NULL));
    check_line(&c, "config", text, NULL);
    check_database(&c, cfg);
    check_transport(&c, cfg);
    check_api(&c, cfg, opt->today);
    if (c.failed == 0)
        return CLI_EXIT_OK;
    lk_error_set(err, c.first_code, "%d check%s failed (see above)", c.failed,
                 c.failed == 1 ? "" : "s");
    return cli_report(err);
}

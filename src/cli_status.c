/* cli_status.c -- `lkarchive status`: what the ledger says of the configured projects (every
 * project of the ledger with --all-projects) over the window (or the whole ledger), as a
 * table or JSON lines, and every gap before it.
 *
 * Flow: store_status_rows reads the days (the window, plus every gap before it);
 * --acknowledge-gaps marks the gaps shown acknowledged; the rows are printed on stdout, each
 * unacknowledged gap is named on stderr, and any makes the exit status 6. Text from the
 * ledger (errors quoting the API and the server) is escaped before it reaches a terminal.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "cli.h"
#include "cli_internal.h"
#include "config.h"
#include "date.h"
#include "error.h"
#include "escape.h"
#include "log.h"
#include "store.h"
#include "store_ledger.h"
#include "store_rate.h"

/* Bytes of a day's stored error that `status` shows. */
#define STATUS_ERROR_SHOWN 300

/* What a status row is, in one word: GAP (lost, not acknowledged), gap-acked, or the ledger's. */
static const char *status_word(const struct status_row *row)
{
    if (row->gap)
        return row->acknowledged ? "gap-acked" : "GAP";
    return row->status;
}

/* The table: one line per project and day; a complete day shows when it was completed, any
 * other day why it is not complete. */
static void print_status_table(const struct status_row *rows, size_t count, const char *today)
{
    printf("%-20s %-10s %-9s %9s %12s %11s %6s  %-20s  %s\n", "project", "day", "status",
           "sessions", "participants", "connections", "active", "completed", "note");
    for (size_t i = 0; i < count; i++) {
        const struct status_row *row = &rows[i];
        char project[256], note[STATUS_ERROR_SHOWN * 4 + 64];

        /* the stored error quotes the API and the server: escaped, and cut to fit a line */
        if (row->gap && !row->acknowledged)
            snprintf(note, sizeof note, "lost: left the 7-day window before it was complete");
        else if (row->last_error[0])
            escape_text(note, sizeof note, row->last_error, strlen(row->last_error),
                        STATUS_ERROR_SHOWN);
        else if (strcmp(row->status, "missing") == 0)
            snprintf(note, sizeof note, "never archived");
        else
            escape_text(note, sizeof note, row->pending_reason, strlen(row->pending_reason), 64);
        escape_text(project, sizeof project, row->project, strlen(row->project), 128);
        printf("%-20s %-10s %-9s %9lld %12lld %11lld %6lld  %-20s  %s%s\n", project, row->day,
               status_word(row), row->sessions, row->participants, row->connections,
               row->active_sessions, row->completed_at[0] ? row->completed_at : "-",
               store_status_at_risk(row, today) ? "AT RISK (leaves the API's window soon): " : "",
               note);
    }
}

void cli_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\u%04x", *p);
        else if (p[0] == 0xe2 && ((p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) ||
                                  (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9))) {
            /* a bidi control (U+202A..U+202E, U+2066..U+2069) as an escape, never raw */
            fprintf(out, "\\u%04x", ((p[1] & 0x3fu) << 6 | (p[2] & 0x3fu)) | 0x2000u);
            p += 2;
        } else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* key (with its comma and colon), then text as a JSON string, or null when empty. */
static void json_text_or_null(const char *key, const char *text)
{
    fputs(key, stdout);
    if (text[0])
        cli_json_string(stdout, text);
    else
        fputs("null", stdout);
}

/* JSON lines: one object per project and day; absent texts and times are null. */
static void print_status_json(const struct status_row *rows, size_t count, const char *today)
{
    for (size_t i = 0; i < count; i++) {
        const struct status_row *row = &rows[i];

        fputs("{\"project\":", stdout);
        cli_json_string(stdout, row->project);
        printf(",\"day\":\"%s\",\"status\":", row->day);
        cli_json_string(stdout, status_word(row));
        fputs(",\"ledger_status\":", stdout);
        cli_json_string(stdout, row->status);
        printf(",\"sessions\":%lld,\"participants\":%lld,\"connections\":%lld,"
               "\"active_sessions\":%lld,\"attempts\":%lld",
               row->sessions, row->participants, row->connections, row->active_sessions,
               row->attempts);
        json_text_or_null(",\"completed_at\":", row->completed_at);
        json_text_or_null(",\"last_attempt_at\":", row->last_attempt_at);
        json_text_or_null(",\"pending_reason\":", row->pending_reason);
        json_text_or_null(",\"last_error\":", row->last_error);
        printf(",\"gap\":%s,\"gap_acknowledged\":%s,\"at_risk\":%s}\n", row->gap ? "true" : "false",
               row->gap && row->acknowledged ? "true" : "false",
               store_status_at_risk(row, today) ? "true" : "false");
    }
}

/* The configured projects as "p_a,p_b" (NULL: none configured, every project of the
 * ledger), in buf. */
static const char *projects_csv(char *buf, size_t size, const struct config *cfg)
{
    size_t used = 0;

    if (cfg->project_count == 0)
        return NULL;
    buf[0] = '\0';
    for (size_t p = 0; p < cfg->project_count && used < size; p++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", p ? "," : "", cfg->projects[p]);
    return buf;
}

/* --acknowledge-gaps: every gap shown not yet acknowledged is acknowledged now. Returns 0
 * or LK_EDB. */
static int acknowledge_status_gaps(struct store *st, struct status_row *rows, size_t count,
                                   struct lk_error *err)
{
    for (size_t i = 0; i < count; i++) {
        struct status_row *row = &rows[i];
        int rc;

        if (!row->gap || row->acknowledged)
            continue;
        rc = store_acknowledge_gap(st, row->project, row->day, err);
        if (rc != 0)
            return rc;
        row->acknowledged = true;
        log_warn("project %s day %s is a gap (%s); acknowledged", row->project, row->day,
                 row->status);
    }
    return 0;
}

/* Each configured project's learned request rate, under the table, read on status's own
 * connection (best effort: a rate that cannot be read is left out). */
static void print_rates(const struct config *cfg, struct store *st)
{
    struct lk_error err;

    lk_error_init(&err);
    for (size_t p = 0; p < cfg->project_count; p++) {
        struct store_rate rate;
        if (store_rate_load(st, cfg->projects[p], config_project_api_key(cfg, p), &rate, &err) !=
                0 ||
            rate.requests_per_minute <= 0)
            continue;
        printf("%s: requests paced at %.0f a minute (%s); last run %lld requests, %lld answered "
               "429, %.1f s waited on the limit\n",
               cfg->projects[p], rate.requests_per_minute,
               rate.limited ? "the API's limit as learned" : "no limit met yet", rate.requests,
               rate.throttled, rate.wait_s);
    }
}

int cli_command_status(const struct config *cfg, const struct cli_options *opt,
                       struct lk_error *err)
{
    struct store *st = NULL;
    struct status_row *rows = NULL;
    size_t count = 0;
    bool migrated = true;
    char window_start[DATE_TEXT_SIZE], csv[4096];
    int gaps = 0, rc;

    if (cfg->project_count == 0 && !opt->all_projects) {
        lk_error_set(err, LK_ECONFIG, "no project configured, so none to show");
        lk_error_hint(err, "set LIVEKIT_PROJECT_ID or projects (--config), or show every project "
                           "in the ledger with status --all-projects");
        return cli_report(err);
    }
    date_add_days(window_start, opt->today, -((opt->days ? opt->days : cfg->window_days) - 1));
    rc = store_open(&st, cfg->database_url, err);
    if (rc == 0)
        rc = store_status_rows(st, opt->today, opt->all ? NULL : window_start,
                               opt->all_projects ? NULL : projects_csv(csv, sizeof csv, cfg), &rows,
                               &count, &migrated, err);
    if (rc == 0 && (opt->acknowledge_gaps || cfg->acknowledge_gaps))
        rc = acknowledge_status_gaps(st, rows, count, err);
    if (rc != 0) {
        store_free(st);
        store_status_rows_free(rows, count);
        return cli_report(err);
    }
    if (!migrated && !opt->json)
        printf("nothing archived yet (no livekit schema in this database: "
               "`lkarchive run` or `lkarchive migrate` creates it)\n");
    else if (count == 0 && !opt->json)
        printf("nothing archived yet\n");
    else if (opt->json)
        print_status_json(rows, count, opt->today);
    else
        print_status_table(rows, count, opt->today);
    if (migrated && !opt->json)
        print_rates(cfg, st);
    store_free(st);
    for (size_t i = 0; i < count; i++) {
        if (rows[i].gap && !rows[i].acknowledged) {
            gaps++;
            log_error("project %s day %s left the %d-day window before being archived: it is "
                      "lost",
                      rows[i].project, rows[i].day, API_WINDOW_DAYS);
        }
    }
    store_status_rows_free(rows, count);
    if (gaps > 0) {
        log_error("%d day%s left the %d-day window before being archived and cannot be "
                  "fetched any more",
                  gaps, gaps == 1 ? "" : "s", API_WINDOW_DAYS);
        log_detail(LOG_LEVEL_ERROR, "once you have taken note, acknowledge them with "
                                    "`lkarchive status --acknowledge-gaps`");
        return CLI_EXIT_GAP;
    }
    return CLI_EXIT_OK;
}

/* cli_run.c -- `run`: the window archived for every configured project, its lines on stdout.
 *
 * Opens the pseudonym key and the store, migrates (or, for a dry run, checks the schema is
 * current), hands the window to window_run with print_day as the per-day callback, then says
 * how the run ended: a closing line on stdout (or, with --json, one JSON object), an error on
 * stderr counting the days not archived by the status the ledger now gives them, and the exit
 * status. The metrics file is written last, whatever happened; after a good run the
 * retention (config `retention`) is applied.
 */
#include "cli_internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "cli.h"
#include "config.h"
#include "date.h"
#include "error.h"
#include "log.h"
#include "process.h"
#include "pseudo.h"
#include "store.h"
#include "store_ledger.h"
#include "store_schema.h"
#include "window.h"

/* The progress line of the day being archived (stderr is a terminal). */
struct progress_state {
    char project[128], day[DATE_TEXT_SIZE];
    struct timespec day_started, last_shown;
};

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* window_progress_fn: at most ten times a second, "project day  pages, sessions, details
 * done/total, rate, time left" as the live line. */
static void print_progress(void *ctx, const struct day_progress *p)
{
    struct progress_state *state = ctx;
    struct timespec now;
    char line[400], left[48] = "";
    double elapsed, rate;

    clock_gettime(CLOCK_MONOTONIC, &now);
    if (strcmp(state->project, p->project) != 0 || strcmp(state->day, p->day) != 0) {
        snprintf(state->project, sizeof state->project, "%s", p->project);
        snprintf(state->day, sizeof state->day, "%s", p->day);
        state->day_started = now;
    } else if (seconds_between(&state->last_shown, &now) < 0.1 &&
               (p->details_total == 0 || p->details_done < p->details_total)) {
        return; /* ten lines a second at most, and the day's last one */
    }
    state->last_shown = now;
    elapsed = seconds_between(&state->day_started, &now);
    rate = elapsed > 0 ? (double)p->details_done / elapsed : 0;
    if (rate > 0 && p->details_total > p->details_done)
        snprintf(left, sizeof left, ", ~%.0f s left",
                 (double)(p->details_total - p->details_done) / rate);
    snprintf(line, sizeof line, "%s %s: %d page%s, %lld sessions, details %lld/%lld, %.1f/s%s",
             p->project, p->day, p->pages, p->pages == 1 ? "" : "s", p->sessions, p->details_done,
             p->details_total, rate, left);
    log_progress(line);
}

/* window_day_fn: one line per project-day on out (a FILE *). */
static void print_day(void *out, const struct day_report *day)
{
    log_progress_end(); /* the day's live line gives way to its summary */
    static const char *const words[] = {
        [DAY_COMPLETE] = "complete", [DAY_PENDING] = "pending", [DAY_PARTIAL] = "partial"};

    if (day->status == DAY_FAILED)
        fprintf(out, "%-20s %s  %-8s %s\n", day->project, day->day, "FAILED", day->error);
    else if (day->dry_run)
        fprintf(out,
                "%-20s %s  %-8s %7lld new %7lld changed %7lld unchanged sessions  (%d pages, "
                "%lld details fetched, %lld skipped; nothing written)\n",
                day->project, day->day, "dry-run", day->new_sessions, day->changed_sessions,
                day->unchanged_sessions, day->pages, day->details_fetched, day->details_skipped);
    else
        fprintf(out,
                "%-20s %s  %-8s %7lld sessions %8lld participants %8lld connections  "
                "(%lld active, %d pages, %lld details fetched, %lld skipped%s)\n",
                day->project, day->day, words[day->status], day->sessions, day->participants,
                day->connections, day->active_sessions, day->pages, day->details_fetched,
                day->details_skipped, day->status == DAY_PARTIAL ? ", some details failed" : "");
    fflush(out);
}

/* The run's last line on stdout. */
static void print_run_summary(const struct run_summary *summary, bool dry_run, double seconds)
{
    if (dry_run) {
        printf("dry run: %lld new, %lld changed, %lld unchanged sessions; %d day%s compared, "
               "%d failed; nothing written; %lu requests in %.1f s\n",
               summary->new_sessions, summary->changed_sessions, summary->unchanged_sessions,
               summary->days_complete + summary->days_pending,
               summary->days_complete + summary->days_pending == 1 ? "" : "s", summary->days_failed,
               summary->requests, seconds);
        return;
    }
    printf("run %lld: %d day%s complete, %d pending, %d failed; %lld sessions, %lld "
           "participants, %lld connections; details %lld fetched, %lld skipped (unchanged); "
           "%lu requests in %.1f s\n",
           summary->run_id, summary->days_complete, summary->days_complete == 1 ? "" : "s",
           summary->days_pending, summary->days_failed, summary->sessions, summary->participants,
           summary->connections, summary->details_fetched, summary->details_skipped,
           summary->requests, seconds);
}

/* run --dry-run: the schema must be current already (migrating would write), and the store
 * writes nothing. Returns 0, LK_EDB or LK_ECONFIG. */
static int dry_run_store(struct store *st, struct lk_error *err)
{
    bool current = false;
    int rc = store_schema_current(st, &current, err);

    if (rc == 0 && !current) {
        lk_error_set(err, LK_ECONFIG, "a dry run needs the schema up to date, and it is not");
        lk_error_detail(err, "run `lkarchive migrate` first (a dry run writes nothing)");
        rc = LK_ECONFIG;
    }
    store_set_dry_run(st, true);
    return rc;
}

/* The error line of a run that did not archive every day: how many, and what the ledger now
 * says of them (a day complete before stays complete; the others are failed or pending),
 * counted from the ledger; from the run's own count when the ledger cannot be read. */
static void report_unarchived(struct store *st, const struct run_summary *summary, bool dry_run)
{
    long long complete = 0, pending = 0, failed = 0;
    struct lk_error err;
    char states[160] = "";
    size_t used = 0;

    lk_error_init(&err);
    if (!dry_run && st != NULL && store_connection_ok(st) &&
        store_run_unarchived(st, summary->run_id, &complete, &pending, &failed, &err) == 0) {
        const long long counts[] = {complete, failed, pending};
        static const char *const words[] = {"stay complete (archived by an earlier run)", "failed",
                                            "stay pending"};
        for (size_t i = 0; i < 3; i++)
            if (counts[i] > 0 && used < sizeof states)
                used += (size_t)snprintf(states + used, sizeof states - used, "%s%lld %s",
                                         used ? ", " : ": ", counts[i], words[i]);
    }
    log_error("%d day%s not archived completely by this run%s; the next run tries again",
              summary->days_failed, summary->days_failed == 1 ? " was" : "s were", states);
    log_detail(LOG_LEVEL_ERROR, "first error: %s",
               summary->first_error[0] ? summary->first_error : "see the errors logged above");
}

/* The exit status of a run that window_run ended with rc, saying why on stderr; the
 * summary line goes to stdout when the run went to its end. */
static int run_outcome(int rc, struct store *st, const struct run_summary *summary,
                       const struct cli_options *opt, double seconds, struct lk_error *err)
{
    int status;

    if (rc == LK_EINTR) { /* as a shell reports a process a signal ended: 128 + its number */
        cli_report(err);
        return CLI_EXIT_SIGNAL_BASE + process_stop_signal();
    }
    if (rc != 0)
        return cli_report(err);
    if (!opt->quiet && !opt->json)
        print_run_summary(summary, opt->dry_run, seconds);
    if (summary->days_failed > 0) {
        report_unarchived(st, summary, opt->dry_run);
        status = cli_exit_for(summary->worst_error);
        return status == CLI_EXIT_OK ? CLI_EXIT_INCOMPLETE : status;
    }
    if (summary->sessions_refused > 0) { /* the days are complete without them: say it once */
        log_error("%lld session%s left out: PostgreSQL refused a value; their days are complete "
                  "without them (`lkarchive status` names them)",
                  summary->sessions_refused, summary->sessions_refused == 1 ? "" : "s");
        log_detail(LOG_LEVEL_ERROR, "first error: %s", summary->first_error);
        return CLI_EXIT_INCOMPLETE;
    }
    if (summary->gaps > 0) {
        log_error("%d day%s lost: %s the %d-day window before being archived", summary->gaps,
                  summary->gaps == 1 ? " is" : "s are",
                  summary->gaps == 1 ? "it left" : "they left", API_WINDOW_DAYS);
        log_detail(LOG_LEVEL_ERROR, "once you have taken note, run with --acknowledge-gaps (or "
                                    "set acknowledge_gaps: true) to stop failing for them");
        return CLI_EXIT_GAP;
    }
    return summary->projects_locked > 0 ? CLI_EXIT_LOCKED : CLI_EXIT_OK;
}

static double seconds_since(const struct timespec *started)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - started->tv_sec) + (double)(now.tv_nsec - started->tv_nsec) / 1e9;
}

/* fetch_while_merging: the second connection window fetches into while a day commits; when
 * it cannot be opened (max_connections), the run goes on one day at a time. */
static struct store *open_spare(const struct config *cfg)
{
    struct store *spare = NULL;
    struct lk_error err;

    lk_error_init(&err);
    if (store_open(&spare, cfg->database_url, &err) != 0) {
        log_lk_error(LOG_LEVEL_WARN, &err);
        log_detail(LOG_LEVEL_WARN, "fetch_while_merging needs a second connection; archiving one "
                                   "day at a time");
    }
    return spare;
}

/* The word of an exit status, for run --json. */
static const char *outcome_word(int status)
{
    static const char *const words[] = {
        [CLI_EXIT_OK] = "ok",       [CLI_EXIT_INCOMPLETE] = "incomplete",
        [CLI_EXIT_USAGE] = "usage", [CLI_EXIT_CONFIG] = "config",
        [CLI_EXIT_API] = "api",     [CLI_EXIT_DATABASE] = "database",
        [CLI_EXIT_GAP] = "gap",     [CLI_EXIT_LOCKED] = "locked"};

    if (status >= 0 && status < (int)(sizeof words / sizeof words[0]) && words[status])
        return words[status];
    return status > CLI_EXIT_SIGNAL_BASE ? "interrupted" : "internal";
}

/* run --json: the run as one object on stdout (summary NULL: it never started). */
static void print_run_json(const struct run_summary *summary, const struct cli_options *opt,
                           int status, const char *error, double seconds)
{
    static const struct run_summary none = {0};
    const struct run_summary *s = summary ? summary : &none;

    printf("{\"outcome\":\"%s\",\"exit_status\":%d,\"run_id\":", outcome_word(status), status);
    printf(s->run_id > 0 ? "%lld" : "null", s->run_id);
    printf(",\"today\":\"%s\",\"dry_run\":%s,\"days\":{\"complete\":%d,\"pending\":%d,"
           "\"failed\":%d},\"gaps\":%d,\"projects_locked\":%d,\"sessions\":%lld,"
           "\"participants\":%lld,\"connections\":%lld,\"details_fetched\":%lld,"
           "\"details_skipped\":%lld,\"requests\":%lu,\"seconds\":%.3f",
           opt->today, opt->dry_run ? "true" : "false", s->days_complete, s->days_pending,
           s->days_failed, s->gaps, s->projects_locked, s->sessions, s->participants,
           s->connections, s->details_fetched, s->details_skipped, s->requests, seconds);
    if (opt->dry_run)
        printf(",\"new_sessions\":%lld,\"changed_sessions\":%lld,\"unchanged_sessions\":%lld",
               s->new_sessions, s->changed_sessions, s->unchanged_sessions);
    fputs(",\"error\":", stdout);
    if (error && *error)
        cli_json_string(stdout, error);
    else
        fputs("null", stdout);
    fputs("}\n", stdout);
    fflush(stdout);
}

int cli_command_run(const struct config *cfg, const struct cli_options *opt, struct lk_error *err)
{
    struct window_options window;
    struct run_summary summary = {0};
    struct progress_state progress = {0};
    struct store *st = NULL;
    struct pseudo *pseudo = NULL;
    struct timespec started;
    bool ran = false;
    int rc, status;

    clock_gettime(CLOCK_MONOTONIC, &started);
    process_catch_stop_signals(); /* SIGTERM / SIGINT: roll back the day, close the run */
    snprintf(window.today, sizeof window.today, "%s", opt->today);
    window.days = opt->days ? opt->days : cfg->window_days;
    window.full = opt->full;
    window.acknowledge_gaps = opt->acknowledge_gaps;
    window.dry_run = opt->dry_run;
    window.on_day = opt->quiet || opt->json ? NULL : print_day;
    window.on_day_ctx = stdout;
    /* a live line per day on a terminal; in cron or a pipe only the summary lines */
    window.on_progress = isatty(STDERR_FILENO) && !opt->quiet ? print_progress : NULL;
    window.on_progress_ctx = &progress;
    window.spare = NULL;
    rc = cli_open_pseudo(cfg, false, &pseudo, err);
    if (rc == 0)
        rc = store_open(&st, cfg->database_url, err);
    if (rc == 0)
        rc = opt->dry_run ? dry_run_store(st, err)
                          : store_migrate(st, cfg->citus_distribute, NULL, err);
    if (rc == 0) {
        store_set_pseudo(st, pseudo, cfg->pseudonymize_identities);
        /* projects side by side each take a connection of their own instead */
        if (cfg->fetch_while_merging && (cfg->parallel_projects == 1 || cfg->project_count == 1))
            window.spare = open_spare(cfg);
        rc = window_run(cfg, &window, st, &summary, err);
        ran = true;
        status = run_outcome(rc, st, &summary, opt, seconds_since(&started), err);
    } else {
        status = cli_report(err);
    }
    /* retention after a good run only: a failed one may have nothing new to keep */
    if (status == CLI_EXIT_OK && !opt->dry_run && cfg->retention)
        status = cli_apply_retention(cfg, opt, st, err);
    /* rows per table: both stores' commits counted into metrics as they committed */
    cli_write_metrics(cfg, opt, st, status, seconds_since(&started));
    if (ran)
        cli_write_report(cfg, opt, st);
    if (opt->json)
        print_run_json(ran ? &summary : NULL, opt, status,
                       err->code != 0 ? err->message : summary.first_error,
                       seconds_since(&started));
    store_free(window.spare);
    store_free(st);
    pseudo_free(pseudo);
    return status;
}

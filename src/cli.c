/* cli.c -- the command line: parse argv, load config, open the store, run a command.
 *
 * Flow: parse options and the command word (options may come before or after it), load the
 * configuration (strict for run/check, relaxed for migrate/status), then dispatch. Every
 * error that ends a command is printed once here, as "lkarchive: error: ..." plus a detail
 * line, and mapped to an exit status by cli_exit_for: the single table of exit codes. What a
 * command prints on stdout is printed here too: the per-day lines of `run` come from
 * window_run through print_day.
 */
#include "cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "config.h"
#include "date.h"
#include "error.h"
#include "escape.h"
#include "log.h"
#include "process.h"
#include "pseudo.h"
#include "redact.h"
#include "store.h"
#include "window.h"

struct cli_options {
    const char *command;
    const char *argument; /* grant: the role */
    const char *config_path;
    char today[DATE_TEXT_SIZE];
    int days; /* 0 = from config */
    bool full;
    bool acknowledge_gaps;
    const char *log_level;
    char before[DATE_TEXT_SIZE]; /* prune: sessions listed before this day */
    const char *project;         /* prune: this project only (NULL: every project) */
    bool dry_run;                /* prune: say what would go, delete nothing */
    const char *identity;        /* forget: the participant identity */
};

static const char usage_text[] =
    "usage: lkarchive [options] <command>\n"
    "\n"
    "Archive LiveKit Cloud Analytics (sessions, participants, connections) into PostgreSQL.\n"
    "The API only serves the last 7 days; run this nightly to keep the history.\n"
    "\n"
    "commands:\n"
    "  run       archive the window (default: the 7 UTC days ending today), then exit\n"
    "  migrate   create or upgrade the database schema, then exit\n"
    "  check     verify config, API credentials (one API call) and database; change nothing\n"
    "  status    show per project and day what is archived, pending, or lost\n"
    "  prune     delete archived sessions listed before --before DATE (retention)\n"
    "  forget    pseudonymize participant --identity ID everywhere, for good (privacy)\n"
    "  grant ROLE give an existing PostgreSQL role read-only access to the archive\n"
    "            (schemas livekit and livekit_bi, and what later migrations add)\n"
    "\n"
    "options:\n"
    "  --config FILE      YAML configuration (default: $LKARCHIVE_CONFIG, else none)\n"
    "  --today YYYY-MM-DD pretend today is this UTC date\n"
    "  --days N           window length in days, 1..7 (default 7)\n"
    "  --full             run: fetch every session's details again, even unchanged ones\n"
    "  --acknowledge-gaps run/status: accept the days already lost (stop failing for them)\n"
    "  --log-level LEVEL  error, warn, info or debug (default info)\n"
    "  --before DATE      prune: sessions listed before this UTC day (older than the window)\n"
    "  --project ID       prune, forget: this project only\n"
    "  --identity ID      forget: the participant identity to forget\n"
    "  --dry-run          prune: print what would be deleted, delete nothing\n"
    "  --help             show this help\n"
    "  --version          show the version\n"
    "\n"
    "environment (overrides the file): LIVEKIT_API_KEY, LIVEKIT_API_SECRET,\n"
    "  LIVEKIT_PROJECT_ID, LIVEKIT_ANALYTICS_URL, DATABASE_URL (else libpq's PG* variables)\n"
    "\n"
    "exit status: 0 all archived; 1 some day not archived; 2 usage; 3 configuration;\n"
    "  4 API failure; 5 database failure; 6 a day was lost (gap); 7 another run holds a\n"
    "  project; 70 internal error\n";
_Static_assert(API_WINDOW_DAYS == 7, "usage_text says 7 days");

int cli_exit_for(int code)
{
    switch (code) {
    case LK_OK:
        return CLI_EXIT_OK;
    case LK_EUSAGE:
        return CLI_EXIT_USAGE;
    case LK_ECONFIG:
        return CLI_EXIT_CONFIG;
    case LK_EAPI:
    case LK_ERETRY:
        return CLI_EXIT_API;
    case LK_EDB:
        return CLI_EXIT_DATABASE;
    case LK_EDATA:
    case LK_EVALUE: /* the database works, but refused what the API sent: not all archived */
    case LK_EINCOMPLETE:
        return CLI_EXIT_INCOMPLETE;
    case LK_EGAP:
        return CLI_EXIT_GAP;
    case LK_ELOCKED:
        return CLI_EXIT_LOCKED;
    default:
        return CLI_EXIT_INTERNAL;
    }
}

static int report(const struct lk_error *err)
{
    log_lk_error(LOG_LEVEL_ERROR, err);
    return cli_exit_for(err->code);
}

static int parse_today(struct cli_options *opt, const char *value, struct lk_error *err)
{
    if (!date_valid(value)) {
        lk_error_set(err, LK_EUSAGE, "--today must be a date YYYY-MM-DD, not \"%.40s\"", value);
        return LK_EUSAGE;
    }
    snprintf(opt->today, sizeof opt->today, "%s", value);
    return 0;
}

static int parse_days(struct cli_options *opt, const char *value, struct lk_error *err)
{
    char *end;
    long days = strtol(value, &end, 10);

    if (*value == '\0' || *end != '\0' || days < 1 || days > API_WINDOW_DAYS) {
        lk_error_set(err, LK_EUSAGE, "--days must be a whole number from 1 to %d, not \"%.40s\"",
                     API_WINDOW_DAYS, value);
        return LK_EUSAGE;
    }
    opt->days = (int)days;
    return 0;
}

/* One option (value: its value, or NULL) or word of the command line. */
static int apply_arg(struct cli_options *opt, const char *arg, const char *value,
                     struct lk_error *err)
{
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        opt->command = "help";
    } else if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
        opt->command = "version";
    } else if (strcmp(arg, "--full") == 0 && value == NULL) {
        opt->full = true;
    } else if (strcmp(arg, "--acknowledge-gaps") == 0 && value == NULL) {
        opt->acknowledge_gaps = true;
    } else if (strcmp(arg, "--config") == 0 && value) {
        opt->config_path = value;
    } else if (strcmp(arg, "--today") == 0 && value) {
        return parse_today(opt, value, err);
    } else if (strcmp(arg, "--days") == 0 && value) {
        return parse_days(opt, value, err);
    } else if (strcmp(arg, "--log-level") == 0 && value) {
        opt->log_level = value;
    } else if (strcmp(arg, "--before") == 0 && value) {
        if (!date_valid(value)) {
            lk_error_set(err, LK_EUSAGE, "--before must be a date YYYY-MM-DD, not \"%.40s\"",
                         value);
            return LK_EUSAGE;
        }
        snprintf(opt->before, sizeof opt->before, "%s", value);
    } else if (strcmp(arg, "--project") == 0 && value) {
        opt->project = value;
    } else if (strcmp(arg, "--identity") == 0 && value) {
        opt->identity = value;
    } else if (strcmp(arg, "--dry-run") == 0 && value == NULL) {
        opt->dry_run = true;
    } else if (arg[0] == '-') {
        lk_error_set(err, LK_EUSAGE, "unknown option %s", arg);
        lk_error_detail(err, "see lkarchive --help");
        return LK_EUSAGE;
    } else if (opt->command == NULL) {
        opt->command = arg;
    } else if (strcmp(opt->command, "grant") == 0 && opt->argument == NULL) {
        opt->argument = arg; /* grant ROLE */
    } else if (strcmp(opt->command, "help") != 0 && strcmp(opt->command, "version") != 0) {
        lk_error_set(err, LK_EUSAGE, "unexpected argument \"%.60s\"", arg);
        return LK_EUSAGE;
    }
    return 0;
}

static int parse_args(struct cli_options *opt, int argc, char **argv, struct lk_error *err)
{
    memset(opt, 0, sizeof *opt);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        bool takes_value = strcmp(arg, "--config") == 0 || strcmp(arg, "--today") == 0 ||
                           strcmp(arg, "--days") == 0 || strcmp(arg, "--log-level") == 0 ||
                           strcmp(arg, "--before") == 0 || strcmp(arg, "--project") == 0 ||
                           strcmp(arg, "--identity") == 0;
        char *eq = strchr(arg, '=');
        char name[32];

        if (strncmp(arg, "--", 2) == 0 && eq && (size_t)(eq - arg) < sizeof name) {
            /* --name=value */
            memcpy(name, arg, (size_t)(eq - arg));
            name[eq - arg] = '\0';
            value = eq + 1;
            arg = name;
        } else if (takes_value) {
            if (i + 1 >= argc) {
                lk_error_set(err, LK_EUSAGE, "option %s needs a value", arg);
                return LK_EUSAGE;
            }
            value = argv[++i];
        }
        if (apply_arg(opt, arg, value, err) != 0)
            return LK_EUSAGE;
    }
    if (opt->command == NULL) {
        lk_error_set(err, LK_EUSAGE, "no command given");
        lk_error_detail(err, "commands: run, migrate, check, status, grant; see lkarchive --help");
        return LK_EUSAGE;
    }
    if (strcmp(opt->command, "grant") == 0 && opt->argument == NULL) {
        lk_error_set(err, LK_EUSAGE, "grant needs the role to give read access to");
        lk_error_detail(err, "usage: lkarchive grant ROLE");
        return LK_EUSAGE;
    }
    if (opt->config_path == NULL) {
        const char *env = getenv("LKARCHIVE_CONFIG");
        if (env && *env)
            opt->config_path = env;
    }
    if (opt->today[0] == '\0')
        date_today(opt->today);
    return 0;
}

static int apply_log_level(const char *name, struct lk_error *err)
{
    enum log_level level;
    if (name == NULL)
        return 0;
    if (log_level_from_name(name, &level) != 0) {
        lk_error_set(err, LK_EUSAGE, "unknown log level \"%.40s\"", name);
        lk_error_detail(err, "use error, warn, info or debug");
        return LK_EUSAGE;
    }
    log_set_level(level);
    return 0;
}

static int command_migrate(const struct config *cfg, struct lk_error *err)
{
    struct store *st = NULL;
    int applied = 0, rc;

    rc = store_open(&st, cfg->database_url, err);
    if (rc == 0)
        rc = store_migrate(st, cfg->citus_distribute, &applied, err);
    if (rc == 0)
        printf("schema up to date (%d migration%s applied now)\n", applied,
               applied == 1 ? "" : "s");
    store_free(st);
    return rc == 0 ? CLI_EXIT_OK : report(err);
}

/* Sessions a prune deletes per transaction: short locks, and a stopped prune loses little. */
#define PRUNE_BATCH_SESSIONS 1000

/* prune: refuse a day inside the API's window (the next run would fetch it all again), then
 * per project count (dry run) or delete in batches, one line per project. */
static int command_prune(const struct config *cfg, const struct cli_options *opt,
                         struct lk_error *err)
{
    char today[DATE_TEXT_SIZE], window_start[DATE_TEXT_SIZE];
    struct store *st = NULL;
    struct prune_counts counts;
    char **projects = NULL;
    size_t count = 0;
    int rc = 0;

    if (opt->before[0] == '\0') {
        lk_error_set(err, LK_EUSAGE, "prune needs --before YYYY-MM-DD");
        return report(err);
    }
    if (opt->today[0])
        snprintf(today, sizeof today, "%s", opt->today);
    else
        date_today(today);
    date_add_days(window_start, today, 1 - API_WINDOW_DAYS);
    if (strcmp(opt->before, window_start) > 0) {
        lk_error_set(err, LK_EUSAGE, "--before %s is inside the API's %d-day window (%s .. %s)",
                     opt->before, API_WINDOW_DAYS, window_start, today);
        lk_error_detail(err, "the next run would fetch those sessions again; use %s or earlier",
                        window_start);
        return report(err);
    }
    rc = store_open(&st, cfg->database_url, err);
    if (rc == 0)
        rc = store_migrate(st, cfg->citus_distribute, NULL, err);
    if (rc == 0)
        rc = store_prune_projects(st, opt->project, &projects, &count, err);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        rc = opt->dry_run
                 ? store_prune_count(st, projects[i], opt->before, &counts, err)
                 : store_prune(st, projects[i], opt->before, PRUNE_BATCH_SESSIONS, &counts, err);
        if (rc == 0)
            printf("%-20s before %s: %s %lld sessions, %lld participants, %lld connections\n",
                   projects[i], opt->before, opt->dry_run ? "would delete" : "deleted",
                   counts.sessions, counts.participants, counts.connections);
    }
    if (rc == 0 && count == 0)
        printf("nothing archived%s%s\n", opt->project ? " for " : "",
               opt->project ? opt->project : "");
    for (size_t i = 0; i < count; i++)
        free(projects[i]);
    free(projects);
    store_free(st);
    return rc == 0 ? CLI_EXIT_OK : report(err);
}

/* The key of identity pseudonyms, when configured (*out NULL otherwise); `needed`: its
 * absence is a configuration error. */
static int open_pseudo(const struct config *cfg, bool needed, struct pseudo **out,
                       struct lk_error *err)
{
    *out = NULL;
    if (cfg->pseudonymize_key_file)
        return pseudo_open(out, cfg->pseudonymize_key_file, err);
    if (needed || cfg->pseudonymize_identities) {
        lk_error_set(err, LK_ECONFIG, "%s needs pseudonymize_key_file",
                     needed ? "forget" : "pseudonymize_identities");
        lk_error_detail(err, "the key of the pseudonyms (HMAC-SHA256): a file of 16 bytes or more "
                             "only lkarchive's user can read, kept for the archive's life");
        return LK_ECONFIG;
    }
    return 0;
}

/* The store of a run, migrated, with the pseudonym key when configured. On failure nothing is
 * left open. */
static int open_run_store(const struct config *cfg, struct store **st, struct pseudo **pseudo,
                          struct lk_error *err)
{
    int rc = open_pseudo(cfg, false, pseudo, err);

    if (rc == 0)
        rc = store_open(st, cfg->database_url, err);
    if (rc == 0)
        rc = store_migrate(*st, cfg->citus_distribute, NULL, err);
    if (rc != 0) {
        store_free(*st);
        *st = NULL;
        pseudo_free(*pseudo);
        *pseudo = NULL;
        return rc;
    }
    store_set_pseudo(*st, *pseudo, cfg->pseudonymize_identities);
    return 0;
}

/* forget: the identity's rows pseudonymized in each project, its pseudonym recorded. */
static int command_forget(const struct config *cfg, const struct cli_options *opt,
                          struct lk_error *err)
{
    char hex[PSEUDO_HEX_SIZE];
    struct pseudo *pseudo = NULL;
    struct store *st = NULL;
    char **projects = NULL;
    size_t count = 0;
    long long participants, connections;
    int rc;

    if (opt->identity == NULL || opt->identity[0] == '\0') {
        lk_error_set(err, LK_EUSAGE, "forget needs --identity ID");
        return report(err);
    }
    rc = open_pseudo(cfg, true, &pseudo, err);
    if (rc == 0)
        rc = store_open(&st, cfg->database_url, err);
    if (rc == 0)
        rc = store_migrate(st, cfg->citus_distribute, NULL, err);
    /* --project: that project even before its first run, so the run cannot bring it back */
    if (rc == 0 && opt->project == NULL)
        rc = store_prune_projects(st, NULL, &projects, &count, err);
    if (rc == 0)
        pseudo_hex(pseudo, opt->identity, hex);
    for (size_t i = 0; rc == 0 && i < (opt->project ? 1 : count); i++) {
        const char *project = opt->project ? opt->project : projects[i];
        rc = store_forget(st, project, opt->identity, hex, &participants, &connections, err);
        if (rc == 0)
            printf("%-20s forgotten as %.16s...: %lld participant rows, %lld connections\n",
                   project, hex, participants, connections);
    }
    for (size_t i = 0; i < count; i++)
        free(projects[i]);
    free(projects);
    store_free(st);
    pseudo_free(pseudo);
    return rc == 0 ? CLI_EXIT_OK : report(err);
}

/* The status table; returns how many days in it are gaps. */
/* Bytes of a day's stored error that `status` shows. */
#define STATUS_ERROR_SHOWN 300

static int print_status(const struct status_row *rows, size_t count)
{
    int gaps = 0;

    if (count == 0)
        printf("nothing archived yet\n");
    else
        printf("%-20s %-10s %-9s %9s %12s %11s %6s  %s\n", "project", "day", "status", "sessions",
               "participants", "connections", "active", "note");
    for (size_t i = 0; i < count; i++) {
        const struct status_row *row = &rows[i];
        char project[256], last_error[STATUS_ERROR_SHOWN * 4 + 64];

        gaps += row->gap;
        /* the stored error quotes the API and the server: escaped, and cut to fit a line */
        escape_text(last_error, sizeof last_error, row->last_error, strlen(row->last_error),
                    STATUS_ERROR_SHOWN);
        escape_text(project, sizeof project, row->project, strlen(row->project), 128);
        printf("%-20s %-10s %-9s %9lld %12lld %11lld %6lld  %s%s%s\n", project, row->day,
               row->gap ? "GAP" : row->status, row->sessions, row->participants, row->connections,
               row->active_sessions,
               row->gap               ? "lost: left the 7-day window before it was complete"
               : row->completed_at[0] ? "completed "
                                      : "",
               row->gap ? "" : row->completed_at, last_error);
    }
    return gaps;
}

/* Migrate first, so the views the role is given exist. */
static int command_grant(const struct config *cfg, const struct cli_options *opt,
                         struct lk_error *err)
{
    struct store *st = NULL;
    int rc;

    rc = store_open(&st, cfg->database_url, err);
    if (rc == 0)
        rc = store_migrate(st, cfg->citus_distribute, NULL, err);
    if (rc == 0)
        rc = store_grant_read(st, opt->argument, err);
    store_free(st);
    if (rc != 0)
        return report(err);
    printf("role %s can read the archive (schemas livekit and livekit_bi), and write nothing\n",
           opt->argument);
    return CLI_EXIT_OK;
}

static int command_status(const struct config *cfg, const struct cli_options *opt,
                          struct lk_error *err)
{
    struct store *st = NULL;
    struct status_row *rows = NULL;
    size_t count = 0;
    bool migrated = true;
    int gaps = 0, rc;

    rc = store_open(&st, cfg->database_url, err);
    if (rc == 0)
        rc = store_status_rows(st, opt->today, &rows, &count, &migrated, err);
    store_free(st);
    if (rc != 0)
        return report(err);
    if (!migrated)
        printf("nothing archived yet (no livekit schema in this database: "
               "`lkarchive run` or `lkarchive migrate` creates it)\n");
    else
        gaps = print_status(rows, count);
    store_status_rows_free(rows, count);
    if (gaps > 0 && !cfg->acknowledge_gaps) {
        log_error("%d day%s left the %d-day window before being archived and cannot be "
                  "fetched any more",
                  gaps, gaps == 1 ? "" : "s", API_WINDOW_DAYS);
        return CLI_EXIT_GAP;
    }
    return CLI_EXIT_OK;
}

/* One authenticated list request per project: credentials, plan and project ids. */
static int probe_api(const struct config *cfg, const char *today, struct lk_error *err)
{
    struct api *api = NULL;
    int rc = api_new(&api, cfg, err);

    for (size_t p = 0; rc == 0 && p < cfg->project_count; p++) {
        rc = api_probe(api, cfg->projects[p], today, err);
        if (rc == 0)
            printf("api: project %s reachable, credentials accepted\n", cfg->projects[p]);
    }
    api_free(api);
    return rc;
}

static int command_check(const struct config *cfg, const struct cli_options *opt,
                         struct lk_error *err)
{
    struct store *st = NULL;
    bool current = false;
    char base_url[512];
    int rc;

    printf("config: %s, %zu project(s), base URL %s\n",
           cfg->source_path ? cfg->source_path : "environment only", cfg->project_count,
           redact_text(base_url, sizeof base_url, cfg->base_url, NULL));
    rc = store_open(&st, cfg->database_url, err);
    if (rc == 0)
        rc = store_schema_current(st, &current, err);
    store_free(st);
    if (rc != 0)
        return report(err);
    printf("database: reachable, schema %s\n",
           current ? "up to date" : "not yet migrated (run `lkarchive migrate` or `run`)");
    rc = probe_api(cfg, opt->today, err);
    return rc == 0 ? CLI_EXIT_OK : report(err);
}

/* window_day_fn: one line per project-day on out (a FILE *). */
static void print_day(void *out, const struct day_report *day)
{
    static const char *const words[] = {
        [DAY_COMPLETE] = "complete", [DAY_PENDING] = "pending", [DAY_PARTIAL] = "partial"};

    if (day->status == DAY_FAILED)
        fprintf(out, "%-20s %s  %-8s %s\n", day->project, day->day, "FAILED", day->error);
    else
        fprintf(out,
                "%-20s %s  %-8s %7lld sessions %8lld participants %8lld connections  "
                "(%lld active, %d pages, %lld details fetched, %lld skipped%s)\n",
                day->project, day->day, words[day->status], day->sessions, day->participants,
                day->connections, day->active_sessions, day->pages, day->details_fetched,
                day->details_skipped, day->status == DAY_PARTIAL ? ", some details failed" : "");
    fflush(out);
}

static int command_run(const struct config *cfg, const struct cli_options *opt,
                       struct lk_error *err)
{
    struct window_options window;
    struct run_summary summary;
    struct pseudo *pseudo = NULL;
    struct store *st = NULL;
    struct timespec started, finished;
    int rc, status;

    clock_gettime(CLOCK_MONOTONIC, &started);
    process_catch_stop_signals(); /* SIGTERM / SIGINT: roll back the day, close the run */
    snprintf(window.today, sizeof window.today, "%s", opt->today);
    window.days = opt->days ? opt->days : cfg->window_days;
    window.full = opt->full;
    window.acknowledge_gaps = opt->acknowledge_gaps;
    window.on_day = print_day;
    window.on_day_ctx = stdout;
    if (open_run_store(cfg, &st, &pseudo, err) != 0)
        return report(err);
    rc = window_run(cfg, &window, st, &summary, err);
    store_free(st);
    pseudo_free(pseudo);
    clock_gettime(CLOCK_MONOTONIC, &finished);
    if (rc == LK_EINTR) { /* as a shell reports a process a signal ended: 128 + its number */
        report(err);
        return CLI_EXIT_SIGNAL_BASE + process_stop_signal();
    }
    if (rc != 0)
        return report(err);
    printf("run %lld: %d day%s complete, %d pending, %d failed; %lld sessions, %lld "
           "participants, %lld connections; details %lld fetched, %lld skipped (unchanged); "
           "%lu requests in %.1f s\n",
           summary.run_id, summary.days_complete, summary.days_complete == 1 ? "" : "s",
           summary.days_pending, summary.days_failed, summary.sessions, summary.participants,
           summary.connections, summary.details_fetched, summary.details_skipped, summary.requests,
           (double)(finished.tv_sec - started.tv_sec) +
               (double)(finished.tv_nsec - started.tv_nsec) / 1e9);
    if (summary.days_failed > 0) {
        log_error("%d day%s not archived completely; they stay pending and the next run "
                  "fetches them again",
                  summary.days_failed, summary.days_failed == 1 ? " was" : "s were");
        log_detail(LOG_LEVEL_ERROR, "first error: %s", summary.first_error);
        status = cli_exit_for(summary.worst_error);
        return status == CLI_EXIT_OK ? CLI_EXIT_INCOMPLETE : status;
    }
    if (summary.gaps > 0) {
        log_error("%d day%s lost: %s the %d-day window before being archived", summary.gaps,
                  summary.gaps == 1 ? " is" : "s are", summary.gaps == 1 ? "it left" : "they left",
                  API_WINDOW_DAYS);
        log_detail(LOG_LEVEL_ERROR, "once you have taken note, run with --acknowledge-gaps (or "
                                    "set acknowledge_gaps: true) to stop failing for them");
        return CLI_EXIT_GAP;
    }
    if (summary.projects_locked > 0)
        return CLI_EXIT_LOCKED;
    return CLI_EXIT_OK;
}

/* The commands that load the configuration relaxed (no API credentials needed). */
static bool is_relaxed_command(const char *command)
{
    static const char *const relaxed[] = {"migrate", "status", "grant", "prune", "forget"};

    for (size_t i = 0; i < sizeof relaxed / sizeof relaxed[0]; i++)
        if (strcmp(command, relaxed[i]) == 0)
            return true;
    return false;
}

int cli_main(int argc, char **argv)
{
    struct cli_options opt;
    struct config *cfg = NULL;
    struct lk_error err;
    int status;

    lk_error_init(&err);
    if (parse_args(&opt, argc, argv, &err) != 0) {
        status = report(&err);
        goto done;
    }
    if (strcmp(opt.command, "help") == 0) {
        fputs(usage_text, stdout);
        status = CLI_EXIT_OK;
        goto done;
    }
    if (strcmp(opt.command, "version") == 0) {
        printf("lkarchive %s\n", LK_VERSION);
        status = CLI_EXIT_OK;
        goto done;
    }
    if (apply_log_level(opt.log_level, &err) != 0) {
        status = report(&err);
        goto done;
    }
    bool strict = strcmp(opt.command, "run") == 0 || strcmp(opt.command, "check") == 0;
    if (!strict && !is_relaxed_command(opt.command)) {
        lk_error_set(&err, LK_EUSAGE, "unknown command \"%.40s\"", opt.command);
        lk_error_detail(&err, "commands: run, migrate, check, status, grant, prune, forget; see "
                              "lkarchive --help");
        status = report(&err);
        goto done;
    }
    if ((strict ? config_load(&cfg, opt.config_path, &err)
                : config_load_relaxed(&cfg, opt.config_path, &err)) != 0) {
        status = report(&err);
        goto done;
    }
    if (opt.log_level == NULL && cfg->log_level && apply_log_level(cfg->log_level, &err) != 0) {
        status = report(&err);
        goto done;
    }
    if (strcmp(opt.command, "run") == 0)
        status = command_run(cfg, &opt, &err);
    else if (strcmp(opt.command, "migrate") == 0)
        status = command_migrate(cfg, &err);
    else if (strcmp(opt.command, "check") == 0)
        status = command_check(cfg, &opt, &err);
    else if (strcmp(opt.command, "grant") == 0)
        status = command_grant(cfg, &opt, &err);
    else if (strcmp(opt.command, "prune") == 0)
        status = command_prune(cfg, &opt, &err);
    else if (strcmp(opt.command, "forget") == 0)
        status = command_forget(cfg, &opt, &err);
    else
        status = command_status(cfg, &opt, &err);
done:
    config_free(cfg);
    return status;
}

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
#include "cli_internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "date.h"
#include "error.h"
#include "escape.h"
#include "log.h"
#include "process.h"
#include "pseudo.h"
#include "redact.h"
#include "report.h"
#include "store.h"
#include "store_grant.h"
#include "store_schema.h"
#include "window.h"

/* A command: its word, how strictly the configuration is checked, what it does. Adding a
 * command is adding an entry here (and its man page section: tests/integration/test_manpage.sh
 * checks that every option of every --help text is in doc/lkarchive.1). */
typedef int (*command_fn)(const struct config *cfg, const struct cli_options *opt,
                          struct lk_error *err);
struct command {
    const char *name;
    command_fn handler;
    bool strict_config;  /* needs credentials and projects (config_load, not _relaxed) */
    const char *summary; /* one line for `lkarchive --help` */
    const char *usage;   /* the synopsis after "usage: lkarchive [options] " */
    const char *help;    /* what `lkarchive COMMAND --help` says: description and options */
};

static int command_run(const struct config *cfg, const struct cli_options *opt,
                       struct lk_error *err);
static int command_migrate(const struct config *cfg, const struct cli_options *opt,
                           struct lk_error *err);
static int command_grant(const struct config *cfg, const struct cli_options *opt,
                         struct lk_error *err);

static const struct command commands[] = {
    {"run", command_run, true,
     "archive the window (default: the 7 UTC days ending today), then exit",
     "run [--days N] [--full] [--acknowledge-gaps] [--dry-run] [--metrics-file PATH]",
     "Archive every configured project, UTC day by UTC day, over the window (the 7 days ending\n"
     "today unless --days or window_days say less). Brings the schema up to date first. Each\n"
     "day is one transaction; one summary line per project-day on stdout.\n"
     "\n"
     "options:\n"
     "  --days N           window length in days, 1..7 (default: window_days, 7)\n"
     "  --full             fetch every session's details again, even unchanged ones\n"
     "  --acknowledge-gaps accept the days already lost (stop failing for them)\n"
     "  --dry-run          fetch and compare with the archive, write nothing: per day,\n"
     "                     the sessions new, changed and unchanged (schema must be current)\n"
     "  --metrics-file PATH  write a Prometheus textfile at the end (default: metrics_file)\n"},
    {"migrate", command_migrate, false, "create or upgrade the database schema, then exit",
     "migrate",
     "Create the livekit schema or apply the migrations it lacks, then exit. A migration\n"
     "changed after it was applied is refused (exit 5).\n"},
    {"check", cli_command_check, true,
     "verify config, API credentials (one API call) and database; change nothing", "check [--json]",
     "Verify the configuration, the database (reachable, schema current) and, with one list\n"
     "request per project, the API credentials, the plan and the project ids. Changes\n"
     "nothing. Every check is made and printed, one line each, with what to fix when it fails.\n"
     "\n"
     "options:\n"
     "  --json             one JSON object per check (JSON lines) on stdout\n"},
    {"status", cli_command_status, false,
     "show per project and day what is archived, pending, or lost",
     "status [--days N | --all] [--json] [--acknowledge-gaps]",
     "Show, for every configured project (every project in the ledger when none is\n"
     "configured), each day of the window and every gap before it: complete, pending,\n"
     "failed, missing, or GAP (left the 7-day window unarchived). Exits 6 while a gap is\n"
     "not acknowledged.\n"
     "\n"
     "options:\n"
     "  --days N           the window: the N days ending today, 1..7 (default: window_days)\n"
     "  --all              every day since the first ledger entry\n"
     "  --json             one JSON object per project and day (JSON lines) on stdout\n"
     "  --acknowledge-gaps acknowledge the gaps shown (they stop failing status and run)\n"},
    {"grant", command_grant, false,
     "give an existing PostgreSQL role read-only access to the archive", "grant ROLE",
     "Give the existing PostgreSQL role ROLE read-only access to the archive: USAGE on the\n"
     "schemas livekit and livekit_bi and SELECT on their tables and views, also on what later\n"
     "migrations add; it can write nothing. What a BI tool's login uses. Brings the schema\n"
     "up to date first; run it as the schema's owner.\n"},
    {"prune", cli_command_prune, false, "delete archived sessions listed before a day (retention)",
     "prune --before DATE [--project ID] [--dry-run]",
     "Delete the archived sessions listed before the UTC day DATE, with their participants,\n"
     "connections and rollup rows, in batches of 1,000 sessions per transaction (short locks),\n"
     "and record what went in livekit.archive_prunes. A day inside the API's 7-day window is\n"
     "refused (the next run would fetch it again).\n"
     "\n"
     "options:\n"
     "  --before DATE      sessions listed before this UTC day (older than the window)\n"
     "  --project ID       this project only (default: every project in the archive)\n"
     "  --dry-run          print what would be deleted, delete nothing\n"},
    {"forget", cli_command_forget, false, cli_forget_summary, cli_forget_usage, cli_forget_help},
    {"report", cli_command_report, false, cli_report_summary, cli_report_usage, cli_report_help},
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static const char common_options_text[] =
    "common options (before or after the command):\n"
    "  --config FILE      YAML configuration (default: $LKARCHIVE_CONFIG, else\n"
    "                     /etc/lkarchive/lkarchive.yaml when it exists)\n"
    "  --today YYYY-MM-DD pretend today is this UTC date\n"
    "  --log-level LEVEL  error, warn, info or debug (default info)\n"
    "  --log-format FMT   stderr lines as logfmt (default), json (JSON lines) or text\n"
    "  --help             show this help (after a command: that command's help)\n"
    "  --version          show the version\n";

static const char trailer_text[] =
    "\n"
    "environment (overrides the file): LIVEKIT_API_KEY, LIVEKIT_API_SECRET,\n"
    "  LIVEKIT_PROJECT_ID, LIVEKIT_ANALYTICS_URL, DATABASE_URL (else libpq's PG* variables),\n"
    "  LKARCHIVE_API_SECRET_FILE, LKARCHIVE_CONFIG, LKARCHIVE_LOG_LEVEL, LKARCHIVE_CA_FILE,\n"
    "  LKARCHIVE_PSEUDONYMIZE_KEY_FILE;\n"
    "  HTTPS_PROXY and NO_PROXY as in curl\n"
    "\n"
    "exit status: 0 all archived; 1 some day not archived; 2 usage; 3 configuration;\n"
    "  4 API failure; 5 database failure; 6 a day was lost (gap); 7 another run holds a\n"
    "  project; 70 internal error; 130/143 run stopped by SIGINT/SIGTERM\n"
    "\n"
    "see lkarchive(1)\n";
_Static_assert(API_WINDOW_DAYS == 7, "the help texts say 7 days");

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* "commands: run, migrate, ...; see lkarchive --help" as err's detail. */
static void detail_commands(struct lk_error *err)
{
    char names[256];
    size_t used = 0;

    names[0] = '\0';
    for (size_t i = 0; i < COMMAND_COUNT && used < sizeof names; i++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                 commands[i].name);
    lk_error_detail(err, "commands: %s; see lkarchive --help", names);
}

/* `lkarchive --help`: every command in a line, then the common options. */
static void print_usage(FILE *out)
{
    fputs("usage: lkarchive [options] <command> [command options]\n"
          "\n"
          "Archive LiveKit Cloud Analytics (sessions, participants, connections) into PostgreSQL.\n"
          "The API only serves the last 7 days; run this nightly to keep the history.\n"
          "\n"
          "commands (lkarchive COMMAND --help for each):\n",
          out);
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fputc('\n', out);
    fputs(common_options_text, out);
    fputs(trailer_text, out);
}

/* `lkarchive COMMAND --help`. */
static void print_command_help(FILE *out, const struct command *cmd)
{
    fprintf(out, "usage: lkarchive [options] %s\n\n%s\n", cmd->usage, cmd->help);
    fputs(common_options_text, out);
    fputs(trailer_text, out);
}

int cli_exit_for(int code)
{
    return lk_code_exit_status(code);
}

int cli_report(const struct lk_error *err)
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

    if (*value == '\0' || *end != '\0' || days < 1 || days > REPORT_MAX_DAYS) {
        lk_error_set(err, LK_EUSAGE, "--days must be a whole number from 1 to %d, not \"%.40s\"",
                     API_WINDOW_DAYS, value);
        lk_error_detail(err, "report: from 1 to %d", REPORT_MAX_DAYS);
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
        opt->help = true;
    } else if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
        opt->command = "version";
    } else if (strcmp(arg, "--full") == 0 && value == NULL) {
        opt->full = true;
    } else if (strcmp(arg, "--acknowledge-gaps") == 0 && value == NULL) {
        opt->acknowledge_gaps = true;
    } else if (strcmp(arg, "--dry-run") == 0 && value == NULL) {
        opt->dry_run = true;
    } else if (strcmp(arg, "--vacuum") == 0 && value == NULL) {
        opt->vacuum = true;
    } else if (strcmp(arg, "--all") == 0 && value == NULL) {
        opt->all = true;
    } else if (strcmp(arg, "--json") == 0 && value == NULL) {
        opt->json = true;
    } else if (strcmp(arg, "--config") == 0 && value) {
        opt->config_path = value;
    } else if (strcmp(arg, "--today") == 0 && value) {
        return parse_today(opt, value, err);
    } else if (strcmp(arg, "--days") == 0 && value) {
        return parse_days(opt, value, err);
    } else if (strcmp(arg, "--metrics-file") == 0 && value) {
        opt->metrics_file = value;
    } else if (strcmp(arg, "--log-format") == 0 && value) {
        opt->log_format = value;
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
    } else if (strcmp(arg, "--out") == 0 && value) {
        opt->out = value;
    } else if (arg[0] == '-') {
        lk_error_set(err, LK_EUSAGE, "unknown option %s", arg);
        lk_error_detail(err, "see lkarchive --help");
        return LK_EUSAGE;
    } else if (opt->command == NULL) {
        opt->command = arg;
    } else if (strcmp(opt->command, "grant") == 0 && opt->argument == NULL) {
        opt->argument = arg; /* grant ROLE */
    } else if (strcmp(opt->command, "help") == 0 && opt->help == false) {
        opt->command = arg; /* lkarchive help COMMAND */
        opt->help = true;
    } else if (strcmp(opt->command, "version") != 0) {
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
                           strcmp(arg, "--metrics-file") == 0 || strcmp(arg, "--log-format") == 0 ||
                           strcmp(arg, "--before") == 0 || strcmp(arg, "--project") == 0 ||
                           strcmp(arg, "--identity") == 0 || strcmp(arg, "--out") == 0;
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
    if (opt->command == NULL && opt->help)
        opt->command = "help";
    if (opt->command == NULL) {
        lk_error_set(err, LK_EUSAGE, "no command given");
        detail_commands(err);
        return LK_EUSAGE;
    }
    if (strcmp(opt->command, "grant") == 0 && opt->argument == NULL && !opt->help) {
        lk_error_set(err, LK_EUSAGE, "grant needs the role to give read access to");
        lk_error_detail(err, "usage: lkarchive grant ROLE");
        return LK_EUSAGE;
    }
    if (opt->days > API_WINDOW_DAYS && strcmp(opt->command, "report") != 0) {
        lk_error_set(err, LK_EUSAGE, "--days must be a whole number from 1 to %d, not \"%d\"",
                     API_WINDOW_DAYS, opt->days);
        return LK_EUSAGE;
    }
    if (opt->config_path == NULL) {
        const char *env = getenv("LKARCHIVE_CONFIG");
        opt->config_path = (env && *env) ? env : config_default_path();
    }
    if (opt->today[0] == '\0')
        date_today(opt->today);
    return 0;
}

static int apply_log_format(const char *name, struct lk_error *err)
{
    enum log_format format;

    if (name == NULL)
        return 0;
    if (log_format_from_name(name, &format) != 0) {
        lk_error_set(err, LK_EUSAGE, "unknown log format \"%.40s\"", name);
        lk_error_detail(err, "use logfmt, json or text");
        return LK_EUSAGE;
    }
    log_set_format(format);
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

static int command_migrate(const struct config *cfg, const struct cli_options *opt,
                           struct lk_error *err)
{
    (void)opt;
    struct store *st = NULL;
    int applied = 0, rc;

    rc = store_open(&st, cfg->database_url, err);
    if (rc == 0)
        rc = store_migrate(st, cfg->citus_distribute, &applied, err);
    if (rc == 0)
        printf("schema up to date (%d migration%s applied now)\n", applied,
               applied == 1 ? "" : "s");
    store_free(st);
    return rc == 0 ? CLI_EXIT_OK : cli_report(err);
}

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
        return cli_report(err);
    printf("role %s can read the archive (schemas livekit and livekit_bi), and write nothing\n",
           opt->argument);
    return CLI_EXIT_OK;
}

/* The exit status of a run that window_run ended with rc, saying why on stderr; the
 * summary line goes to stdout when the run went to its end. */
static int run_outcome(int rc, const struct run_summary *summary, bool dry_run, double seconds,
                       struct lk_error *err)
{
    int status;

    if (rc == LK_EINTR) { /* as a shell reports a process a signal ended: 128 + its number */
        cli_report(err);
        return CLI_EXIT_SIGNAL_BASE + process_stop_signal();
    }
    if (rc != 0)
        return cli_report(err);
    print_run_summary(summary, dry_run, seconds);
    if (summary->days_failed > 0) {
        log_error("%d day%s not archived completely; they stay pending and the next run "
                  "fetches them again",
                  summary->days_failed, summary->days_failed == 1 ? " was" : "s were");
        log_detail(LOG_LEVEL_ERROR, "first error: %s",
                   summary->first_error[0] ? summary->first_error : "see the errors logged above");
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

static int command_run(const struct config *cfg, const struct cli_options *opt,
                       struct lk_error *err)
{
    struct window_options window;
    struct run_summary summary;
    struct progress_state progress = {0};
    struct store *st = NULL;
    struct pseudo *pseudo = NULL;
    struct timespec started;
    int rc, status;

    clock_gettime(CLOCK_MONOTONIC, &started);
    process_catch_stop_signals(); /* SIGTERM / SIGINT: roll back the day, close the run */
    snprintf(window.today, sizeof window.today, "%s", opt->today);
    window.days = opt->days ? opt->days : cfg->window_days;
    window.full = opt->full;
    window.acknowledge_gaps = opt->acknowledge_gaps;
    window.dry_run = opt->dry_run;
    window.on_day = print_day;
    window.on_day_ctx = stdout;
    /* a live line per day on a terminal; in cron or a pipe only the summary lines */
    window.on_progress = isatty(STDERR_FILENO) ? print_progress : NULL;
    window.on_progress_ctx = &progress;
    rc = cli_open_pseudo(cfg, false, &pseudo, err);
    if (rc == 0)
        rc = store_open(&st, cfg->database_url, err);
    if (rc == 0)
        rc = opt->dry_run ? dry_run_store(st, err)
                          : store_migrate(st, cfg->citus_distribute, NULL, err);
    if (rc != 0) {
        status = cli_report(err);
        cli_write_metrics(cfg, opt, st, status, seconds_since(&started));
        store_free(st);
        pseudo_free(pseudo);
        return status;
    }
    store_set_pseudo(st, pseudo, cfg->pseudonymize_identities);
    /* projects side by side each take a connection of their own instead */
    window.spare =
        cfg->fetch_while_merging && (cfg->parallel_projects == 1 || cfg->project_count == 1)
            ? open_spare(cfg)
            : NULL;
    rc = window_run(cfg, &window, st, &summary, err);
    status = run_outcome(rc, &summary, opt->dry_run, seconds_since(&started), err);
    /* rows per table: both stores' commits counted into metrics as they committed */
    cli_write_metrics(cfg, opt, st, status, seconds_since(&started));
    cli_write_report(cfg, opt, st);
    store_free(window.spare);
    store_free(st);
    pseudo_free(pseudo);
    return status;
}

int cli_main(int argc, char **argv)
{
    struct cli_options opt;
    struct config *cfg = NULL;
    struct lk_error err, format_err;
    int status, parsed;

    lk_error_init(&err);
    parsed = parse_args(&opt, argc, argv, &err);
    /* the format applies to a usage error too, when it came before it */
    lk_error_init(&format_err);
    if (apply_log_format(opt.log_format, &format_err) != 0 && parsed == 0) {
        err = format_err;
        parsed = LK_EUSAGE;
    }
    if (parsed != 0) {
        status = cli_report(&err);
        goto done;
    }
    if (strcmp(opt.command, "help") == 0) {
        print_usage(stdout);
        status = CLI_EXIT_OK;
        goto done;
    }
    if (strcmp(opt.command, "version") == 0) {
        printf("lkarchive %s\n", LK_VERSION);
        status = CLI_EXIT_OK;
        goto done;
    }
    const struct command *cmd = find_command(opt.command);
    if (cmd == NULL) {
        lk_error_set(&err, LK_EUSAGE, "unknown command \"%.40s\"", opt.command);
        detail_commands(&err);
        status = cli_report(&err);
        goto done;
    }
    if (opt.help) {
        print_command_help(stdout, cmd);
        status = CLI_EXIT_OK;
        goto done;
    }
    if (apply_log_level(opt.log_level, &err) != 0) {
        status = cli_report(&err);
        goto done;
    }
    if ((cmd->strict_config ? config_load(&cfg, opt.config_path, &err)
                            : config_load_relaxed(&cfg, opt.config_path, &err)) != 0) {
        status = cli_report(&err);
        goto done;
    }
    if (opt.log_level == NULL && cfg->log_level && apply_log_level(cfg->log_level, &err) != 0) {
        status = cli_report(&err);
        goto done;
    }
    status = cmd->handler(cfg, &opt, &err);
done:
    config_free(cfg);
    return status;
}

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
#include <stddef.h>
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

static int command_migrate(const struct config *cfg, const struct cli_options *opt,
                           struct lk_error *err);
static int command_grant(const struct config *cfg, const struct cli_options *opt,
                         struct lk_error *err);

static const struct command commands[] = {
    {"run", cli_command_run, true,
     "archive the window (default: the 7 UTC days ending today), then exit",
     "run [--days N] [--full] [--acknowledge-gaps] [--dry-run] [--json] [--metrics-file PATH]",
     "Archive every configured project, UTC day by UTC day, over the window (the 7 days ending\n"
     "today unless --days or window_days say less). Brings the schema up to date first. Each\n"
     "day is one transaction; one summary line per project-day on stdout. After a good run\n"
     "the config's retention (e.g. 400d) prunes what is older, as prune --older-than does.\n"
     "\n"
     "options:\n"
     "  --days N           window length in days, 1..7 (default: window_days, 7)\n"
     "  --full             fetch every session's details again, even unchanged ones\n"
     "  --acknowledge-gaps accept the days already lost (stop failing for them)\n"
     "  --dry-run          fetch and compare with the archive, write nothing: per day,\n"
     "                     the sessions new, changed and unchanged (schema must be current)\n"
     "  --json             no day lines: one JSON object on stdout at the end (the outcome,\n"
     "                     exit status, days by status, rows, requests, seconds, error)\n"
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
     "status [--days N | --all] [--all-projects] [--json] [--acknowledge-gaps]",
     "Show, for every configured project (with --all-projects: every project in the ledger),\n"
     "each day of the window and every gap before it: complete, pending,\n"
     "failed, missing, or GAP (left the 7-day window unarchived). Exits 6 while a gap is\n"
     "not acknowledged.\n"
     "\n"
     "options:\n"
     "  --days N           the window: the N days ending today, 1..7 (default: window_days)\n"
     "  --all              every day since the first ledger entry\n"
     "  --all-projects     every project in the ledger, configured or not\n"
     "  --json             one JSON object per project and day (JSON lines) on stdout\n"
     "  --acknowledge-gaps acknowledge the gaps shown (they stop failing status and run)\n"},
    {"grant", command_grant, false,
     "give an existing PostgreSQL role read-only (or the writer's) access to the archive",
     "grant [--writer] ROLE",
     "Give the existing PostgreSQL role ROLE read-only access to the archive: USAGE on the\n"
     "schemas livekit and livekit_bi and SELECT on their tables and views, also on what later\n"
     "migrations add; it can write nothing. What a BI tool's login uses. Brings the schema\n"
     "up to date first; run it as the schema's owner. A superuser or the owner is given\n"
     "nothing: it can do everything already.\n"
     "\n"
     "options:\n"
     "  --writer           give instead what `run` needs (the GRANT statements a permission\n"
     "                     error prints): read the migrations, write the archive, the ledger\n"
     "                     and the rollup; no CREATE\n"},
    {"prune", cli_command_prune, false, "delete archived sessions older than a day (retention)",
     "prune (--before DATE | --older-than AGE) [--project ID] [--dry-run]",
     "Delete the archived sessions listed before the UTC day DATE (or older than AGE, e.g.\n"
     "400d: listed before today minus 400 days), with their participants, connections and\n"
     "rollup rows, in batches of 1,000 sessions per transaction (short locks), and record\n"
     "what went in livekit.archive_prunes. A day inside the API's 7-day window, as the real\n"
     "clock says (not --today), is refused: the next run would fetch it again.\n"
     "\n"
     "options:\n"
     "  --before DATE      sessions listed before this UTC day (older than the window)\n"
     "  --older-than AGE   sessions listed more than AGE ago: N days, written Nd\n"
     "  --project ID       this project only (default: every project in the archive)\n"
     "  --dry-run          print what would be deleted, delete nothing\n"},
    {"forget-project", cli_command_forget_project, false,
     "drop a project (a mistyped id, say) from the ledger with all its data",
     "forget-project ID [--yes]",
     "Delete everything archived for project ID: its sessions, participants and connections\n"
     "(in batches), its rollup rows, its days in the ledger, its learned rate and its prune\n"
     "records; the runs stay in livekit.archive_runs, and the hashes of identities forgotten\n"
     "(privacy) stay too. Without --yes it only says what it would delete. A run archiving the\n"
     "project at the time makes it refuse (exit 7).\n"
     "\n"
     "options:\n"
     "  --yes              delete (without it: what would be deleted, and exit 2)\n"},
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
    "  --quiet            only warnings and errors: a good run prints nothing\n"
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
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
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

/* The date option `option` (--today, --before) into out. */
static int parse_date(char out[DATE_TEXT_SIZE], const char *option, const char *value,
                      struct lk_error *err)
{
    if (!date_valid(value)) {
        lk_error_set(err, LK_EUSAGE, "%s must be a date YYYY-MM-DD, not \"%.40s\"", option, value);
        return LK_EUSAGE;
    }
    snprintf(out, DATE_TEXT_SIZE, "%s", value);
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

static int parse_older_than(struct cli_options *opt, const char *value, struct lk_error *err)
{
    if (cli_parse_age(value, &opt->older_than_days) != 0) {
        lk_error_set(err, LK_EUSAGE,
                     "--older-than must be a number of days, e.g. 400d, not "
                     "\"%.40s\"",
                     value);
        return LK_EUSAGE;
    }
    return 0;
}

/* The bool of opt a flag (an option without a value) sets, NULL when arg is none. */
static bool *flag_of(struct cli_options *opt, const char *arg)
{
    static const struct {
        const char *name;
        size_t offset;
    } flags[] = {
        {"--full", offsetof(struct cli_options, full)},
        {"--acknowledge-gaps", offsetof(struct cli_options, acknowledge_gaps)},
        {"--dry-run", offsetof(struct cli_options, dry_run)},
        {"--vacuum", offsetof(struct cli_options, vacuum)},
        {"--all", offsetof(struct cli_options, all)},
        {"--json", offsetof(struct cli_options, json)},
        {"--quiet", offsetof(struct cli_options, quiet)},
        {"--yes", offsetof(struct cli_options, yes)},
        {"--all-projects", offsetof(struct cli_options, all_projects)},
    };

    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (strcmp(arg, flags[i].name) == 0)
            return (bool *)((char *)opt + flags[i].offset);
    return NULL;
}

/* The options that take a value (--name VALUE or --name=VALUE), and what each value is. */
enum option_value { AS_TEXT, AS_DATE, AS_DAYS, AS_AGE };
static const struct valued_option {
    const char *name;
    enum option_value as;
    size_t offset; /* AS_TEXT: of its const char *; AS_DATE: of its date buffer */
} valued_options[] = {
    {"--config", AS_TEXT, offsetof(struct cli_options, config_path)},
    {"--today", AS_DATE, offsetof(struct cli_options, today)},
    {"--days", AS_DAYS, 0},
    {"--metrics-file", AS_TEXT, offsetof(struct cli_options, metrics_file)},
    {"--log-format", AS_TEXT, offsetof(struct cli_options, log_format)},
    {"--log-level", AS_TEXT, offsetof(struct cli_options, log_level)},
    {"--before", AS_DATE, offsetof(struct cli_options, before)},
    {"--project", AS_TEXT, offsetof(struct cli_options, project)},
    {"--identity", AS_TEXT, offsetof(struct cli_options, identity)},
    {"--out", AS_TEXT, offsetof(struct cli_options, out)},
    {"--older-than", AS_AGE, 0},
};

static const struct valued_option *valued_option_of(const char *arg)
{
    for (size_t i = 0; i < sizeof valued_options / sizeof valued_options[0]; i++)
        if (strcmp(arg, valued_options[i].name) == 0)
            return &valued_options[i];
    return NULL;
}

/* Store the value of a valued option in opt. */
static int apply_value(struct cli_options *opt, const struct valued_option *o, const char *value,
                       struct lk_error *err)
{
    char *field = (char *)opt + o->offset;

    switch (o->as) {
    case AS_TEXT:
        *(const char **)(void *)field = value;
        return 0;
    case AS_DATE:
        return parse_date(field, o->name, value, err);
    case AS_DAYS:
        return parse_days(opt, value, err);
    case AS_AGE:
        return parse_older_than(opt, value, err);
    }
    return 0;
}

/* One option (value: its value, or NULL) or word of the command line. */
static int apply_arg(struct cli_options *opt, const char *arg, const char *value,
                     struct lk_error *err)
{
    const struct valued_option *valued;
    bool *flag;

    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        opt->help = true;
    } else if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
        opt->command = "version";
    } else if (value == NULL && (flag = flag_of(opt, arg)) != NULL) {
        *flag = true;
    } else if (value != NULL && (valued = valued_option_of(arg)) != NULL) {
        return apply_value(opt, valued, value, err);
    } else if (strcmp(arg, "--writer") == 0) {
        opt->writer = true; /* grant --writer ROLE, or --writer=ROLE */
        if (value)
            opt->argument = value;
    } else if (arg[0] == '-') {
        lk_error_set(err, LK_EUSAGE, "unknown option %s", arg);
        lk_error_detail(err, "see lkarchive --help");
        return LK_EUSAGE;
    } else if (opt->command == NULL) {
        opt->command = arg;
    } else if ((strcmp(opt->command, "grant") == 0 ||
                strcmp(opt->command, "forget-project") == 0) &&
               opt->argument == NULL) {
        opt->argument = arg; /* grant ROLE, forget-project ID */
    } else if (strcmp(opt->command, "help") == 0 && opt->help == false) {
        opt->command = arg; /* lkarchive help COMMAND */
        opt->help = true;
    } else if (strcmp(opt->command, "version") != 0) {
        lk_error_set(err, LK_EUSAGE, "unexpected argument \"%.60s\"", arg);
        return LK_EUSAGE;
    }
    return 0;
}

static int check_command_args(struct cli_options *opt, struct lk_error *err);

static int parse_args(struct cli_options *opt, int argc, char **argv, struct lk_error *err)
{
    memset(opt, 0, sizeof *opt);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        bool takes_value = valued_option_of(arg) != NULL;
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
    return check_command_args(opt, err);
}

/* After the words are read: a command given (help when only --help was), the arguments each
 * command needs, and the defaults of the config path and today. */
static int check_command_args(struct cli_options *opt, struct lk_error *err)
{
    if (opt->command == NULL && opt->help)
        opt->command = "help";
    if (opt->command == NULL) {
        lk_error_set(err, LK_EUSAGE, "no command given");
        detail_commands(err);
        return LK_EUSAGE;
    }
    if (strcmp(opt->command, "grant") == 0 && opt->argument == NULL && !opt->help) {
        lk_error_set(err, LK_EUSAGE, "grant needs the role to give read access to");
        lk_error_detail(err, "usage: lkarchive grant [--writer] ROLE");
        return LK_EUSAGE;
    }
    if (opt->days > API_WINDOW_DAYS && strcmp(opt->command, "report") != 0) {
        lk_error_set(err, LK_EUSAGE, "--days must be a whole number from 1 to %d, not \"%d\"",
                     API_WINDOW_DAYS, opt->days);
        return LK_EUSAGE;
    }
    if (strcmp(opt->command, "forget-project") == 0 && opt->argument == NULL && !opt->help) {
        lk_error_set(err, LK_EUSAGE, "forget-project needs the project id to drop");
        lk_error_detail(err, "usage: lkarchive forget-project ID [--yes]");
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
    struct store *st = NULL;
    int applied = 0, rc;

    rc = store_open(&st, cfg->database_url, err);
    if (rc == 0)
        rc = store_migrate(st, cfg->citus_distribute, &applied, err);
    if (rc == 0 && !opt->quiet)
        printf("schema up to date (%d migration%s applied now)\n", applied,
               applied == 1 ? "" : "s");
    store_free(st);
    return rc == 0 ? CLI_EXIT_OK : cli_report(err);
}

/* Migrate first, so the views the role is given exist. A role that owns the archive
 * already (a superuser, the schema's owner) is given nothing, and told so. */
static int command_grant(const struct config *cfg, const struct cli_options *opt,
                         struct lk_error *err)
{
    struct store *st = NULL;
    bool owns = false;
    int rc;

    rc = store_open(&st, cfg->database_url, err);
    if (rc == 0)
        rc = store_migrate(st, cfg->citus_distribute, NULL, err);
    if (rc == 0)
        rc = store_role_owns(st, opt->argument, &owns, err);
    if (rc == 0 && !owns)
        rc = opt->writer ? store_grant_write(st, opt->argument, err)
                         : store_grant_read(st, opt->argument, err);
    store_free(st);
    if (rc != 0)
        return cli_report(err);
    if (opt->quiet)
        return CLI_EXIT_OK;
    if (owns)
        printf("role %s owns the archive (a superuser, or a member of its owner role): it can "
               "already read and write everything; nothing granted\n",
               opt->argument);
    else if (opt->writer)
        printf("role %s can write the archive as `run` does (schema livekit: read the "
               "migrations, write the archive, the ledger and the rollup), and create nothing\n",
               opt->argument);
    else
        printf("role %s can read the archive (schemas livekit and livekit_bi), and write "
               "nothing\n",
               opt->argument);
    return CLI_EXIT_OK;
}

/* The command's config (strict or relaxed), and the log level it names unless the command
 * line gave one. */
static int load_config(const struct command *cmd, const struct cli_options *opt,
                       struct config **cfg, struct lk_error *err)
{
    if ((cmd->strict_config ? config_load(cfg, opt->config_path, err)
                            : config_load_relaxed(cfg, opt->config_path, err)) != 0)
        return -1;
    if (opt->log_level == NULL && (*cfg)->log_level && apply_log_level((*cfg)->log_level, err) != 0)
        return -1;
    return 0;
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
    if (load_config(cmd, &opt, &cfg, &err) != 0) {
        status = cli_report(&err);
        goto done;
    }
    if (opt.quiet && (opt.log_level == NULL || strcmp(opt.log_level, "error") != 0))
        log_set_level(LOG_LEVEL_WARN); /* warnings and errors only, whatever the config says */
    status = cmd->handler(cfg, &opt, &err);
done:
    config_free(cfg);
    return status;
}

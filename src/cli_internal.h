/* cli_internal.h -- what the command files of the command line share: the parsed options,
 * the one error reporter, and each command's entry point (listed in cli.c's command table).
 */
#ifndef LK_CLI_INTERNAL_H
#define LK_CLI_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>

#include "date.h"

struct config;
struct lk_error;

struct cli_options {
    const char *command;
    const char *argument; /* grant: the role */
    const char *config_path;
    char today[DATE_TEXT_SIZE];
    int days; /* 0 = from config */
    bool full;
    bool dry_run; /* run: fetch and compare, write nothing */
    bool acknowledge_gaps;
    bool all;            /* status: the whole ledger, not the window */
    bool json;           /* status, check: JSON lines; run: a one-object summary */
    bool writer;         /* grant: the writer's rights, not read-only */
    bool quiet;          /* --quiet: warnings and errors only, nothing on stdout from run */
    bool yes;            /* forget-project: do it (else say what it would do) */
    bool all_projects;   /* status: every project of the ledger, not the configured ones */
    int older_than_days; /* prune --older-than Nd (0: not given) */
    bool help;           /* --help after a command: that command's help */
    const char *log_level;
    const char *log_format;      /* --log-format: logfmt, json or text */
    const char *metrics_file;    /* run: --metrics-file (else the config's metrics_file) */
    char before[DATE_TEXT_SIZE]; /* prune: sessions listed before this day */
    const char *project;         /* prune, forget: this project only (NULL: every project) */
    const char *identity;        /* forget: the participant identity */
    const char *out;             /* report: --out FILE */
    bool vacuum;                 /* forget: VACUUM the rewritten tables after */
};

/* Log err (once, where it is handled) and return the exit status for its code. */
int cli_report(const struct lk_error *err);

/* A command: 0 or an exit status (enum cli_exit); errors are reported by it. */
int cli_command_run(const struct config *cfg, const struct cli_options *opt, struct lk_error *err);

int cli_command_status(const struct config *cfg, const struct cli_options *opt,
                       struct lk_error *err);

int cli_command_check(const struct config *cfg, const struct cli_options *opt,
                      struct lk_error *err);

int cli_command_prune(const struct config *cfg, const struct cli_options *opt,
                      struct lk_error *err);

int cli_command_forget(const struct config *cfg, const struct cli_options *opt,
                       struct lk_error *err);

int cli_command_report(const struct config *cfg, const struct cli_options *opt,
                       struct lk_error *err);
/* report's line in --help, its synopsis and its help text (cli.c's command table) */
extern const char cli_report_summary[], cli_report_usage[], cli_report_help[];
extern const char cli_forget_summary[], cli_forget_usage[], cli_forget_help[];

int cli_command_forget_project(const struct config *cfg, const struct cli_options *opt,
                               struct lk_error *err);

/* An age in days written "Nd" (N from 1 to 100000) into *days_out: --older-than and the
 * config's retention. Returns 0, or -1 when text is not one. */
int cli_parse_age(const char *text, int *days_out);

struct store;
/* After a good run: the config's retention (cfg->retention, e.g. "400d"), applied to every
 * configured project as `prune --older-than` would, one line per project on stdout unless
 * quiet. Returns 0 or an exit status, the error reported. */
int cli_apply_retention(const struct config *cfg, const struct cli_options *opt, struct store *st,
                        struct lk_error *err);

struct pseudo;
/* The key of identity pseudonyms when pseudonymize_key_file is set (*out, the caller frees
 * it with pseudo_free), else *out NULL; `needed` (forget), or pseudonymize_identities set
 * without a key, is a configuration error. Returns 0 or LK_ECONFIG. */
int cli_open_pseudo(const struct config *cfg, bool needed, struct pseudo **out,
                    struct lk_error *err);

/* run: write the metrics file (opt's, else cfg's; none: nothing) for a run that ends with
 * exit_status after duration_s; st (NULL: the database was not reached) gives the ledger's
 * figures. A failure is logged as a warning: the run's outcome stands. */
void cli_write_metrics(const struct config *cfg, const struct cli_options *opt, struct store *st,
                       int exit_status, double duration_s);

/* run: write report_file (none: nothing) after the run on st; a failure is logged as a
 * warning: the run's outcome stands. */
void cli_write_report(const struct config *cfg, const struct cli_options *opt, struct store *st);

/* A JSON string value on out: quotes, backslashes and control characters escaped. */
void cli_json_string(FILE *out, const char *s);

#endif

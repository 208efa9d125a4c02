/* log.h -- leveled logging to stderr, one line per call, with the context (run id, project,
 * day) the run sets.
 *
 * Lines are logfmt by default:
 *   time=2026-11-27T02:30:00Z level=warn run=12 project=p_x day=2026-11-27 msg="message"
 * (a detail line carries detail="..." instead of msg), JSON lines with log_set_format
 * (LOG_FORMAT_JSON: {"time":...,"level":...,"run":12,"project":...,"msg":...}), or the
 * older human form "lkarchive: warning: project=p_x day=2026-11-27: message" (TEXT). Callers
 * never pass the API secret, a JWT or an Authorization header to these functions.
 */
#ifndef LK_LOG_H
#define LK_LOG_H

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

enum log_format { LOG_FORMAT_LOGFMT = 0, LOG_FORMAT_JSON, LOG_FORMAT_TEXT };

/* Set the line format (default LOGFMT). Cannot fail. */
void log_set_format(enum log_format format);
/* Parse "logfmt", "json", "text"; returns -1 on an unknown name. */
int log_format_from_name(const char *name, enum log_format *out);
/* The run id every line carries from now on (0: none). Cannot fail. */
void log_set_run(long long run_id);
/* The project and day the calling thread's lines carry (copied; NULL: none): each thread
 * has its own (window's committer thread logs under the day it commits). Every function here
 * may be called from any thread; set the level, format, prefix and run before a second
 * thread starts. Cannot fail. */
void log_set_context(const char *project, const char *day);

/* Set the most verbose level printed (default INFO). Cannot fail. */
void log_set_level(enum log_level level);
/* Parse "error", "warn", "info", "debug"; returns -1 on an unknown name. */
int log_level_from_name(const char *name, enum log_level *out);
/* Set (copied) or clear (NULL) a free-form context: logfmt and JSON carry it as ctx, TEXT
 * prints it after the level (prefer log_set_context). Cannot fail. */
void log_set_prefix(const char *prefix);
/* Count of warnings since start, printed or counted by log_warn_repeated (run summary). */
unsigned long log_warning_count(void);

/* A warning of a kind that can repeat thousands of times in one run (a value that cannot be
 * converted, in every record of a bad upstream release): the first LOG_REPEAT_LIMIT of each
 * `kind` are printed, then one line says the rest are counted; log_repeated_summary prints
 * the totals. kind is a short static string. */
#define LOG_REPEAT_LIMIT 25
void log_warn_repeated(const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A warning that may repeat with the same cause many times in a row (every request of a day
 * retried against an unreachable API): the first warning of each `key` (copied; cut to 127
 * bytes) since the last log_similar_flush is printed, the rest are counted (they still count
 * as warnings). log_similar_flush prints, per key, how many were not printed, and forgets
 * the keys; call it when the context changes (end of a day). */
void log_warn_similar(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_similar_flush(void);

/* One line per kind whose warnings were cut short: how many there were. Cannot fail. */
void log_repeated_summary(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A "detail:" continuation line at the given level. */
void log_detail(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A live progress line on stderr (a terminal): text replaces the line shown, without a
 * newline; a log line, or log_progress_end, clears it first. Cannot fail. */
void log_progress(const char *text);
void log_progress_end(void);

struct lk_error;
/* Log an error record once, where it is handled: its message at `level`, then its detail
 * (when set) on a "detail:" line. err NULL or without a message is a no-op. Cannot fail. */
void log_lk_error(enum log_level level, const struct lk_error *err);

#endif

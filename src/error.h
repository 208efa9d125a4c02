/* error.h -- the one error record every fallible lkarchive function fills.
 *
 * A fallible function returns 0 or a negative LK_E* code and fills a caller-owned
 * struct lk_error with the same code, a short primary message, an optional detail line and
 * an optional hint (PostgreSQL style: message lower-case, no trailing period). Callees' errors are
 * passed up unchanged; a caller that knows more (day, session) prefixes context.
 * No globals, no allocation: the record is fixed-size and safe to copy.
 */
#ifndef LK_ERROR_H
#define LK_ERROR_H

enum lk_code {
    LK_OK = 0,
    LK_EUSAGE = -1,      /* bad command line */
    LK_ECONFIG = -2,     /* bad configuration file or environment */
    LK_EAPI = -3,        /* upstream API refused or failed (not worth retrying) */
    LK_ERETRY = -4,      /* transient upstream failure (time-out, 5xx, 429, cut body) */
    LK_EDB = -5,         /* PostgreSQL failure */
    LK_ENOMEM = -6,      /* out of memory */
    LK_EDATA = -7,       /* upstream body malformed beyond what the parser tolerates */
    LK_EINCOMPLETE = -8, /* run finished but some day was not archived */
    LK_ELOCKED = -9,     /* another run holds the project */
    LK_EGAP = -10,       /* a day left the window without being archived */
    LK_EVALUE = -11,     /* PostgreSQL refused a value (data exception, constraint, limit):
                            it costs the session that carried it, never the run */
    LK_EINTR = -12       /* SIGTERM or SIGINT asked the run to stop */
};

/* Exit statuses (README and interface contract). */
enum cli_exit {
    CLI_EXIT_OK = 0,           /* everything in the window archived */
    CLI_EXIT_INCOMPLETE = 1,   /* the run finished, but some day or session was not archived */
    CLI_EXIT_USAGE = 2,        /* bad command line */
    CLI_EXIT_CONFIG = 3,       /* bad configuration (file, environment, credentials missing) */
    CLI_EXIT_API = 4,          /* upstream API failure (auth, plan, not found, unreachable) */
    CLI_EXIT_DATABASE = 5,     /* PostgreSQL failure */
    CLI_EXIT_GAP = 6,          /* a day left the 7-day window without being archived */
    CLI_EXIT_LOCKED = 7,       /* another run was archiving the same project */
    CLI_EXIT_INTERNAL = 70,    /* out of memory or a bug */
    CLI_EXIT_SIGNAL_BASE = 128 /* run stopped by SIGINT (130) or SIGTERM (143): 128 + signal */
};

/* What a code means beyond its function: the process's exit status, and its rank (the most
 * serious error a run met decides how the run is reported). One table, in error.c, serves
 * the run's summary (window) and the exit status (cli). Cannot fail. */
int lk_code_exit_status(int code);
int lk_code_rank(int code);

struct lk_error {
    int code;
    char message[512];
    char detail[1024];
    char hint[1024]; /* what to do about it, when the code knows (PostgreSQL's HINT) */
};

/* Clear the record (code LK_OK, empty strings). Cannot fail. */
void lk_error_init(struct lk_error *err);
/* Set code and printf-style primary message; clears the detail and the hint. err NULL is a
 * no-op. */
void lk_error_set(struct lk_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Set the printf-style detail line; the code and message stay. err NULL is a no-op. */
void lk_error_detail(struct lk_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Set the printf-style hint (what to do); code, message and detail stay. err NULL is a
 * no-op. */
void lk_error_hint(struct lk_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prefix the primary message with context ("project=p_x day=2026-11-27: ..."). */
void lk_error_prefix(struct lk_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif

/* cli.h -- argv to a command, errors to exit statuses (the one table of them). */
#ifndef LK_CLI_H
#define LK_CLI_H

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

/* Parse argv, run the command, return the process exit status. */
int cli_main(int argc, char **argv);

/* The exit status for an LK_E* code. Cannot fail. */
int cli_exit_for(int code);

#endif

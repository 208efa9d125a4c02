/* cli.h -- argv to a command, errors to exit statuses (the one table of them). */
#ifndef LK_CLI_H
#define LK_CLI_H

#include "error.h" /* enum cli_exit */

/* Parse argv, run the command, return the process exit status. */
int cli_main(int argc, char **argv);

/* The exit status for an LK_E* code (lk_code_exit_status). Cannot fail. */
int cli_exit_for(int code);

#endif

/* process.h -- process-wide set-up that protects the run and its secrets: a closed stdout
 * (`lkarchive run | head`) is not fatal, and no core dump can carry the API secret or a token.
 */
#ifndef LK_PROCESS_H
#define LK_PROCESS_H

/* Ignore SIGPIPE (a write to a closed pipe fails with EPIPE instead of killing the run) and
 * turn core dumps off for good (hard limit 0; not dumpable, except in sanitizer builds whose
 * leak checker needs to trace the process). Call once, first thing. Cannot fail: a step the
 * system refuses is skipped. */
void process_init(void);

#endif

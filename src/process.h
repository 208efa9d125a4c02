/* process.h -- process-wide set-up that protects the run and its secrets: a closed stdout
 * (`lkarchive run | head`) is not fatal, no core dump can carry the API secret or a token,
 * and SIGTERM / SIGINT (systemd stopping the unit, Ctrl-C) end a run cleanly.
 */
#ifndef LK_PROCESS_H
#define LK_PROCESS_H

/* Ignore SIGPIPE (a write to a closed pipe fails with EPIPE instead of killing the run) and
 * turn core dumps off for good (hard limit 0; not dumpable, except in sanitizer builds whose
 * leak checker needs to trace the process). Call once, first thing. Cannot fail: a step the
 * system refuses is skipped. */
void process_init(void);

/* From now on SIGTERM and SIGINT ask the run to stop instead of killing it: the first one
 * is remembered (process_stop_signal) and the run winds down (rolls back the open day,
 * records itself interrupted); a second one kills at once. For `run` only: a command that
 * never asks process_stop_signal must keep the default. Cannot fail. */
void process_catch_stop_signals(void);

/* The signal that asked the run to stop (SIGTERM, SIGINT), or 0. Cannot fail. */
int process_stop_signal(void);

#endif

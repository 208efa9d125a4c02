/* process.c -- signals and core dumps; see process.h.
 *
 * The secret is read into memory at start and tokens are minted from it all run long, so the
 * dump protections are set before anything is read. RLIMIT_CORE covers plain core files;
 * PR_SET_DUMPABLE also covers a piped core_pattern and ptrace by the same user. A stop signal
 * only sets a flag: everything else happens in the run's own loops (sched, window).
 */
#include "process.h"

#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#if defined(__SANITIZE_ADDRESS__)
#define LK_TRACED_BY_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LK_TRACED_BY_SANITIZER 1
#endif
#endif

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int signo)
{
    struct sigaction fallback = {0};

    stop_signal = signo;
    /* a second signal is not ignored: the default action ends the process */
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    sigaction(SIGTERM, &fallback, NULL);
    sigaction(SIGINT, &fallback, NULL);
}

void process_catch_stop_signals(void)
{
    struct sigaction catch = {0};

    catch.sa_handler = on_stop_signal;
    sigemptyset(&catch.sa_mask);
    catch.sa_flags = 0; /* no SA_RESTART: a sleep or poll returns early, the loop looks */
    sigaction(SIGTERM, &catch, NULL);
    sigaction(SIGINT, &catch, NULL);
}

int process_stop_signal(void)
{
    return (int)stop_signal;
}

void process_init(void)
{
    struct sigaction ignore = {0};
    struct rlimit no_core = {0, 0};

    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, NULL);
    setrlimit(RLIMIT_CORE, &no_core);
#ifndef LK_TRACED_BY_SANITIZER
    prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L);
#endif
}

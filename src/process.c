/* process.c -- signals and core dumps; see process.h.
 *
 * The secret is read into memory at start and tokens are minted from it all run long, so the
 * dump protections are set before anything is read. RLIMIT_CORE covers plain core files;
 * PR_SET_DUMPABLE also covers a piped core_pattern and ptrace by the same user.
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

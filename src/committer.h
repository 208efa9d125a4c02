/* committer.h -- a thread that commits one day (store_day_commit) while the caller goes on.
 *
 * window fetches day N+1 into one store while this thread merges and commits day N on the
 * other, so the network side and PostgreSQL overlap. One job at a time: committer_submit
 * hands one over, committer_wait returns when it is done. The job's store belongs to the
 * thread from submit to wait: the caller must not touch it (nor the job) in between. The
 * thread logs under the job's project and day (log.h's context is per thread) and reports
 * nothing else: the caller reads the job's outcome after committer_wait.
 */
#ifndef LK_COMMITTER_H
#define LK_COMMITTER_H

#include "error.h"
#include "store.h"
#include "store_day.h"

struct committer;

/* One day to commit: the arguments of store_day_commit, and its outcome. */
struct commit_job {
    struct store *st;
    long long run_id;
    const char *project, *day; /* the thread's log context while it commits */
    const struct day_result *result;
    struct day_counts *counts; /* filled by the commit */
    struct lk_error *err;      /* filled on failure */
    int rc;                    /* store_day_commit's return, set before committer_wait returns */
};

/* Start the thread (SIGTERM and SIGINT stay with the caller's thread). On success the caller
 * owns *out (committer_free). Returns 0 or LK_ENOMEM (no thread could be started). */
int committer_start(struct committer **out, struct lk_error *err);

/* Commit job->st's open day in the thread. No job may be pending (committer_wait first).
 * job is borrowed until committer_wait returns. Cannot fail. */
void committer_submit(struct committer *c, struct commit_job *job);

/* Wait for the job submitted last, if any; returns it (NULL: none was pending). Cannot fail. */
struct commit_job *committer_wait(struct committer *c);

/* Wait for a pending job, stop the thread and free c. NULL is a no-op. Cannot fail. */
void committer_free(struct committer *c);

#endif

/* committer.c -- the committer thread; see committer.h.
 *
 * One mutex and one condition variable guard the slot: committer_submit sets `job` and
 * counts it in `submitted`; the thread counts it in `started` when it takes it and in
 * `finished` when store_day_commit returned; `quit` asks the thread to end. Counters, not
 * pointers, say what is new: the same job (a day slot) may be submitted again. The store of a job
 * is used by one thread at a time: the mutex hand-over (submit, then wait) orders every access, so
 * libpq's connection needs no lock of its own.
 */
#include "committer.h"

#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include "log.h"

struct committer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct commit_job *job; /* submitted, not yet waited for (NULL: none) */
    unsigned long submitted, started, finished;
    bool quit;
};

static void *committer_main(void *arg)
{
    struct committer *c = arg;
    struct commit_job *job;

    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (!c->quit && c->started == c->submitted)
            pthread_cond_wait(&c->changed, &c->lock);
        if (c->started == c->submitted) /* quit, and nothing left to commit */
            break;
        job = c->job;
        c->started++;
        pthread_mutex_unlock(&c->lock);
        log_set_context(job->project, job->day);
        log_debug("merging and committing the day beside the next day's requests");
        job->rc = store_day_commit(job->st, job->run_id, job->result, job->counts, job->err);
        log_set_context(NULL, NULL);
        pthread_mutex_lock(&c->lock);
        c->finished = c->started;
        pthread_cond_broadcast(&c->changed);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

int committer_start(struct committer **out, struct lk_error *err)
{
    struct committer *c = calloc(1, sizeof *c);
    sigset_t stop, old;
    int rc;

    *out = NULL;
    if (c == NULL) {
        lk_error_set(err, LK_ENOMEM, "out of memory");
        return LK_ENOMEM;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->changed, NULL);
    /* the thread inherits the mask: the stop signals go to the thread that schedules */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    rc = pthread_create(&c->thread, NULL, committer_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&c->changed);
        pthread_mutex_destroy(&c->lock);
        free(c);
        lk_error_set(err, LK_ENOMEM, "could not start the committer thread");
        return LK_ENOMEM;
    }
    *out = c;
    return 0;
}

void committer_submit(struct committer *c, struct commit_job *job)
{
    pthread_mutex_lock(&c->lock);
    assert(c->job == NULL && job != NULL);
    c->job = job;
    c->submitted++;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
}

struct commit_job *committer_wait(struct committer *c)
{
    struct commit_job *job;

    pthread_mutex_lock(&c->lock);
    while (c->finished != c->submitted)
        pthread_cond_wait(&c->changed, &c->lock);
    job = c->job;
    c->job = NULL;
    pthread_mutex_unlock(&c->lock);
    return job;
}

void committer_free(struct committer *c)
{
    if (c == NULL)
        return;
    committer_wait(c);
    pthread_mutex_lock(&c->lock);
    c->quit = true;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->changed);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

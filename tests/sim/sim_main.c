/* sim_main.c -- lkarchive-sim: a LiveKit Cloud Analytics API simulator for tests and benchmarks.
 *
 * Wiring only: argv -> struct sim_dataset + server options; optionally the expected archive
 * rows (--expected-dir, and exit with --dump-only); then the server on 127.0.0.1, the bound
 * port written atomically to --port-file (temp file + rename) and announced on stderr, and a
 * sigwait for SIGTERM/SIGINT, after which MHD is stopped and the process exits 0.
 * SIGINT/SIGTERM are blocked before MHD starts its threads, so only sigwait ever sees them.
 * --fault rules are parsed here (sim_fault_parse) into the server options.
 * --project-sessions and --day-sessions are kept as given and applied to the dataset's
 * per-(project, day) counts once the projects and days are known (apply_counts).
 * --rate-limit and --project-rate-limit likewise become one limit per project once the
 * projects are known (apply_rate_limits), --project-rate-limit winning for its project.
 * Exit status: 0 ok, 1 runtime failure, 2 usage error.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_auth.h"
#include "sim_dataset.h"
#include "sim_server.h"

#define EXIT_USAGE 2
#define MAX_COUNTS 128
#define MAX_PROJECT_RATES 64

/* One --project-sessions ID:N or --day-sessions [ID:]DAY:N, as given (texts borrowed from
 * argv); DAY is an offset (0 = today) or a date. */
struct count_option {
    const char *project; /* NULL: every project */
    const char *day;     /* NULL: every day (--project-sessions) */
    size_t project_len, day_len;
    uint64_t sessions;
};

/* One --project-rate-limit ID:PER_MIN[:BURST], the project as given (borrowed from argv). */
struct project_rate_option {
    const char *text; /* the whole value, for messages */
    size_t project_len;
    struct sim_rate_limit limit;
};

struct options {
    const char *api_key, *api_secret, *today, *port_file, *expected_dir, *quirks;
    uint64_t port, seed, days, sessions_per_day, participants, connections, active_today, threads;
    uint64_t empty_sessions, overnight, revision, latency_ms, room_names;
    bool plan_below_scale, quiet, dump_only, help, ignore_page, exact_counts, shifting_pages,
        hostile, rate_limit_headers, identity_echo, long_identity;
    const char *projects[SIM_MAX_PROJECTS];
    size_t n_projects;
    struct sim_fault faults[SIM_MAX_FAULTS];
    size_t n_faults;
    bool slow_above;
    uint64_t slow_above_limit, slow_above_ms;
    struct count_option counts[MAX_COUNTS];
    size_t n_counts;
    struct sim_rate_limit rate_limit; /* --rate-limit; per_min 0: none */
    struct project_rate_option project_rates[MAX_PROJECT_RATES];
    size_t n_project_rates;
    struct sim_rate_limit rate_limits[SIM_MAX_PROJECTS]; /* per project, apply_rate_limits */
};

static void usage(FILE *fp)
{
    fputs("usage: lkarchive-sim --api-key KEY --api-secret SECRET --today YYYY-MM-DD\n"
          "         [--project ID]... [--port N] [--port-file FILE] [--seed N] [--days N]\n"
          "         [--sessions-per-day N] [--project-sessions ID:N]...\n"
          "         [--day-sessions [ID:]DAY:N]... [--participants N] [--connections N]\n"
          "         [--active-today N] [--quirks all|none|name,...] [--expected-dir DIR]\n"
          "         [--dump-only] [--threads N] [--plan-below-scale] [--quiet]\n"
          "         [--fault RULE]... [--slow-above-limit N:MS] [--ignore-page] [--exact-counts]\n"
          "         [--shifting-pages] [--empty-sessions N] [--overnight N]\n"
          "         [--revision N] [--hostile] [--identity-echo] [--long-identity]\n"
          "         [--rate-limit PER_MIN[:BURST]]\n"
          "         [--project-rate-limit ID:PER_MIN[:BURST]]... [--rate-limit-headers]\n"
          "         [--latency-ms N] [--room-names N] [--rooms unique]\n"
          "quirks: int64-strings timestamp-forms zero-timestamps unknown-fields nulls\n"
          "        shuffled-keys odd-strings bad-values gzip chunked pretty\n"
          "RULE:   KIND[:key=value,...]  KIND: 500 503 429 reset truncate badjson slow hang echo\n"
          "        keys: match=SUBSTR|list|details times=N permanent rate=P retry-after=S ms=N\n"
          "rate limit: a token bucket per project of BURST tokens (default PER_MIN/30, at\n"
          "        least 1), refilled at PER_MIN/60 a second, full at start; every authenticated\n"
          "        /api/ request takes one; without one: 429 + Retry-After. PER_MIN 1..6000000,\n"
          "        BURST 1..1000000. --project-rate-limit overrides --rate-limit for ID.\n"
          "        --rate-limit-headers: X-RateLimit-Limit/-Remaining/-Reset on limited answers\n"
          "latency: --latency-ms N (0..60000): every /api/ answer N ms after the request came\n"
          "rooms:  --room-names N (1..4294967295, default 500): room names drawn from N;\n"
          "        --rooms unique: a room of its own per session (call-N), as an app that\n"
          "        names a room after each call\n",
          fp);
}

static int parse_u64(uint64_t *out, const char *text, uint64_t min, uint64_t max)
{
    uint64_t v = 0;
    const char *p;

    if (*text == '\0')
        return -1;
    for (p = text; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static bool valid_project(const char *p)
{
    size_t n = strlen(p), i;

    if (n == 0 || n > 100)
        return false;
    for (i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
              (p[i] >= '0' && p[i] <= '9') || p[i] == '_' || p[i] == '-'))
            return false;
    return true;
}

/* "N:MS" of --slow-above-limit into o. 0 or -1. */
static int parse_slow_above(struct options *o, const char *text)
{
    const char *colon = strchr(text, ':');
    char n[24];
    size_t len = colon != NULL ? (size_t)(colon - text) : 0;

    if (colon == NULL || len == 0 || len >= sizeof n)
        return -1;
    memcpy(n, text, len);
    n[len] = '\0';
    if (parse_u64(&o->slow_above_limit, n, 0, 1000000) != 0 ||
        parse_u64(&o->slow_above_ms, colon + 1, 0, SIM_FAULT_MAX_MS) != 0)
        return -1;
    o->slow_above = true;
    return 0;
}

/* "PER_MIN[:BURST]" of --rate-limit into *out; BURST defaults to two seconds' worth
 * (PER_MIN / 30), at least 1. 0 or -1. */
static int parse_rate_limit(struct sim_rate_limit *out, const char *text)
{
    const char *colon = strchr(text, ':');
    char per_min[24];
    size_t len = colon != NULL ? (size_t)(colon - text) : strlen(text);
    int rc = -1;

    if (len == 0 || len >= sizeof per_min)
        goto done;
    memcpy(per_min, text, len);
    per_min[len] = '\0';
    if (parse_u64(&out->per_min, per_min, 1, SIM_RATE_MAX_PER_MIN) != 0)
        goto done;
    out->burst = out->per_min / 30 > 0 ? out->per_min / 30 : 1;
    if (colon != NULL && parse_u64(&out->burst, colon + 1, 1, SIM_RATE_MAX_BURST) != 0)
        goto done;
    rc = 0;
done:
    return rc;
}

/* "ID:PER_MIN[:BURST]" of --project-rate-limit into the next option; the project is checked
 * by apply_rate_limits. 0 or -1. */
static int parse_project_rate(struct options *o, const char *text)
{
    const char *colon = strchr(text, ':');
    struct project_rate_option *r;
    int rc = -1;

    if (o->n_project_rates < MAX_PROJECT_RATES && colon != NULL && colon != text) {
        r = &o->project_rates[o->n_project_rates];
        r->text = text;
        r->project_len = (size_t)(colon - text);
        if (parse_rate_limit(&r->limit, colon + 1) == 0) {
            o->n_project_rates++;
            rc = 0;
        }
    }
    return rc;
}

/* "ID:N" (--project-sessions) or "[ID:]DAY:N" (--day-sessions) into the next count option.
 * Checks the form and N only; the project and the day are checked by apply_counts. 0 or -1. */
static int parse_count_option(struct options *o, const char *text, bool by_day)
{
    struct count_option c = {NULL, NULL, 0, 0, 0};
    const char *last = strrchr(text, ':'), *first = strchr(text, ':');

    if (o->n_counts == MAX_COUNTS || last == NULL || last == text ||
        parse_u64(&c.sessions, last + 1, 0, SIM_MAX_SESSIONS_PER_DAY) != 0)
        return -1;
    if (!by_day) {
        c.project = text;
        c.project_len = (size_t)(last - text);
    } else if (first == last) {
        c.day = text;
        c.day_len = (size_t)(last - text);
    } else {
        c.project = text;
        c.project_len = (size_t)(first - text);
        c.day = first + 1;
        c.day_len = (size_t)(last - first - 1);
        if (c.project_len == 0 || c.day_len == 0)
            return -1;
    }
    o->counts[o->n_counts++] = c;
    return 0;
}

/* argv -> *o. 0, or -1 after printing the problem. */
static int parse_args(struct options *o, int argc, char **argv)
{
    static const struct {
        const char *name;
        uint64_t min, max;
        size_t offset;
    } numbers[] = {
        {"--port", 0, 65535, offsetof(struct options, port)},
        {"--seed", 0, UINT64_MAX, offsetof(struct options, seed)},
        {"--days", 1, 7, offsetof(struct options, days)},
        {"--sessions-per-day", 0, SIM_MAX_SESSIONS_PER_DAY,
         offsetof(struct options, sessions_per_day)},
        {"--participants", 1, SIM_MAX_PARTICIPANTS, offsetof(struct options, participants)},
        {"--connections", 1, SIM_MAX_CONNECTIONS, offsetof(struct options, connections)},
        {"--active-today", 0, SIM_MAX_SESSIONS_PER_DAY, offsetof(struct options, active_today)},
        {"--threads", 1, 256, offsetof(struct options, threads)},
        {"--empty-sessions", 0, UINT32_MAX, offsetof(struct options, empty_sessions)},
        {"--overnight", 0, UINT32_MAX, offsetof(struct options, overnight)},
        {"--revision", 0, UINT32_MAX, offsetof(struct options, revision)},
        {"--latency-ms", 0, SIM_LATENCY_MAX_MS, offsetof(struct options, latency_ms)},
        {"--room-names", 1, UINT32_MAX, offsetof(struct options, room_names)},
    };
    static const struct {
        const char *name;
        size_t offset;
    } strings[] = {
        {"--api-key", offsetof(struct options, api_key)},
        {"--api-secret", offsetof(struct options, api_secret)},
        {"--today", offsetof(struct options, today)},
        {"--port-file", offsetof(struct options, port_file)},
        {"--expected-dir", offsetof(struct options, expected_dir)},
        {"--quirks", offsetof(struct options, quirks)},
    };
    const char *arg, *value, *eq;
    char name[64], err[256];
    size_t i, len;
    int a;
    bool done;

    for (a = 1; a < argc; a++) {
        arg = argv[a];
        if (strcmp(arg, "--plan-below-scale") == 0) {
            o->plan_below_scale = true;
            continue;
        }
        if (strcmp(arg, "--quiet") == 0) {
            o->quiet = true;
            continue;
        }
        if (strcmp(arg, "--dump-only") == 0) {
            o->dump_only = true;
            continue;
        }
        if (strcmp(arg, "--ignore-page") == 0) {
            o->ignore_page = true;
            continue;
        }
        if (strcmp(arg, "--shifting-pages") == 0) {
            o->shifting_pages = true;
            continue;
        }
        if (strcmp(arg, "--hostile") == 0) {
            o->hostile = true;
            continue;
        }
        if (strcmp(arg, "--identity-echo") == 0) {
            o->identity_echo = true;
            continue;
        }
        if (strcmp(arg, "--long-identity") == 0) {
            o->long_identity = true;
            continue;
        }
        if (strcmp(arg, "--rate-limit-headers") == 0) {
            o->rate_limit_headers = true;
            continue;
        }
        if (strcmp(arg, "--exact-counts") == 0) {
            o->exact_counts = true;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            o->help = true;
            continue;
        }
        /* --name value or --name=value */
        eq = strchr(arg, '=');
        len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
        if (strncmp(arg, "--", 2) != 0 || len >= sizeof name) {
            fprintf(stderr, "lkarchive-sim: unexpected argument '%s'\n", arg);
            return -1;
        }
        memcpy(name, arg, len);
        name[len] = '\0';
        if (eq != NULL) {
            value = eq + 1;
        } else if (a + 1 < argc) {
            value = argv[++a];
        } else {
            fprintf(stderr, "lkarchive-sim: %s needs a value\n", name);
            return -1;
        }
        done = false;
        if (strcmp(name, "--project") == 0) {
            if (o->n_projects == SIM_MAX_PROJECTS || !valid_project(value)) {
                fprintf(stderr, "lkarchive-sim: bad or too many --project '%s'\n", value);
                return -1;
            }
            for (i = 0; i < o->n_projects; i++) {
                if (strcmp(o->projects[i], value) == 0) {
                    fprintf(stderr, "lkarchive-sim: --project '%s' given twice\n", value);
                    return -1;
                }
            }
            o->projects[o->n_projects++] = value;
            done = true;
        } else if (strcmp(name, "--fault") == 0) {
            if (o->n_faults == SIM_MAX_FAULTS) {
                fprintf(stderr, "lkarchive-sim: at most %d --fault rules\n", SIM_MAX_FAULTS);
                return -1;
            }
            if (sim_fault_parse(&o->faults[o->n_faults], value, err, sizeof err) != 0) {
                fprintf(stderr, "lkarchive-sim: bad --fault '%s': %s\n", value, err);
                return -1;
            }
            o->n_faults++;
            done = true;
        } else if (strcmp(name, "--project-sessions") == 0 || strcmp(name, "--day-sessions") == 0) {
            bool by_day = strcmp(name, "--day-sessions") == 0;

            if (parse_count_option(o, value, by_day) != 0) {
                fprintf(stderr,
                        "lkarchive-sim: %s wants %s (N 0..%u, at most %d of both options), "
                        "got '%s'\n",
                        name, by_day ? "[ID:]DAY:N, DAY an offset or YYYY-MM-DD" : "ID:N",
                        SIM_MAX_SESSIONS_PER_DAY, MAX_COUNTS, value);
                return -1;
            }
            done = true;
        } else if (strcmp(name, "--rooms") == 0) {
            if (strcmp(value, "unique") != 0) {
                fprintf(stderr, "lkarchive-sim: --rooms wants 'unique' (or --room-names N)\n");
                return -1;
            }
            o->room_names = 0; /* 0: a room per session */
            done = true;
        } else if (strcmp(name, "--rate-limit") == 0) {
            if (parse_rate_limit(&o->rate_limit, value) != 0) {
                fprintf(stderr,
                        "lkarchive-sim: --rate-limit wants PER_MIN[:BURST] (PER_MIN 1..%u, "
                        "BURST 1..%u), got '%s'\n",
                        SIM_RATE_MAX_PER_MIN, SIM_RATE_MAX_BURST, value);
                return -1;
            }
            done = true;
        } else if (strcmp(name, "--project-rate-limit") == 0) {
            if (parse_project_rate(o, value) != 0) {
                fprintf(stderr,
                        "lkarchive-sim: --project-rate-limit wants ID:PER_MIN[:BURST] "
                        "(PER_MIN 1..%u, BURST 1..%u, at most %d), got '%s'\n",
                        SIM_RATE_MAX_PER_MIN, SIM_RATE_MAX_BURST, MAX_PROJECT_RATES, value);
                return -1;
            }
            done = true;
        } else if (strcmp(name, "--slow-above-limit") == 0) {
            if (parse_slow_above(o, value) != 0) {
                fprintf(stderr,
                        "lkarchive-sim: --slow-above-limit wants N:MS (N 0..1000000, "
                        "MS 0..%u), got '%s'\n",
                        SIM_FAULT_MAX_MS, value);
                return -1;
            }
            done = true;
        }
        for (i = 0; !done && i < sizeof strings / sizeof strings[0]; i++) {
            if (strcmp(name, strings[i].name) == 0) {
                memcpy((char *)o + strings[i].offset, &value, sizeof value);
                done = true;
            }
        }
        for (i = 0; !done && i < sizeof numbers / sizeof numbers[0]; i++) {
            if (strcmp(name, numbers[i].name) == 0) {
                if (parse_u64((uint64_t *)(void *)((char *)o + numbers[i].offset), value,
                              numbers[i].min, numbers[i].max) != 0) {
                    fprintf(stderr, "lkarchive-sim: %s wants a number in %llu..%llu\n", name,
                            (unsigned long long)numbers[i].min, (unsigned long long)numbers[i].max);
                    return -1;
                }
                done = true;
            }
        }
        if (!done) {
            fprintf(stderr, "lkarchive-sim: unknown option %s\n", name);
            return -1;
        }
    }
    return 0;
}

/* The project a count option names, or -1 after printing the problem. */
static int count_project(const struct sim_dataset *ds, const struct count_option *c)
{
    char id[128];

    if (c->project_len < sizeof id) {
        memcpy(id, c->project, c->project_len);
        id[c->project_len] = '\0';
        if (sim_dataset_project(ds, id) >= 0)
            return sim_dataset_project(ds, id);
    }
    fprintf(stderr, "lkarchive-sim: project '%.*s' is not one of the --project ids\n",
            (int)c->project_len, c->project);
    return -1;
}

/* The day offset (0 = today) a --day-sessions names, or -1 after printing the problem. */
static int count_day(const struct sim_dataset *ds, const struct count_option *c)
{
    char text[16];
    uint64_t offset;
    int64_t day;

    if (c->day_len < sizeof text) {
        memcpy(text, c->day, c->day_len);
        text[c->day_len] = '\0';
        if (parse_u64(&offset, text, 0, SIM_MAX_DAYS - 1) == 0)
            day = ds->today - (int64_t)offset;
        else if (sim_date_parse(&day, text) != 0)
            day = ds->first_day - 1;
        if (day >= ds->first_day && day <= ds->today)
            return (int)(ds->today - day);
    }
    fprintf(stderr,
            "lkarchive-sim: --day-sessions day '%.*s' is not one of the --days (an offset "
            "0..%d or a date)\n",
            (int)c->day_len, c->day, (int)(ds->today - ds->first_day));
    return -1;
}

/* The count options into ds->day_sessions, most specific last so it wins: --project-sessions,
 * then --day-sessions DAY:N, then --day-sessions ID:DAY:N; among equals the later one.
 * 0, or -1 after printing the problem. */
static int apply_counts(struct sim_dataset *ds, const struct options *o)
{
    const struct count_option *c;
    int pass, project, offset;
    size_t i, p, d;

    for (pass = 0; pass < 3; pass++) {
        for (i = 0; i < o->n_counts; i++) {
            c = &o->counts[i];
            if (pass != (c->day == NULL ? 0 : c->project == NULL ? 1 : 2))
                continue;
            project = c->project != NULL ? count_project(ds, c) : -1;
            offset = c->day != NULL ? count_day(ds, c) : -1;
            if ((c->project != NULL && project < 0) || (c->day != NULL && offset < 0))
                return -1;
            for (p = 0; p < ds->n_projects; p++)
                for (d = 0; d < SIM_MAX_DAYS; d++)
                    if ((project < 0 || p == (size_t)project) &&
                        (offset < 0 || d == (size_t)offset))
                        ds->day_sessions[p][d] = (uint32_t)c->sessions;
        }
    }
    for (p = 0; p < ds->n_projects; p++) {
        if (ds->active_today > ds->day_sessions[p][0]) {
            fprintf(stderr, "lkarchive-sim: --active-today exceeds the sessions of today (%s)\n",
                    ds->projects[p]);
            return -1;
        }
    }
    return 0;
}

/* --rate-limit for every project, then each --project-rate-limit for its own (the later of
 * two for one project wins) into o->rate_limits. 0, or -1 after printing the problem. */
static int apply_rate_limits(struct options *o)
{
    const struct project_rate_option *r;
    size_t i, p;
    int rc = 0;

    for (p = 0; p < o->n_projects; p++)
        o->rate_limits[p] = o->rate_limit;
    for (i = 0; i < o->n_project_rates && rc == 0; i++) {
        r = &o->project_rates[i];
        for (p = 0; p < o->n_projects; p++)
            if (strlen(o->projects[p]) == r->project_len &&
                memcmp(o->projects[p], r->text, r->project_len) == 0)
                break;
        if (p < o->n_projects) {
            o->rate_limits[p] = r->limit;
        } else {
            fprintf(stderr,
                    "lkarchive-sim: --project-rate-limit '%s': project '%.*s' is not one of the "
                    "--project ids\n",
                    r->text, (int)r->project_len, r->text);
            rc = -1;
        }
    }
    return rc;
}

static int write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    FILE *fp;
    int rc = -1;

    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    fp = fopen(tmp, "w");
    if (fp == NULL)
        goto done;
    fprintf(fp, "%u\n", port);
    if (fclose(fp) != 0)
        goto done;
    /* rename is atomic: a reader sees no file or the whole number */
    if (rename(tmp, path) != 0)
        goto done;
    rc = 0;
done:
    if (rc != 0) {
        fprintf(stderr, "lkarchive-sim: could not write %s: %s\n", path, strerror(errno));
        remove(tmp);
    }
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    struct sim_dataset ds;
    struct sim_auth auth;
    struct sim_server *srv = NULL;
    struct sim_server_options sopt;
    struct sigaction ign;
    sigset_t set;
    char err[512];
    int status = EXIT_USAGE, sig = 0;
    int64_t today;
    size_t i;
    bool auth_ready = false;

    memset(&o, 0, sizeof o);
    memset(&ds, 0, sizeof ds);
    o.seed = 1;
    o.days = 7;
    o.sessions_per_day = 20;
    o.participants = 4;
    o.room_names = 500;
    o.connections = 6;
    o.active_today = 3;
    o.threads = 4;
    o.quirks = "none";
    if (parse_args(&o, argc, argv) != 0) {
        usage(stderr);
        goto done;
    }
    if (o.help) {
        usage(stdout);
        status = 0;
        goto done;
    }
    if (o.api_key == NULL || o.api_secret == NULL || o.today == NULL) {
        fprintf(stderr, "lkarchive-sim: --api-key, --api-secret and --today are required\n");
        usage(stderr);
        goto done;
    }
    if (sim_date_parse(&today, o.today) != 0 || today < (int64_t)o.days) {
        fprintf(stderr, "lkarchive-sim: --today wants a date YYYY-MM-DD, got '%s'\n", o.today);
        goto done;
    }
    if (o.dump_only && o.expected_dir == NULL) {
        fprintf(stderr, "lkarchive-sim: --dump-only needs --expected-dir\n");
        goto done;
    }
    if (o.connections > o.participants * 2000) {
        /* connection ids keep 12 bits per participant */
        fprintf(stderr, "lkarchive-sim: --connections may be at most 2000 x --participants\n");
        goto done;
    }
    if (sim_quirks_parse(&ds.quirks, o.quirks, err, sizeof err) != 0) {
        fprintf(stderr, "lkarchive-sim: %s\n", err);
        goto done;
    }
    if (o.n_projects == 0)
        o.projects[o.n_projects++] = "p_sim";
    if (apply_rate_limits(&o) != 0)
        goto done;
    status = EXIT_FAILURE;
    ds.seed = o.seed;
    for (i = 0; i < o.n_projects; i++)
        ds.projects[i] = o.projects[i];
    ds.n_projects = o.n_projects;
    ds.today = today;
    ds.first_day = today - (int64_t)o.days + 1;
    ds.sessions_per_day = (uint32_t)o.sessions_per_day;
    ds.participants = (uint32_t)o.participants;
    ds.connections = (uint32_t)o.connections;
    ds.active_today = (uint32_t)o.active_today;
    ds.exact_counts = o.exact_counts;
    ds.hostile = o.hostile;
    ds.identity_echo = o.identity_echo;
    ds.long_identity = o.long_identity;
    ds.empty_sessions = (uint32_t)o.empty_sessions;
    ds.overnight = (uint32_t)o.overnight;
    ds.revision = (uint32_t)o.revision;
    ds.room_names = (uint32_t)o.room_names;
    sim_dataset_init(&ds);
    status = EXIT_USAGE;
    if (apply_counts(&ds, &o) != 0)
        goto done;
    status = EXIT_FAILURE;

    if (o.expected_dir != NULL) {
        if (sim_dataset_write_expected(&ds, o.expected_dir, err, sizeof err) != 0) {
            fprintf(stderr, "lkarchive-sim: %s\n", err);
            goto done;
        }
        if (!o.quiet)
            fprintf(stderr, "lkarchive-sim: expected rows written to %s\n", o.expected_dir);
        if (o.dump_only) {
            status = 0;
            goto done;
        }
    }
    if (sim_auth_init(&auth, o.api_key, o.api_secret) != 0) {
        fprintf(stderr, "lkarchive-sim: out of memory\n");
        goto done;
    }
    auth_ready = true;

    /* before MHD's threads exist, so they inherit the mask and only sigwait gets these */
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, NULL);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);

    memset(&sopt, 0, sizeof sopt);
    sopt.port = (uint16_t)o.port;
    sopt.threads = (unsigned)o.threads;
    sopt.plan_below_scale = o.plan_below_scale;
    sopt.quiet = o.quiet;
    sopt.faults = o.faults;
    sopt.n_faults = o.n_faults;
    sopt.slow_above = o.slow_above;
    sopt.slow_above_limit = o.slow_above_limit;
    sopt.slow_above_ms = o.slow_above_ms;
    sopt.ignore_page = o.ignore_page;
    sopt.shifting_pages = o.shifting_pages;
    memcpy(sopt.rate_limits, o.rate_limits, sizeof sopt.rate_limits);
    sopt.rate_limit_headers = o.rate_limit_headers;
    sopt.latency_ms = o.latency_ms;
    if (sim_server_start(&srv, &ds, &auth, &sopt, err, sizeof err) != 0) {
        fprintf(stderr, "lkarchive-sim: %s\n", err);
        goto done;
    }
    if (o.port_file != NULL && write_port_file(o.port_file, sim_server_port(srv)) != 0)
        goto done;
    fprintf(stderr, "lkarchive-sim: listening on http://127.0.0.1:%u\n",
            (unsigned)sim_server_port(srv));
    fflush(stderr);
    if (sigwait(&set, &sig) != 0)
        goto done;
    if (!o.quiet)
        fprintf(stderr, "lkarchive-sim: signal %d, stopping\n", sig);
    status = 0;
done:
    sim_server_stop(srv);
    if (auth_ready)
        sim_auth_dispose(&auth);
    return status;
}

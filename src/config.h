/* config.h -- lkarchive's settings: YAML file (libyaml) overlaid by environment variables.
 *
 * Flow: config_load() reads the optional YAML file into a struct config, then the
 * contract's environment variables (LIVEKIT_API_KEY, LIVEKIT_API_SECRET, LIVEKIT_PROJECT_ID,
 * LIVEKIT_ANALYTICS_URL, DATABASE_URL) override what the file said (a key the environment
 * gives is not read from the file: its secret file is never opened), then the result is
 * validated (a key, a secret and at least one project are required; a CA file must be a
 * readable PEM bundle). The secret comes from
 * the environment, from `api_secret_file`, or (discouraged) inline; it lives only in
 * struct config and is zeroed by config_free(). Errors name the file, line and key.
 */
#ifndef LK_CONFIG_H
#define LK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct lk_error;

/* Every setting, after validation. Ranges and defaults are written once, in the key table of
 * config.c (config/lkarchive.example.yaml documents them for users). */
struct config {
    char **projects; /* project ids ("p_..."), at least one after validation */
    size_t project_count;
    /* per project (same index as projects; NULL arrays when no project has its own): the
     * project's own api_key and secret (from a "projects" entry {id, api_key,
     * api_secret_file}), or NULL to use the top-level ones: config_project_api_key/_secret */
    char **project_api_keys;
    char **project_api_secrets;  /* never print, zeroed on free */
    char *api_key;               /* token `iss` */
    char *api_secret;            /* token signing key: never print, zeroed on free */
    char *base_url;              /* the Analytics API, no trailing slash */
    char *database_url;          /* libpq conninfo or URI; NULL = libpq defaults and PG* vars */
    int window_days;             /* UTC days archived, ending today */
    int page_limit;              /* sessions per list page */
    long connect_timeout_s;      /* libcurl connect time-out */
    long request_timeout_s;      /* whole-transfer time-out */
    int token_ttl_s;             /* JWT lifetime */
    size_t max_string_bytes;     /* longest string stored whole; longer ones are cut */
    long max_sessions_per_day;   /* list paging stops with an error past this many */
    int max_depth;               /* deepest JSON nesting accepted */
    size_t max_body_bytes;       /* largest response body accepted, after decompression */
    size_t max_record_bytes;     /* most one record (values, extra, buffered connections) holds */
    int max_attempts;            /* attempts per HTTP request */
    int retry_base_ms;           /* first back-off (doubles each time) */
    int run_budget_s;            /* a run stops retrying after this long */
    int min_page_limit;          /* smallest page after time-outs halve it, <= page_limit */
    int max_concurrency;         /* parallel details requests */
    int requests_per_second;     /* cap on request starts, 0 = none */
    int max_requests_per_minute; /* cap per project (its own in project_max_rpm), 0 = none */
    int *project_max_rpm;        /* per project (same index as projects, NULL: none has its
                                    own): its max_requests_per_minute, 0: the top-level one */
    int parallel_projects;       /* projects fetched at once */
    int lock_wait_s;             /* wait for another run on the same project */
    int settling_time_s;         /* a session ended less than this ago is not final yet */
    int db_reconnect_attempts;   /* tries to reach PostgreSQL again mid-run */
    bool acknowledge_gaps;       /* do not fail the run for days already lost */
    bool allow_insecure_http;    /* http:// to a host other than this machine */
    bool http2;                  /* https: HTTP/2 when the server offers it (curl's default);
                                    false: HTTP/1.1, as curl --http1.1 */
    char *ca_file;               /* PEM bundle of the CAs the API's TLS trusts (resolved path),
                                    NULL: the system store */
    const char *ca_source;       /* what named it: "LKARCHIVE_CA_FILE", "ca_file",
                                    "CURL_CA_BUNDLE" or "SSL_CERT_FILE" (static), NULL: none */
    bool citus_distribute;       /* migrate distributes the archive tables on a Citus coordinator */
    bool fetch_while_merging;    /* fetch the next day on a second connection during a commit */
    char *pseudonymize_key_file; /* HMAC key of identity pseudonyms (forget); NULL: none */
    bool pseudonymize_identities; /* store every identity and name as its pseudonym */
    char *log_level;              /* "error" | "warn" | "info" | "debug" */
    char *metrics_file;           /* Prometheus textfile written by run, NULL = none */
    char *report_file;            /* HTML report written after each run, NULL = none */
    char *retention;              /* "400d": run prunes what is older after a good run; NULL */
    char *source_path;            /* the file read, or NULL when only the environment was used */
};

/* The config file read when neither --config nor LKARCHIVE_CONFIG names one. */
#define CONFIG_DEFAULT_PATH "/etc/lkarchive/lkarchive.yaml"

/* CONFIG_DEFAULT_PATH when something exists there (read, and its errors reported, as if
 * named), else NULL: the environment and the defaults only. Cannot fail. */
const char *config_default_path(void);

/* Fill *out from `path` (NULL: no file, environment and defaults only) and the environment.
 * On success returns 0 and the caller owns *out (config_free). On failure returns
 * LK_ECONFIG (or LK_ENOMEM) with err naming the file, line and key, and *out is NULL.
 * Validation that needs all sources (missing key/secret/project) is done here too. */
int config_load(struct config **out, const char *path, struct lk_error *err);

/* Like config_load but does not require credentials or projects (for `migrate`, `status`). */
int config_load_relaxed(struct config **out, const char *path, struct lk_error *err);

/* The API key and secret that sign project i's tokens: its own, else the top-level ones
 * (NULL only before validation). Borrowed from cfg. Cannot fail. */
const char *config_project_api_key(const struct config *cfg, size_t i);

/* The most requests a minute project i may make (its own max_requests_per_minute, else the
 * top-level one, capped by requests_per_second x 60); 0: no cap. Cannot fail. */
int config_project_max_rpm(const struct config *cfg, size_t i);

/* The largest max_requests_per_minute accepted. */
#define CONFIG_MAX_RPM 1000000
const char *config_project_api_secret(const struct config *cfg, size_t i);

/* Free everything, zeroing the secret first. NULL is a no-op. Cannot fail. */
void config_free(struct config *cfg);

#endif

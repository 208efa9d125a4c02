/* config.c -- lkarchive's settings: the key table, the sources in order, the cross-checks;
 * see config.h. The file is read by config_yaml.c, each value checked by config_value.c.
 *
 * Flow: every default of the table `config_keys` is applied as if written in a file -> the
 * file's keys (config_yaml.c) -> the contract's environment variables replace what the file
 * said -> cross-checks (min_page_limit against page_limit) and, for config_load, the
 * credentials. The table is the one place a key's kind, range and default are written.
 * Invariants: every error names where it comes from ("file:line", "environment" or
 * "default") and the key; every string in struct config is heap-owned by it; an error never
 * carries the secret, and struct config is wiped when freed.
 */
#include "config.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "api.h"
#include "config_internal.h"
#include "error.h"
#include "log.h"
#include "secret.h"

#define FIELD(f) offsetof(struct config, f)

/* The text of a macro's value, for defaults written as constants. */
#define LK_STRINGIFY_VALUE(x) #x
#define LK_STRINGIFY(x) LK_STRINGIFY_VALUE(x)

/* name, kind, min, max, field, default (NULL: unset unless the file or environment sets it) */
const struct key_def config_keys[CONFIG_KEY_COUNT] = {
    {"projects", KIND_PROJECTS, 0, 0, 0, NULL},
    {"api_key", KIND_STRING, 0, 0, FIELD(api_key), NULL},
    {"api_secret", KIND_SECRET, 0, 0, FIELD(api_secret), NULL},
    {"api_secret_file", KIND_SECRET_FILE, 0, 0, 0, NULL},
    {"base_url", KIND_URL, 0, 0, FIELD(base_url), "https://cloud-api.livekit.io"},
    {"database_url", KIND_STRING, 0, 0, FIELD(database_url), NULL},
    {"window_days", KIND_INT, 1, API_WINDOW_DAYS, FIELD(window_days),
     LK_STRINGIFY(API_WINDOW_DAYS)},
    {"page_limit", KIND_INT, 1, 100000, FIELD(page_limit), "100"},
    {"min_page_limit", KIND_INT, 1, 100000, FIELD(min_page_limit), "10"},
    {"connect_timeout", KIND_LONG, 1, 600, FIELD(connect_timeout_s), "10"},
    {"request_timeout", KIND_LONG, 1, 3600, FIELD(request_timeout_s), "120"},
    {"token_ttl", KIND_INT, 60, 86400, FIELD(token_ttl_s), "600"},
    {"max_string_bytes", KIND_SIZE, 1024, 268435456, FIELD(max_string_bytes), "1048576"},
    {"max_sessions_per_day", KIND_LONG, 1, 1000000000, FIELD(max_sessions_per_day), "5000000"},
    {"max_depth", KIND_INT, 8, 1024, FIELD(max_depth), "64"},
    {"max_body_bytes", KIND_SIZE, 65536, 4294967296LL, FIELD(max_body_bytes), "268435456"},
    {"max_record_bytes", KIND_SIZE, 65536, 1073741824, FIELD(max_record_bytes), "4194304"},
    {"max_attempts", KIND_INT, 1, 20, FIELD(max_attempts), "5"},
    {"retry_base_ms", KIND_INT, 10, 60000, FIELD(retry_base_ms), "500"},
    {"run_budget", KIND_INT, 1, 86400, FIELD(run_budget_s), "10800"},
    {"max_concurrency", KIND_INT, 1, 64, FIELD(max_concurrency), "8"},
    {"requests_per_second", KIND_INT, 0, 1000, FIELD(requests_per_second), "0"},
    {"max_requests_per_minute", KIND_INT, 0, CONFIG_MAX_RPM, FIELD(max_requests_per_minute), "0"},
    {"parallel_projects", KIND_INT, 1, 64, FIELD(parallel_projects), "4"},
    {"lock_wait", KIND_INT, 0, 3600, FIELD(lock_wait_s), "0"},
    {"settling_time", KIND_INT, 0, 604800, FIELD(settling_time_s), "3600"},
    {"db_reconnect_attempts", KIND_INT, 1, 20, FIELD(db_reconnect_attempts), "5"},
    {"acknowledge_gaps", KIND_BOOL, 0, 1, FIELD(acknowledge_gaps), "false"},
    {"allow_insecure_http", KIND_BOOL, 0, 1, FIELD(allow_insecure_http), "false"},
    {"ca_file", KIND_STRING, 0, 0, FIELD(ca_file), NULL},
    {"http2", KIND_BOOL, 0, 1, FIELD(http2), "true"},
    {"citus_distribute", KIND_BOOL, 0, 1, FIELD(citus_distribute), "true"},
    {"fetch_while_merging", KIND_BOOL, 0, 1, FIELD(fetch_while_merging), "true"},
    {"pseudonymize_key_file", KIND_STRING, 0, 0, FIELD(pseudonymize_key_file), NULL},
    {"pseudonymize_identities", KIND_BOOL, 0, 1, FIELD(pseudonymize_identities), "false"},
    {"log_level", KIND_LOG_LEVEL, 0, 0, FIELD(log_level), "info"},
    {"metrics_file", KIND_STRING, 0, 0, FIELD(metrics_file), NULL},
    {"report_file", KIND_STRING, 0, 0, FIELD(report_file), NULL},
    {"retention", KIND_STRING, 0, 0, FIELD(retention), NULL},
};

/* An entry left out of the table would be a zeroed key without a name. */
_Static_assert(sizeof config_keys / sizeof config_keys[0] == CONFIG_KEY_COUNT,
               "CONFIG_KEY_COUNT must match config_keys");

/* ---- keys ---- */

const struct key_def *config_find_key(const char *name, size_t len)
{
    if (strlen(name) != len)
        return NULL;
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++)
        if (strcmp(config_keys[i].name, name) == 0)
            return &config_keys[i];
    return NULL;
}

/* Edit distance of two short strings (for "did you mean"); longer than 63 bytes: far. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64], i, j;

    if (la >= 64 || lb >= 64)
        return SIZE_MAX;
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        size_t diagonal = row[0];

        row[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t above = row[j];
            size_t best = diagonal + (a[i - 1] != b[j - 1]);

            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}

/* Near keys (a typo, or a prefix), else every key. */
void config_hint_unknown_key(const char *name, struct lk_error *err)
{
    char list[768];
    size_t used = 0, near = 0;

    list[0] = '\0';
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        size_t len = strlen(name);
        bool close = edit_distance(name, config_keys[i].name) <= 2 ||
                     (len >= 4 && strncmp(config_keys[i].name, name, len) == 0);

        if (close && used < sizeof list) {
            used += (size_t)snprintf(list + used, sizeof list - used, "%s\"%s\"", near ? ", " : "",
                                     config_keys[i].name);
            near++;
        }
    }
    if (near == 1) {
        lk_error_detail(err, "did you mean %s?", list);
        return;
    }
    if (near > 1) {
        lk_error_detail(err, "did you mean one of %s?", list);
        return;
    }
    for (size_t i = 0; i < CONFIG_KEY_COUNT && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                 config_keys[i].name);
    lk_error_detail(err, "known keys: %s", list);
}

/* ---- the environment ---- */

/* An environment variable's value; empty counts as unset. */
static const char *env_value(const char *name)
{
    const char *value = getenv(name);

    return (value != NULL && value[0] != '\0') ? value : NULL;
}

/* LIVEKIT_PROJECT_ID: one id or several, comma-separated (blanks around ids ignored). */
static int env_projects(struct config *cfg, const char *value, struct lk_error *err)
{
    struct id_list list = {NULL, NULL, NULL, NULL, 0, 0};
    const char *p = value;
    int rc = 0;

    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        while (len > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        rc = config_add_project(&list, p, len, "environment", "LIVEKIT_PROJECT_ID", err);
        if (rc != 0)
            goto done;
        if (end == NULL)
            break;
        p = end + 1;
    }
    config_take_projects(cfg, &list);
done:
    config_id_list_dispose(&list);
    return rc;
}

/* Each variable of the contract and the keys of the file whose value it gives. */
static const struct {
    const char *variable;
    const char *keys[2];
} env_gives[] = {
    {"LIVEKIT_API_KEY", {"api_key", NULL}},
    {"LIVEKIT_API_SECRET", {"api_secret", "api_secret_file"}},
    {"LKARCHIVE_API_SECRET_FILE", {"api_secret", "api_secret_file"}},
    {"LIVEKIT_PROJECT_ID", {"projects", NULL}},
    {"LIVEKIT_ANALYTICS_URL", {"base_url", NULL}},
    {"DATABASE_URL", {"database_url", NULL}},
    {"LKARCHIVE_LOG_LEVEL", {"log_level", NULL}},
    {"LKARCHIVE_CA_FILE", {"ca_file", NULL}},
};

bool config_env_gives(const struct key_def *def)
{
    for (size_t i = 0; i < sizeof env_gives / sizeof env_gives[0]; i++)
        for (size_t k = 0; k < 2; k++)
            if (env_gives[i].keys[k] != NULL && strcmp(env_gives[i].keys[k], def->name) == 0 &&
                env_value(env_gives[i].variable) != NULL)
                return true;
    return false;
}

const char *config_default_path(void)
{
    struct stat info;

    return lstat(CONFIG_DEFAULT_PATH, &info) == 0 ? CONFIG_DEFAULT_PATH : NULL;
}

/* The contract's variables replace what the file said; each bad one is a problem noted. */
static int apply_environment(struct loader *ld)
{
    struct config *cfg = ld->cfg;
    struct lk_error *err = ld->err;
    const char *value;
    int rc = 0;

    if ((value = env_value("LIVEKIT_API_KEY")) != NULL)
        rc = config_set_string(&cfg->api_key, value, strlen(value), false, err);
    if (rc == 0 && (value = env_value("LIVEKIT_API_SECRET")) != NULL)
        rc = config_set_string(&cfg->api_secret, value, strlen(value), true, err);
    else if (rc == 0 && (value = env_value("LKARCHIVE_API_SECRET_FILE")) != NULL)
        /* systemd's LoadCredential=: the unit sets it to %d/NAME ($CREDENTIALS_DIRECTORY) */
        rc = config_note_problem(
            ld, config_read_secret_file(ld, value, "LKARCHIVE_API_SECRET_FILE", &cfg->api_secret));
    /* the pseudonyms' key under systemd's LoadCredential= (%d/NAME), as the secret's */
    if (rc == 0 && (value = env_value("LKARCHIVE_PSEUDONYMIZE_KEY_FILE")) != NULL)
        rc = config_set_string(&cfg->pseudonymize_key_file, value, strlen(value), false, err);
    if (rc == 0 && (value = env_value("LIVEKIT_PROJECT_ID")) != NULL)
        rc = config_note_problem(ld, env_projects(cfg, value, err));
    if (rc == 0 && (value = env_value("LIVEKIT_ANALYTICS_URL")) != NULL)
        rc = config_note_problem(
            ld, config_set_url(&cfg->base_url, value, "environment", "LIVEKIT_ANALYTICS_URL", err));
    if (rc == 0 && (value = env_value("DATABASE_URL")) != NULL)
        rc = config_set_string(&cfg->database_url, value, strlen(value), false, err);
    if (rc == 0 && (value = env_value("LKARCHIVE_LOG_LEVEL")) != NULL)
        rc = config_note_problem(ld, config_set_log_level(&cfg->log_level, value, "environment",
                                                          "LKARCHIVE_LOG_LEVEL", err));
    return rc;
}

/* ---- loading ---- */

/* The default of every key that has one, applied and checked like a plain scalar. */
static int apply_defaults(const struct loader *ld)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < CONFIG_KEY_COUNT; i++) {
        const char *text = config_keys[i].default_value;
        struct config_scalar value = {text, text ? strlen(text) : 0, true};

        if (text != NULL)
            rc = config_apply_scalar(ld, &config_keys[i], &value, "default");
    }
    return rc;
}

/* The line of the file that set the key called name, 0 if the file did not. */
static size_t key_line(const struct loader *ld, const char *name)
{
    const struct key_def *def = config_find_key(name, strlen(name));

    assert(def != NULL);
    return ld->seen[def - config_keys];
}

/* What only all sources together can tell. */
/* Whether url is plain http:// to a host other than this machine (the bearer token would
 * cross a network in clear). The host is what stands between "//" (after any user info) and
 * the port or path: localhost, 127.0.0.0/8 and [::1] are this machine. */
static bool insecure_remote(const char *url)
{
    const char *host = url + 7, *end, *at;
    size_t len;

    if (strncasecmp(url, "http://", 7) != 0)
        return false;
    end = host + strcspn(host, "/?#");
    at = memchr(host, '@', (size_t)(end - host));
    if (at)
        host = at + 1;
    len = *host == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/?#");
    if ((len == 9 && strncasecmp(host, "localhost", 9) == 0) ||
        (len == 5 && strncmp(host, "[::1]", 5) == 0))
        return false;
    return !(len >= 4 && strncmp(host, "127.", 4) == 0 && strspn(host, "0123456789.") >= len);
}

/* Credentials and projects, each missing one a problem of its own. */
static int validate_credentials(struct loader *ld)
{
    const struct config *cfg = ld->cfg;
    const char *source = ld->path ? " in the config file" : "";
    int before = ld->problem_count, rc = 0;
    bool key = cfg->api_key != NULL, secret = cfg->api_secret != NULL;

    /* without top-level credentials, every project must bring its own */
    for (size_t i = 0; i < cfg->project_count; i++) {
        key = key || config_project_api_key(cfg, i) != NULL;
        secret = secret || config_project_api_secret(cfg, i) != NULL;
    }
    for (size_t i = 0; i < cfg->project_count && key && secret; i++) {
        if (config_project_api_key(cfg, i) && config_project_api_secret(cfg, i))
            continue;
        lk_error_set(ld->err, LK_ECONFIG,
                     "project %s has no API %s: give it one in its \"projects\" entry, or set "
                     "the top-level one",
                     cfg->projects[i], config_project_api_key(cfg, i) ? "secret" : "key");
        if ((rc = config_note_problem(ld, LK_ECONFIG)) != 0)
            return rc;
    }
    if (!key) {
        lk_error_set(ld->err, LK_ECONFIG, "no API key: set LIVEKIT_API_KEY or \"api_key\"%s",
                     source);
        rc = config_note_problem(ld, LK_ECONFIG);
    }
    if (rc == 0 && !secret) {
        lk_error_set(ld->err, LK_ECONFIG,
                     "no API secret: set LIVEKIT_API_SECRET or \"api_secret_file\"%s", source);
        rc = config_note_problem(ld, LK_ECONFIG);
    }
    if (rc == 0 && cfg->project_count == 0) {
        lk_error_set(ld->err, LK_ECONFIG, "no project: set LIVEKIT_PROJECT_ID or \"projects\"%s",
                     source);
        rc = config_note_problem(ld, LK_ECONFIG);
    }
    if (rc == 0 && ld->problem_count > before && ld->path == NULL) {
        struct lk_error *last =
            &ld->problems[(ld->problem_count < CONFIG_PROBLEMS_KEPT ? ld->problem_count
                                                                    : CONFIG_PROBLEMS_KEPT) -
                          1];
        lk_error_detail(
            last,
            "no config file was given (--config, LKARCHIVE_CONFIG or " CONFIG_DEFAULT_PATH ")");
    }
    return rc;
}

static int validate(struct loader *ld, bool strict)
{
    const struct config *cfg = ld->cfg;
    size_t line = key_line(ld, "min_page_limit");
    int rc = 0;

    if (line != 0 && cfg->min_page_limit > cfg->page_limit) {
        lk_error_set(ld->err, LK_ECONFIG,
                     "%s:%zu: \"min_page_limit\" (%d) must not be larger than page_limit (%d)",
                     ld->path, line, cfg->min_page_limit, cfg->page_limit);
        rc = config_note_problem(ld, LK_ECONFIG);
    }
    if (rc == 0 && cfg->base_url && insecure_remote(cfg->base_url) && !cfg->allow_insecure_http) {
        lk_error_set(ld->err, LK_ECONFIG,
                     "the base URL is plain http:// to another host: the API token would cross "
                     "the network unencrypted");
        lk_error_detail(ld->err, "use https://, or set allow_insecure_http: true if this network "
                                 "is trusted (http:// to this machine is always allowed)");
        rc = config_note_problem(ld, LK_ECONFIG);
    }
    if (rc == 0) /* the API's CAs matter to the commands that make requests */
        rc = config_note_problem(ld, config_choose_ca_file(ld, key_line(ld, "ca_file"), strict));
    if (rc == 0 && strict)
        rc = validate_credentials(ld);
    return rc;
}

/* Belt and braces: an error built from a value the user mixed up (the secret pasted as a
 * project id, say) must still not carry the secret. */
static void redact(char *text, const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    char *hit;

    if (n < 4)
        return;
    while ((hit = strstr(text, secret)) != NULL) {
        memmove(hit + 3, hit + n, strlen(hit + n) + 1);
        memcpy(hit, "***", 3);
    }
}

int config_note_problem(struct loader *ld, int rc)
{
    if (rc != LK_ECONFIG)
        return rc;
    if (ld->problem_count < CONFIG_PROBLEMS_KEPT)
        ld->problems[ld->problem_count] = *ld->err;
    ld->problem_count++;
    lk_error_init(ld->err);
    return 0;
}

/* The problems noted, with the secret redacted: one is err itself; several are logged, each
 * with its detail, and err says how many. Returns LK_ECONFIG, or 0 when there is none. */
static int report_problems(struct loader *ld, const char *secret)
{
    int kept = ld->problem_count < CONFIG_PROBLEMS_KEPT ? ld->problem_count : CONFIG_PROBLEMS_KEPT;

    for (int i = 0; i < kept; i++) {
        redact(ld->problems[i].message, getenv("LIVEKIT_API_SECRET"));
        redact(ld->problems[i].detail, getenv("LIVEKIT_API_SECRET"));
        redact(ld->problems[i].message, secret);
        redact(ld->problems[i].detail, secret);
        for (size_t p = 0; ld->cfg->project_api_secrets && p < ld->cfg->project_count; p++) {
            redact(ld->problems[i].message, ld->cfg->project_api_secrets[p]);
            redact(ld->problems[i].detail, ld->cfg->project_api_secrets[p]);
        }
    }
    if (ld->problem_count == 0)
        return 0;
    if (ld->problem_count == 1) {
        *ld->err = ld->problems[0];
        return LK_ECONFIG;
    }
    for (int i = 0; i < kept; i++)
        log_lk_error(LOG_LEVEL_ERROR, &ld->problems[i]);
    lk_error_set(ld->err, LK_ECONFIG, "%d problems in the configuration%s%s", ld->problem_count,
                 ld->path ? " of " : "", ld->path ? ld->path : "");
    if (ld->problem_count > kept)
        lk_error_detail(ld->err, "the first %d are shown above", kept);
    else
        lk_error_detail(ld->err, "each is shown above");
    return LK_ECONFIG;
}

/* Every source in order: defaults, the file, the environment; then the cross-checks. */
static int load_sources(struct loader *ld, bool strict)
{
    struct config *cfg = ld->cfg;
    bool file_unread = false; /* not read or not YAML: what it lacks says nothing more */
    int rc;

    if ((rc = apply_defaults(ld)) != 0)
        return rc;
    if (ld->path != NULL) {
        rc = config_set_string(&cfg->source_path, ld->path, strlen(ld->path), false, ld->err);
        if (rc == 0) {
            rc = config_load_file(ld); /* a bad key is noted there; LK_ECONFIG: no file */
            file_unread = rc == LK_ECONFIG;
            rc = config_note_problem(ld, rc);
        }
        if (rc != 0)
            return rc;
    }
    if ((rc = apply_environment(ld)) != 0)
        return rc;
    /* a page_limit below the default floor lowers the floor with it */
    if (key_line(ld, "min_page_limit") == 0 && cfg->min_page_limit > cfg->page_limit)
        cfg->min_page_limit = cfg->page_limit;
    return validate(ld, strict && !file_unread);
}

static int load(struct config **out, const char *path, bool strict, struct lk_error *err)
{
    struct loader ld;
    int rc;

    assert(out != NULL);
    *out = NULL;
    memset(&ld, 0, sizeof ld);
    ld.path = path;
    ld.err = err;
    ld.cfg = calloc(1, sizeof *ld.cfg);
    if (ld.cfg == NULL) {
        rc = config_out_of_memory(err);
        goto done;
    }
    rc = load_sources(&ld, strict);
    if (rc == 0)
        rc = report_problems(&ld, ld.cfg->api_secret);
    if (rc != 0)
        goto done;
    *out = ld.cfg;
    ld.cfg = NULL;
done:
    if (rc != 0 && err != NULL) {
        redact(err->message, getenv("LIVEKIT_API_SECRET"));
        redact(err->detail, getenv("LIVEKIT_API_SECRET"));
        if (ld.cfg != NULL) {
            redact(err->message, ld.cfg->api_secret);
            redact(err->detail, ld.cfg->api_secret);
        }
    }
    config_free(ld.cfg);
    return rc;
}

int config_load(struct config **out, const char *path, struct lk_error *err)
{
    return load(out, path, true, err);
}

int config_load_relaxed(struct config **out, const char *path, struct lk_error *err)
{
    return load(out, path, false, err);
}

const char *config_project_api_key(const struct config *cfg, size_t i)
{
    assert(i < cfg->project_count);
    if (cfg->project_api_keys && cfg->project_api_keys[i])
        return cfg->project_api_keys[i];
    return cfg->api_key;
}

int config_project_max_rpm(const struct config *cfg, size_t i)
{
    int rpm = cfg->max_requests_per_minute;

    assert(i < cfg->project_count);
    if (cfg->project_max_rpm && cfg->project_max_rpm[i] > 0)
        rpm = cfg->project_max_rpm[i];
    /* requests_per_second, the older cap, still applies */
    if (cfg->requests_per_second > 0 && (rpm == 0 || cfg->requests_per_second * 60 < rpm))
        rpm = cfg->requests_per_second * 60;
    return rpm;
}

const char *config_project_api_secret(const struct config *cfg, size_t i)
{
    assert(i < cfg->project_count);
    if (cfg->project_api_secrets && cfg->project_api_secrets[i])
        return cfg->project_api_secrets[i];
    return cfg->api_secret;
}

void config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    config_clear_projects(cfg);
    free(cfg->api_key);
    secret_free(cfg->api_secret);
    free(cfg->base_url);
    free(cfg->database_url);
    free(cfg->ca_file);
    free(cfg->pseudonymize_key_file);
    free(cfg->log_level);
    free(cfg->metrics_file);
    free(cfg->report_file);
    free(cfg->retention);
    free(cfg->source_path);
    secret_wipe(cfg, sizeof *cfg);
    free(cfg);
}

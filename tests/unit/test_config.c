/* test_config.c -- unit tests for config.c: the YAML file, the environment over it, and errors.
 *
 * Each test starts with every contract variable unset and a fresh temporary directory; the
 * YAML under test is written there as config.yaml (secret files beside it), so line numbers in
 * the expected messages are the lines of the literal in the test. Fixtures under
 * tests/fixtures/config/ cover a file with every key and a secret file found beside its
 * config; the shipped example must load too. Errors are checked word for word where the
 * wording is part of the contract (file:line: what), by substring elsewhere, and the secret
 * must never appear in any message, detail or log line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "log.h"

#define SECRET "S3cr3t-V4lue-never-shown"

static const char *const contract_env[] = {
    "LIVEKIT_API_KEY",   "LIVEKIT_API_SECRET",  "LIVEKIT_PROJECT_ID", "LIVEKIT_ANALYTICS_URL",
    "DATABASE_URL",      "LKARCHIVE_LOG_LEVEL", "LKARCHIVE_CONFIG",   "LKARCHIVE_API_SECRET_FILE",
    "LKARCHIVE_CA_FILE", "CURL_CA_BUNDLE",      "SSL_CERT_FILE",
};

struct fixture {
    char dir[64];   /* mkdtemp directory, removed with its files by teardown */
    char path[128]; /* dir/config.yaml */
    struct config *cfg;
    struct lk_error err;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);

    if (fx == NULL)
        return -1;
    for (size_t i = 0; i < sizeof contract_env / sizeof contract_env[0]; i++)
        unsetenv(contract_env[i]);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/lkarchive-test-config-XXXXXX");
    if (mkdtemp(fx->dir) == NULL) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof fx->path, "%s/config.yaml", fx->dir);
    lk_error_init(&fx->err);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    DIR *dir = opendir(fx->dir);
    struct dirent *entry;
    char path[400];

    config_free(fx->cfg);
    while (dir != NULL && (entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", fx->dir, entry->d_name);
        unlink(path);
    }
    if (dir != NULL)
        closedir(dir);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* Write `content` to dir/name, private to the user (mode 0600) as a secret or a config file
 * holding one must be. */
static void write_file(struct fixture *fx, const char *name, const char *content, size_t len)
{
    char path[256];
    FILE *fp;

    snprintf(path, sizeof path, "%s/%s", fx->dir, name);
    fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(content, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(chmod(path, 0600), 0);
}

/* Copy tests/fixtures/config/full.yaml and the secret file beside it into the fixture's
 * directory, private (a checkout makes them 0644); returns the copy's path. */
static const char *private_full_fixture(struct fixture *fx)
{
    static const char *const names[] = {"full.yaml", "secret.txt"};
    static char path[256];

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char from[256], content[4096];
        FILE *fp;
        size_t len;

        snprintf(from, sizeof from, "%s/config/%s", LK_FIXTURES_DIR, names[i]);
        fp = fopen(from, "rb");
        assert_non_null(fp);
        len = fread(content, 1, sizeof content, fp);
        fclose(fp);
        write_file(fx, names[i], content, len);
    }
    snprintf(path, sizeof path, "%s/full.yaml", fx->dir);
    return path;
}

/* Write yaml as config.yaml and load it (strict: config_load, else config_load_relaxed). */
static int load_yaml(struct fixture *fx, const char *yaml, bool strict)
{
    write_file(fx, "config.yaml", yaml, strlen(yaml));
    config_free(fx->cfg);
    fx->cfg = NULL;
    lk_error_init(&fx->err);
    return strict ? config_load(&fx->cfg, fx->path, &fx->err)
                  : config_load_relaxed(&fx->cfg, fx->path, &fx->err);
}

#define assert_contains(hay, needle) assert_contains_at((hay), (needle), true, __FILE__, __LINE__)
#define assert_lacks(hay, needle) assert_contains_at((hay), (needle), false, __FILE__, __LINE__)
static void assert_contains_at(const char *hay, const char *needle, bool want, const char *file,
                               int line)
{
    if ((strstr(hay, needle) != NULL) != want) {
        print_error("\"%s\" %s \"%s\"\n", hay, want ? "does not contain" : "contains", needle);
        _fail(file, line);
    }
}

/* The load failed with LK_ECONFIG, *out stayed NULL, and the message is exactly
 * "<config path>:<suffix>" (suffix starting with the line number). */
#define assert_file_error(fx, rc, suffix)                                                          \
    assert_file_error_at((fx), (rc), (suffix), __FILE__, __LINE__)
static void assert_file_error_at(const struct fixture *fx, int rc, const char *suffix,
                                 const char *file, int line)
{
    char want[700];

    snprintf(want, sizeof want, "%s:%s", fx->path, suffix);
    if (rc != LK_ECONFIG || fx->err.code != LK_ECONFIG || fx->cfg != NULL ||
        strcmp(fx->err.message, want) != 0) {
        print_error("rc %d, code %d, cfg %p, message \"%s\" (detail \"%s\"); expected "
                    "LK_ECONFIG and \"%s\"\n",
                    rc, fx->err.code, (void *)fx->cfg, fx->err.message, fx->err.detail, want);
        _fail(file, line);
    }
}

#define assert_loaded(fx, rc) assert_loaded_at((fx), (rc), __FILE__, __LINE__)
static void assert_loaded_at(const struct fixture *fx, int rc, const char *file, int line)
{
    if (rc != 0 || fx->cfg == NULL) {
        print_error("load failed: rc %d, message \"%s\", detail \"%s\"\n", rc, fx->err.message,
                    fx->err.detail);
        _fail(file, line);
    }
}

/* Redirect stderr (where log_* write) into a file while a load runs. */
struct capture {
    int saved_fd;
    char path[256];
};

static void capture_begin(struct fixture *fx, struct capture *cap)
{
    int fd;

    snprintf(cap->path, sizeof cap->path, "%s/stderr.txt", fx->dir);
    fflush(stderr);
    cap->saved_fd = dup(STDERR_FILENO);
    assert_true(cap->saved_fd >= 0);
    fd = open(cap->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    close(fd);
}

/* Restore stderr; returns what was written (caller frees). */
static char *capture_end(struct capture *cap)
{
    char *text = calloc(1, 8192);
    FILE *fp;

    fflush(stderr);
    dup2(cap->saved_fd, STDERR_FILENO);
    close(cap->saved_fd);
    assert_non_null(text);
    fp = fopen(cap->path, "rb");
    assert_non_null(fp);
    assert_true(fread(text, 1, 8191, fp) < 8191);
    fclose(fp);
    return text;
}

/* ---- defaults, environment ---- */

static void config_defaults_without_file_or_env(void **state)
{
    struct fixture *fx = *state;
    struct config *cfg;

    assert_int_equal(config_load_relaxed(&fx->cfg, NULL, &fx->err), 0);
    cfg = fx->cfg;
    assert_non_null(cfg);
    assert_int_equal(cfg->project_count, 0);
    assert_null(cfg->api_key);
    assert_null(cfg->api_secret);
    assert_string_equal(cfg->base_url, "https://cloud-api.livekit.io");
    assert_null(cfg->database_url);
    assert_int_equal(cfg->window_days, 7);
    assert_int_equal(cfg->page_limit, 100);
    assert_int_equal(cfg->connect_timeout_s, 10);
    assert_int_equal(cfg->request_timeout_s, 120);
    assert_int_equal(cfg->token_ttl_s, 600);
    assert_int_equal(cfg->max_string_bytes, 1024 * 1024);
    assert_int_equal(cfg->max_depth, 64);
    assert_int_equal(cfg->max_body_bytes, 256 * 1024 * 1024);
    assert_int_equal(cfg->max_record_bytes, 4 * 1024 * 1024);
    assert_int_equal(cfg->max_attempts, 5);
    assert_int_equal(cfg->retry_base_ms, 500);
    assert_int_equal(cfg->run_budget_s, 10800);
    assert_int_equal(cfg->min_page_limit, 10);
    assert_int_equal(cfg->max_concurrency, 8);
    assert_int_equal(cfg->requests_per_second, 0);
    assert_int_equal(cfg->lock_wait_s, 0);
    assert_int_equal(cfg->db_reconnect_attempts, 5);
    assert_false(cfg->acknowledge_gaps);
    assert_true(cfg->citus_distribute);
    assert_string_equal(cfg->log_level, "info");
    assert_null(cfg->source_path);
}

static void config_needs_no_file_with_env(void **state)
{
    struct fixture *fx = *state;

    setenv("LIVEKIT_API_KEY", "APIkey123", 1);
    setenv("LIVEKIT_API_SECRET", SECRET, 1);
    setenv("LIVEKIT_PROJECT_ID", "p_abc", 1);
    setenv("LIVEKIT_ANALYTICS_URL", "http://127.0.0.1:8080/", 1);
    setenv("DATABASE_URL", "postgresql:///lk?host=/tmp", 1);
    assert_loaded(fx, config_load(&fx->cfg, NULL, &fx->err));
    assert_string_equal(fx->cfg->api_key, "APIkey123");
    assert_string_equal(fx->cfg->api_secret, SECRET);
    assert_int_equal(fx->cfg->project_count, 1);
    assert_string_equal(fx->cfg->projects[0], "p_abc");
    assert_string_equal(fx->cfg->base_url, "http://127.0.0.1:8080");
    assert_string_equal(fx->cfg->database_url, "postgresql:///lk?host=/tmp");
    assert_null(fx->cfg->source_path);
}

static void config_env_overrides_file(void **state)
{
    struct fixture *fx = *state;

    setenv("LIVEKIT_API_KEY", "env_key", 1);
    setenv("LIVEKIT_API_SECRET", "env_secret", 1);
    setenv("LIVEKIT_PROJECT_ID", "p_env", 1);
    setenv("LIVEKIT_ANALYTICS_URL", "https://env.example.com//", 1);
    setenv("DATABASE_URL", "dbname=env", 1);
    setenv("LKARCHIVE_LOG_LEVEL", "debug", 1);
    assert_loaded(fx, load_yaml(fx,
                                "projects: [p_file1, p_file2]\n"
                                "api_key: file_key\n"
                                "api_secret: file_secret\n"
                                "base_url: https://file.example.com\n"
                                "database_url: dbname=file\n"
                                "log_level: warn\n"
                                "page_limit: 50\n",
                                true));
    assert_string_equal(fx->cfg->api_key, "env_key");
    assert_string_equal(fx->cfg->api_secret, "env_secret");
    /* the variable replaces the file's list, it does not add to it */
    assert_int_equal(fx->cfg->project_count, 1);
    assert_string_equal(fx->cfg->projects[0], "p_env");
    assert_string_equal(fx->cfg->base_url, "https://env.example.com");
    assert_string_equal(fx->cfg->database_url, "dbname=env");
    assert_string_equal(fx->cfg->log_level, "debug");
    /* what the environment does not name still comes from the file */
    assert_int_equal(fx->cfg->page_limit, 50);
    assert_string_equal(fx->cfg->source_path, fx->path);
}

static void config_empty_env_counts_as_unset(void **state)
{
    struct fixture *fx = *state;

    for (size_t i = 0; i < sizeof contract_env / sizeof contract_env[0]; i++)
        setenv(contract_env[i], "", 1);
    write_file(fx, "secret.txt", "file_secret\n", 12);
    assert_loaded(fx, load_yaml(fx,
                                "projects: p_file\n"
                                "api_key: file_key\n"
                                "api_secret_file: secret.txt\n"
                                "base_url: https://file.example.com\n"
                                "database_url: dbname=file\n"
                                "log_level: error\n",
                                true));
    assert_string_equal(fx->cfg->projects[0], "p_file");
    assert_string_equal(fx->cfg->api_key, "file_key");
    assert_string_equal(fx->cfg->api_secret, "file_secret");
    assert_string_equal(fx->cfg->base_url, "https://file.example.com");
    assert_string_equal(fx->cfg->database_url, "dbname=file");
    assert_string_equal(fx->cfg->log_level, "error");
}

static void config_env_accepts_comma_separated_projects(void **state)
{
    struct fixture *fx = *state;

    setenv("LIVEKIT_PROJECT_ID", "p_one, p_two ,p-three", 1);
    assert_loaded(fx, config_load_relaxed(&fx->cfg, NULL, &fx->err));
    assert_int_equal(fx->cfg->project_count, 3);
    assert_string_equal(fx->cfg->projects[0], "p_one");
    assert_string_equal(fx->cfg->projects[1], "p_two");
    assert_string_equal(fx->cfg->projects[2], "p-three");
}

static void config_env_rejects_bad_project_ids(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *value, *message;
    } cases[] = {
        {"p_a/../b", "environment: project id \"p_a/../b\" may contain only letters, digits, "
                     "\"_\" and \"-\""},
        {"p a", "environment: project id \"p a\" may contain only letters, digits, \"_\" and "
                "\"-\""},
        {"p_a,,p_b", "environment: LIVEKIT_PROJECT_ID holds an empty project id"},
        {"p_a,", "environment: LIVEKIT_PROJECT_ID holds an empty project id"},
        {" , ", "environment: LIVEKIT_PROJECT_ID holds an empty project id"},
        {"p_a,p_a", "environment: project \"p_a\" is listed twice in LIVEKIT_PROJECT_ID"},
        {"p_\xc3\xa9", "environment: project id \"p_\xc3\xa9\" may contain only letters, "
                       "digits, \"_\" and \"-\""},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setenv("LIVEKIT_PROJECT_ID", cases[i].value, 1);
        lk_error_init(&fx->err);
        assert_int_equal(config_load_relaxed(&fx->cfg, NULL, &fx->err), LK_ECONFIG);
        assert_null(fx->cfg);
        assert_int_equal(fx->err.code, LK_ECONFIG);
        assert_string_equal(fx->err.message, cases[i].message);
    }
}

static void config_env_rejects_bad_url_and_log_level(void **state)
{
    struct fixture *fx = *state;

    setenv("LIVEKIT_ANALYTICS_URL", "cloud-api.livekit.io", 1);
    assert_int_equal(config_load_relaxed(&fx->cfg, NULL, &fx->err), LK_ECONFIG);
    assert_string_equal(fx->err.message,
                        "environment: LIVEKIT_ANALYTICS_URL must be an http:// or https:// URL");
    assert_contains(fx->err.detail, "cloud-api.livekit.io");
    unsetenv("LIVEKIT_ANALYTICS_URL");

    setenv("LKARCHIVE_LOG_LEVEL", "verbose", 1);
    assert_int_equal(config_load_relaxed(&fx->cfg, NULL, &fx->err), LK_ECONFIG);
    assert_string_equal(fx->err.message,
                        "environment: LKARCHIVE_LOG_LEVEL must be one of error, warn, info, debug");
    assert_contains(fx->err.detail, "\"verbose\"");
}

static void config_requires_credentials_and_project(void **state)
{
    struct fixture *fx = *state;

    /* every problem at once: each is logged, the error counts them */
    assert_int_equal(config_load(&fx->cfg, NULL, &fx->err), LK_ECONFIG);
    assert_null(fx->cfg);
    assert_string_equal(fx->err.message, "3 problems in the configuration");

    setenv("LIVEKIT_API_KEY", "k", 1);
    assert_int_equal(config_load(&fx->cfg, NULL, &fx->err), LK_ECONFIG);
    assert_string_equal(fx->err.message, "2 problems in the configuration");

    setenv("LIVEKIT_PROJECT_ID", "p_x", 1);
    assert_int_equal(config_load(&fx->cfg, NULL, &fx->err), LK_ECONFIG);
    assert_string_equal(fx->err.message,
                        "no API secret: set LIVEKIT_API_SECRET or \"api_secret_file\"");
    assert_contains(fx->err.detail, "--config");
    unsetenv("LIVEKIT_PROJECT_ID");

    setenv("LIVEKIT_API_SECRET", SECRET, 1);
    assert_int_equal(config_load(&fx->cfg, NULL, &fx->err), LK_ECONFIG);
    assert_string_equal(fx->err.message, "no project: set LIVEKIT_PROJECT_ID or \"projects\"");
    assert_lacks(fx->err.message, SECRET);
    assert_lacks(fx->err.detail, SECRET);

    /* with a file, the message points into it */
    assert_int_equal(load_yaml(fx, "page_limit: 10\n", true), LK_ECONFIG);
    assert_string_equal(fx->err.message,
                        "no project: set LIVEKIT_PROJECT_ID or \"projects\" in the config file");
}

static void config_relaxed_needs_no_credentials(void **state)
{
    struct fixture *fx = *state;

    assert_loaded(fx, load_yaml(fx, "database_url: dbname=archive\n", false));
    assert_string_equal(fx->cfg->database_url, "dbname=archive");
    assert_null(fx->cfg->api_key);
    assert_null(fx->cfg->api_secret);
    assert_int_equal(fx->cfg->project_count, 0);
}

/* ---- the file's keys ---- */

static void config_reads_every_key(void **state)
{
    struct fixture *fx = *state;
    const char *path = private_full_fixture(fx);
    struct config *cfg;

    assert_loaded(fx, config_load(&fx->cfg, path, &fx->err));
    cfg = fx->cfg;
    assert_int_equal(cfg->project_count, 2);
    assert_string_equal(cfg->projects[0], "p_first");
    assert_string_equal(cfg->projects[1], "p_second-2");
    assert_string_equal(cfg->api_key, "APIfullKey");
    assert_string_equal(cfg->api_secret, "fixture-secret-value");
    assert_string_equal(cfg->base_url, "https://analytics.example.com/prefix");
    assert_string_equal(cfg->database_url, "host=/var/run/postgresql dbname=livekit");
    assert_int_equal(cfg->window_days, 3);
    assert_int_equal(cfg->page_limit, 250);
    assert_int_equal(cfg->min_page_limit, 25);
    assert_int_equal(cfg->connect_timeout_s, 15);
    assert_int_equal(cfg->request_timeout_s, 300);
    assert_int_equal(cfg->token_ttl_s, 900);
    assert_int_equal(cfg->max_string_bytes, 2097152);
    assert_int_equal(cfg->max_depth, 32);
    assert_int_equal(cfg->max_attempts, 7);
    assert_int_equal(cfg->retry_base_ms, 250);
    assert_int_equal(cfg->run_budget_s, 3600);
    assert_int_equal(cfg->max_concurrency, 4);
    assert_int_equal(cfg->requests_per_second, 20);
    assert_int_equal(cfg->lock_wait_s, 60);
    assert_int_equal(cfg->db_reconnect_attempts, 9);
    assert_true(cfg->acknowledge_gaps);
    assert_string_equal(cfg->log_level, "debug");
    assert_string_equal(cfg->source_path, path);
}

static void config_parses_the_example_file(void **state)
{
    struct fixture *fx = *state;
    const char *path = LK_FIXTURES_DIR "/../../config/lkarchive.example.yaml";

    assert_loaded(fx, config_load_relaxed(&fx->cfg, path, &fx->err));
    /* the example spells out the defaults */
    assert_int_equal(fx->cfg->window_days, 7);
    assert_int_equal(fx->cfg->page_limit, 100);
    assert_int_equal(fx->cfg->token_ttl_s, 600);
    assert_string_equal(fx->cfg->base_url, "https://cloud-api.livekit.io");
    assert_null(fx->cfg->api_secret);

    /* and with the credentials from the environment it is a complete configuration */
    setenv("LIVEKIT_API_KEY", "k", 1);
    setenv("LIVEKIT_API_SECRET", SECRET, 1);
    setenv("LIVEKIT_PROJECT_ID", "p_x", 1);
    config_free(fx->cfg);
    fx->cfg = NULL;
    assert_loaded(fx, config_load(&fx->cfg, path, &fx->err));
}

static void config_accepts_project_list_and_single(void **state)
{
    struct fixture *fx = *state;

    assert_loaded(fx, load_yaml(fx, "projects: p_single\n", false));
    assert_int_equal(fx->cfg->project_count, 1);
    assert_string_equal(fx->cfg->projects[0], "p_single");

    assert_loaded(fx, load_yaml(fx, "projects:\n  - p_a\n  - \"p_b\"\n  - P-C_9\n", false));
    assert_int_equal(fx->cfg->project_count, 3);
    assert_string_equal(fx->cfg->projects[0], "p_a");
    assert_string_equal(fx->cfg->projects[1], "p_b");
    assert_string_equal(fx->cfg->projects[2], "P-C_9");

    assert_loaded(fx, load_yaml(fx, "projects: [p_x, p_y]\n", false));
    assert_int_equal(fx->cfg->project_count, 2);
    assert_string_equal(fx->cfg->projects[1], "p_y");
}

static void config_rejects_bad_project_id_with_line(void **state)
{
    struct fixture *fx = *state;
    int rc;

    rc = load_yaml(fx, "window_days: 2\nprojects:\n  - p_ok\n  - p_bad/../x\n", false);
    assert_file_error(fx, rc,
                      "4: project id \"p_bad/../x\" may contain only letters, digits, "
                      "\"_\" and \"-\"");

    rc = load_yaml(fx, "projects: p_a,p_b\n", false);
    assert_file_error(fx, rc,
                      "1: project id \"p_a,p_b\" may contain only letters, digits, "
                      "\"_\" and \"-\"");
    assert_contains(fx->err.detail, "sequence");

    rc = load_yaml(fx, "projects:\n  - p_a\n  - \"\"\n", false);
    assert_file_error(fx, rc, "3: \"projects\" holds an empty project id");

    rc = load_yaml(fx, "projects:\n  - p_a\n  -\n", false);
    assert_file_error(fx, rc,
                      "3: every item of \"projects\" must be a project id or a mapping {id, "
                      "api_key, api_secret_file}");
    assert_string_equal(fx->err.detail, "found an empty item");

    rc = load_yaml(fx, "projects:\n  - [p_a]\n", false);
    assert_file_error(fx, rc,
                      "2: every item of \"projects\" must be a project id or a mapping {id, "
                      "api_key, api_secret_file}");
    assert_string_equal(fx->err.detail, "found a list");

    /* control characters are not copied into the message */
    rc = load_yaml(fx, "projects: \"p_\\e[31m\"\n", false);
    assert_file_error(fx, rc,
                      "1: project id \"p_?[31m\" may contain only letters, digits, "
                      "\"_\" and \"-\"");
}

static void config_rejects_duplicate_or_empty_project_list(void **state)
{
    struct fixture *fx = *state;
    int rc;

    rc = load_yaml(fx, "projects:\n  - p_a\n  - p_b\n  - p_a\n", false);
    assert_file_error(fx, rc, "4: project \"p_a\" is listed twice in \"projects\"");

    rc = load_yaml(fx, "projects: []\n", false);
    assert_file_error(fx, rc, "1: \"projects\" is an empty list");

    rc = load_yaml(fx, "projects:\n  p_a: yes\n", false);
    assert_file_error(fx, rc, "1: \"projects\" must be a project id or a list of project ids");
    assert_string_equal(fx->err.detail, "found a mapping");
}

static void config_rejects_unknown_key_with_line(void **state)
{
    struct fixture *fx = *state;
    int rc;

    rc = load_yaml(fx,
                   "# lkarchive\n"
                   "\n"
                   "api_key: k\n"
                   "window_days: 3\n"
                   "page_limit: 10\n"
                   "\n"
                   "projcts:\n"
                   "  - p_a\n",
                   false);
    assert_file_error(fx, rc, "7: unknown key \"projcts\"");
    assert_string_equal(fx->err.detail, "did you mean \"projects\"?");

    rc = load_yaml(fx, "max_dept: 10\n", false);
    assert_file_error(fx, rc, "1: unknown key \"max_dept\"");
    assert_string_equal(fx->err.detail, "did you mean \"max_depth\"?");

    /* a prefix of several keys lists them all */
    rc = load_yaml(fx, "api_k: x\n", false);
    assert_file_error(fx, rc, "1: unknown key \"api_k\"");
    assert_contains(fx->err.detail, "\"api_key\"");

    /* nothing near: every key is listed */
    rc = load_yaml(fx, "window_days: 1\ncolour: blue\n", false);
    assert_file_error(fx, rc, "2: unknown key \"colour\"");
    assert_contains(fx->err.detail, "known keys: projects, api_key, ");
    assert_contains(fx->err.detail, "log_level");

    /* keys are case-sensitive */
    rc = load_yaml(fx, "Page_Limit: 10\n", false);
    assert_file_error(fx, rc, "1: unknown key \"Page_Limit\"");

    rc = load_yaml(fx, "[a, b]: 1\n", false);
    assert_file_error(fx, rc, "1: found a list where a key was expected");
}

static void config_rejects_duplicate_key(void **state)
{
    struct fixture *fx = *state;
    int rc;

    rc = load_yaml(fx,
                   "page_limit: 10\n"
                   "window_days: 2\n"
                   "page_limit: 10\n",
                   false);
    assert_file_error(fx, rc, "3: duplicate key \"page_limit\"");
    assert_string_equal(fx->err.detail, "first set at line 1; keep one");
}

static void config_rejects_out_of_range_page_limit(void **state)
{
    struct fixture *fx = *state;
    int rc;

    rc = load_yaml(fx, "window_days: 2\npage_limit: 0\n", false);
    assert_file_error(fx, rc, "2: \"page_limit\" must be an integer between 1 and 100000");
    assert_string_equal(fx->err.detail, "found \"0\"");

    rc = load_yaml(fx, "page_limit: 100001\n", false);
    assert_file_error(fx, rc, "1: \"page_limit\" must be an integer between 1 and 100000");

    rc = load_yaml(fx, "page_limit: 99999999999999999999999999\n", false);
    assert_file_error(fx, rc, "1: \"page_limit\" must be an integer between 1 and 100000");

    assert_loaded(fx, load_yaml(fx, "page_limit: 100000\n", false));
    assert_int_equal(fx->cfg->page_limit, 100000);
}

static void config_rejects_malformed_integers(void **state)
{
    struct fixture *fx = *state;
    static const char *const bad[] = {
        "12abc", "1.5",   "1e3",     "0x10",  "+5",    "010",    "-x",   "--5",
        "5 5",   "1_000", "\"100\"", "'100'", "[100]", "{a: 1}", "true", "!!int 100x",
    };
    char yaml[64];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(yaml, sizeof yaml, "page_limit: %s\n", bad[i]);
        assert_file_error(fx, load_yaml(fx, yaml, false),
                          "1: \"page_limit\" must be an integer between 1 and 100000");
    }
    assert_int_equal(load_yaml(fx, "page_limit: \"100\"\n", false), LK_ECONFIG);
    assert_contains(fx->err.detail, "without quotes");
    assert_int_equal(load_yaml(fx, "page_limit: [1]\n", false), LK_ECONFIG);
    assert_string_equal(fx->err.detail, "found a list");
}

struct int_key {
    const char *name;
    long long min, max;
};

static const struct int_key int_keys[] = {
    {"window_days", 1, 7},
    {"page_limit", 1, 100000},
    {"connect_timeout", 1, 600},
    {"request_timeout", 1, 3600},
    {"token_ttl", 60, 86400},
    {"max_string_bytes", 1024, 268435456},
    {"max_depth", 8, 1024},
    {"max_attempts", 1, 20},
    {"max_body_bytes", 65536, 4294967296LL},
    {"max_record_bytes", 65536, 1073741824},
    {"retry_base_ms", 10, 60000},
    {"run_budget", 1, 86400},
    {"max_concurrency", 1, 64},
    {"requests_per_second", 0, 1000},
    {"lock_wait", 0, 3600},
    {"db_reconnect_attempts", 1, 20},
};

static long long int_field(const struct config *cfg, const char *name)
{
    if (strcmp(name, "window_days") == 0)
        return cfg->window_days;
    if (strcmp(name, "page_limit") == 0)
        return cfg->page_limit;
    if (strcmp(name, "connect_timeout") == 0)
        return cfg->connect_timeout_s;
    if (strcmp(name, "request_timeout") == 0)
        return cfg->request_timeout_s;
    if (strcmp(name, "token_ttl") == 0)
        return cfg->token_ttl_s;
    if (strcmp(name, "max_string_bytes") == 0)
        return (long long)cfg->max_string_bytes;
    if (strcmp(name, "max_depth") == 0)
        return cfg->max_depth;
    if (strcmp(name, "max_body_bytes") == 0)
        return (long long)cfg->max_body_bytes;
    if (strcmp(name, "max_record_bytes") == 0)
        return (long long)cfg->max_record_bytes;
    if (strcmp(name, "max_attempts") == 0)
        return cfg->max_attempts;
    if (strcmp(name, "retry_base_ms") == 0)
        return cfg->retry_base_ms;
    if (strcmp(name, "run_budget") == 0)
        return cfg->run_budget_s;
    if (strcmp(name, "max_concurrency") == 0)
        return cfg->max_concurrency;
    if (strcmp(name, "requests_per_second") == 0)
        return cfg->requests_per_second;
    if (strcmp(name, "lock_wait") == 0)
        return cfg->lock_wait_s;
    if (strcmp(name, "db_reconnect_attempts") == 0)
        return cfg->db_reconnect_attempts;
    fail_msg("no field for %s", name);
    return -1;
}

static void config_enforces_every_integer_range(void **state)
{
    struct fixture *fx = *state;
    char yaml[128], want[128];

    for (size_t i = 0; i < sizeof int_keys / sizeof int_keys[0]; i++) {
        const struct int_key *k = &int_keys[i];
        const long long edges[2] = {k->min, k->max};

        snprintf(want, sizeof want, "2: \"%s\" must be an integer between %lld and %lld", k->name,
                 k->min, k->max);
        snprintf(yaml, sizeof yaml, "log_level: info\n%s: %lld\n", k->name, k->min - 1);
        assert_file_error(fx, load_yaml(fx, yaml, false), want);
        snprintf(yaml, sizeof yaml, "log_level: info\n%s: %lld\n", k->name, k->max + 1);
        assert_file_error(fx, load_yaml(fx, yaml, false), want);
        for (size_t e = 0; e < 2; e++) {
            snprintf(yaml, sizeof yaml, "%s: %lld\n", k->name, edges[e]);
            assert_loaded(fx, load_yaml(fx, yaml, false));
            if (int_field(fx->cfg, k->name) != edges[e])
                fail_msg("%s: %lld read as %lld", k->name, edges[e], int_field(fx->cfg, k->name));
        }
    }
}

static void config_min_page_limit_follows_page_limit(void **state)
{
    struct fixture *fx = *state;
    int rc;

    /* the default floor (10) comes down with a smaller page */
    assert_loaded(fx, load_yaml(fx, "page_limit: 5\n", false));
    assert_int_equal(fx->cfg->min_page_limit, 5);

    assert_loaded(fx, load_yaml(fx, "page_limit: 500\nmin_page_limit: 500\n", false));
    assert_int_equal(fx->cfg->min_page_limit, 500);

    rc = load_yaml(fx, "min_page_limit: 50\npage_limit: 20\n", false);
    assert_file_error(fx, rc, "1: \"min_page_limit\" (50) must not be larger than page_limit (20)");

    rc = load_yaml(fx, "min_page_limit: 0\n", false);
    assert_file_error(fx, rc, "1: \"min_page_limit\" must be an integer between 1 and 100000");
}

static void config_accepts_boolean_forms(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *text;
        bool value;
    } good[] = {
        {"true", true}, {"false", false}, {"yes", true}, {"no", false},
        {"True", true}, {"FALSE", false}, {"Yes", true}, {"NO", false},
    };
    static const char *const bad[] = {"maybe", "1", "0", "on", "\"true\"", "[true]", "y"};
    char yaml[64];

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(yaml, sizeof yaml, "acknowledge_gaps: %s\n", good[i].text);
        assert_loaded(fx, load_yaml(fx, yaml, false));
        assert_int_equal(fx->cfg->acknowledge_gaps, good[i].value);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(yaml, sizeof yaml, "acknowledge_gaps: %s\n", bad[i]);
        assert_file_error(fx, load_yaml(fx, yaml, false),
                          "1: \"acknowledge_gaps\" must be true or false");
    }
}

static void config_checks_log_level(void **state)
{
    struct fixture *fx = *state;
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    char yaml[64];

    for (size_t i = 0; i < 4; i++) {
        snprintf(yaml, sizeof yaml, "log_level: %s\n", levels[i]);
        assert_loaded(fx, load_yaml(fx, yaml, false));
        assert_string_equal(fx->cfg->log_level, levels[i]);
    }
    assert_file_error(fx, load_yaml(fx, "log_level: warning\n", false),
                      "1: \"log_level\" must be one of error, warn, info, debug");
    assert_string_equal(fx->err.detail, "found \"warning\"");
    assert_file_error(fx, load_yaml(fx, "log_level: [info]\n", false),
                      "1: \"log_level\" must be one of error, warn, info, debug");
}

static void config_normalises_and_checks_base_url(void **state)
{
    struct fixture *fx = *state;

    assert_loaded(fx, load_yaml(fx, "base_url: https://cloud-api.livekit.io/\n", false));
    assert_string_equal(fx->cfg->base_url, "https://cloud-api.livekit.io");
    assert_loaded(fx, load_yaml(fx, "base_url: http://127.0.0.1:7880///\n", false));
    assert_string_equal(fx->cfg->base_url, "http://127.0.0.1:7880");

    assert_file_error(fx, load_yaml(fx, "base_url: cloud-api.livekit.io\n", false),
                      "1: \"base_url\" must be an http:// or https:// URL");
    assert_file_error(fx, load_yaml(fx, "base_url: https:///\n", false),
                      "1: \"base_url\" must be an http:// or https:// URL");
    assert_file_error(fx, load_yaml(fx, "base_url: ftp://x\n", false),
                      "1: \"base_url\" must be an http:// or https:// URL");
    assert_file_error(fx, load_yaml(fx, "base_url: \"https://a b\"\n", false),
                      "1: \"base_url\" must be an http:// or https:// URL");
    assert_file_error(fx, load_yaml(fx, "base_url: 8080\n", false),
                      "1: \"base_url\" must be an http:// or https:// URL");
}

static void config_rejects_missing_or_empty_value(void **state)
{
    struct fixture *fx = *state;
    int rc;

    rc = load_yaml(fx, "window_days: 2\ndatabase_url:\nlog_level: info\n", false);
    assert_file_error(fx, rc, "2: \"database_url\" has no value");
    assert_contains(fx->err.detail, "remove the line");

    rc = load_yaml(fx, "page_limit: ~\n", false);
    assert_file_error(fx, rc, "1: \"page_limit\" has no value");

    rc = load_yaml(fx, "projects: null\n", false);
    assert_file_error(fx, rc, "1: \"projects\" has no value");

    rc = load_yaml(fx, "acknowledge_gaps:\n", false);
    assert_file_error(fx, rc, "1: \"acknowledge_gaps\" has no value");

    rc = load_yaml(fx, "api_key: \"\"\n", false);
    assert_file_error(fx, rc, "1: \"api_key\" is empty");

    rc = load_yaml(fx, "base_url: ''\n", false);
    assert_file_error(fx, rc, "1: \"base_url\" is empty");

    rc = load_yaml(fx, "api_key: {a: b}\n", false);
    assert_file_error(fx, rc, "1: \"api_key\" must be a string");
    assert_string_equal(fx->err.detail, "found a mapping");

    rc = load_yaml(fx, "api_key: \"ab\\0cd\"\n", false);
    assert_file_error(fx, rc, "1: \"api_key\" contains a NUL character");
}

static void config_reports_yaml_syntax_error_line(void **state)
{
    struct fixture *fx = *state;
    int rc;

    rc = load_yaml(fx,
                   "window_days: 3\n"
                   "page_limit: 10\n"
                   "log_level: info: debug\n",
                   false);
    assert_file_error(fx, rc,
                      "3: YAML syntax error: mapping values are not allowed in this "
                      "context");

    rc = load_yaml(fx,
                   "window_days: 3\n"
                   "projects:\n"
                   "  - p_a\n"
                   " page_limit: 3\n",
                   false);
    assert_int_equal(rc, LK_ECONFIG);
    assert_contains(fx->err.message, "YAML syntax error: ");
    assert_contains(fx->err.message, ":4: ");

    rc = load_yaml(fx, "window_days: 3\nbase_url: \"https://x\n", false);
    assert_int_equal(rc, LK_ECONFIG);
    assert_contains(fx->err.message, "YAML syntax error: found unexpected end of stream");
    assert_contains(fx->err.detail, "while scanning a quoted scalar (line 2");

    rc = load_yaml(fx, "window_days: *nowhere\n", false);
    assert_file_error(fx, rc, "1: YAML syntax error: found undefined alias");
}

static void config_reports_non_text_file(void **state)
{
    struct fixture *fx = *state;
    char want[200];

    assert_int_equal(load_yaml(fx, "window_days: 3\nbase_url: \xc3\x28\n", false), LK_ECONFIG);
    snprintf(want, sizeof want, "%s: not readable as YAML text: ", fx->path);
    assert_contains(fx->err.message, want);
    assert_contains(fx->err.detail, "UTF-8");
}

static void config_rejects_non_mapping_or_second_document(void **state)
{
    struct fixture *fx = *state;

    assert_file_error(fx, load_yaml(fx, "- projects\n- p_a\n", false),
                      "1: the file must be a mapping of keys to values, not a list");
    assert_file_error(fx, load_yaml(fx, "\n\njust words\n", false),
                      "3: the file must be a mapping of keys to values, not a single value");
    assert_file_error(fx, load_yaml(fx, "window_days: 3\n---\npage_limit: 5\n", false),
                      "3: a second YAML document");
}

static void config_accepts_empty_file(void **state)
{
    struct fixture *fx = *state;

    assert_loaded(fx, load_yaml(fx, "", false));
    assert_int_equal(fx->cfg->page_limit, 100);
    assert_string_equal(fx->cfg->source_path, fx->path);
    assert_loaded(fx, load_yaml(fx, "# only a comment\n---\n", false));
    assert_loaded(fx, load_yaml(fx, "~\n", false));
    /* "---" then "..." closes the one document cleanly */
    assert_loaded(fx, load_yaml(fx, "---\nwindow_days: 4\n...\n", false));
    assert_int_equal(fx->cfg->window_days, 4);
}

static void config_reports_missing_or_unreadable_file(void **state)
{
    struct fixture *fx = *state;
    char path[200], want[400];

    snprintf(path, sizeof path, "%s/absent.yaml", fx->dir);
    assert_int_equal(config_load_relaxed(&fx->cfg, path, &fx->err), LK_ECONFIG);
    assert_null(fx->cfg);
    snprintf(want, sizeof want, "could not read config file \"%s\": No such file or directory",
             path);
    assert_string_equal(fx->err.message, want);

    assert_int_equal(config_load_relaxed(&fx->cfg, fx->dir, &fx->err), LK_ECONFIG);
    snprintf(want, sizeof want, "could not read config file \"%s\": Is a directory", fx->dir);
    assert_string_equal(fx->err.message, want);
}

static void config_rejects_oversized_file(void **state)
{
    struct fixture *fx = *state;
    size_t len = 1024 * 1024 + 10;
    char *big = malloc(len);
    char want[300];

    assert_non_null(big);
    memset(big, '#', len);
    big[len - 1] = '\n';
    write_file(fx, "config.yaml", big, len);
    free(big);
    assert_int_equal(config_load_relaxed(&fx->cfg, fx->path, &fx->err), LK_ECONFIG);
    snprintf(want, sizeof want, "config file \"%s\" is larger than 1024 KiB", fx->path);
    assert_string_equal(fx->err.message, want);
}

/* ---- the secret ---- */

static void config_reads_secret_file(void **state)
{
    struct fixture *fx = *state;
    char yaml[300];

    /* trailing newline and blanks are dropped; a relative path is beside the config file */
    write_file(fx, "secret.txt", SECRET " \r\n\n", strlen(SECRET) + 4);
    assert_loaded(fx,
                  load_yaml(fx, "api_key: k\nprojects: p_a\napi_secret_file: secret.txt\n", true));
    assert_string_equal(fx->cfg->api_secret, SECRET);

    snprintf(yaml, sizeof yaml, "api_secret_file: %s/secret.txt\n", fx->dir);
    assert_loaded(fx, load_yaml(fx, yaml, false));
    assert_string_equal(fx->cfg->api_secret, SECRET);

    /* the fixture: a config that names its secret file relative to itself */
    config_free(fx->cfg);
    fx->cfg = NULL;
    assert_loaded(fx, config_load(&fx->cfg, private_full_fixture(fx), &fx->err));
    assert_string_equal(fx->cfg->api_secret, "fixture-secret-value");

    /* the environment still wins over the file */
    setenv("LIVEKIT_API_SECRET", "from-env", 1);
    assert_loaded(fx, load_yaml(fx, "api_secret_file: secret.txt\n", false));
    assert_string_equal(fx->cfg->api_secret, "from-env");
}

static void config_rejects_unreadable_or_empty_secret_file(void **state)
{
    struct fixture *fx = *state;
    char want[400];
    int rc;

    rc = load_yaml(fx, "window_days: 1\napi_secret_file: missing.txt\n", false);
    snprintf(want, sizeof want,
             "2: could not read api_secret_file \"%s/missing.txt\": No such file or directory",
             fx->dir);
    assert_file_error(fx, rc, want);

    write_file(fx, "empty.txt", " \n\n", 3);
    rc = load_yaml(fx, "api_secret_file: empty.txt\n", false);
    snprintf(want, sizeof want, "1: api_secret_file \"%s/empty.txt\" is empty", fx->dir);
    assert_file_error(fx, rc, want);

    rc = load_yaml(fx, "api_secret_file: .\n", false);
    snprintf(want, sizeof want, "1: could not read api_secret_file \"%s/.\": Is a directory",
             fx->dir);
    assert_file_error(fx, rc, want);

    write_file(fx, "nul.txt", "ab\0cd\n", 6);
    rc = load_yaml(fx, "api_secret_file: nul.txt\n", false);
    snprintf(want, sizeof want, "1: api_secret_file \"%s/nul.txt\" contains a NUL byte", fx->dir);
    assert_file_error(fx, rc, want);

    {
        size_t len = 64 * 1024 + 1;
        char *big = malloc(len);

        assert_non_null(big);
        memset(big, 'x', len);
        write_file(fx, "big.txt", big, len);
        free(big);
    }
    rc = load_yaml(fx, "api_secret_file: big.txt\n", false);
    snprintf(want, sizeof want, "1: api_secret_file \"%s/big.txt\" is larger than 64 KiB", fx->dir);
    assert_file_error(fx, rc, want);

    rc = load_yaml(fx, "api_secret_file: \"\"\n", false);
    assert_file_error(fx, rc, "1: \"api_secret_file\" is empty");
}

static void config_rejects_inline_secret_with_secret_file(void **state)
{
    struct fixture *fx = *state;
    int rc;

    write_file(fx, "secret.txt", "x\n", 2);
    rc = load_yaml(fx, "api_secret_file: secret.txt\napi_key: k\napi_secret: " SECRET "\n", false);
    assert_file_error(fx, rc, "3: api_secret and api_secret_file are both set");
    assert_contains(fx->err.detail, "line 1");
    rc = load_yaml(fx, "api_secret: " SECRET "\napi_secret_file: secret.txt\n", false);
    assert_file_error(fx, rc, "2: api_secret and api_secret_file are both set");
}

static void config_warns_once_about_inline_secret(void **state)
{
    struct fixture *fx = *state;
    struct capture cap = {-1, {0}};
    unsigned long before = log_warning_count();
    char *log;

    capture_begin(fx, &cap);
    int rc = load_yaml(fx, "api_key: k\nprojects: p_a\napi_secret: " SECRET "\n", true);
    log = capture_end(&cap);
    assert_loaded(fx, rc);
    assert_string_equal(fx->cfg->api_secret, SECRET);
    assert_int_equal(log_warning_count() - before, 1);
    assert_contains(log, "api_secret is written in the config file");
    assert_contains(log, "api_secret_file");
    assert_lacks(log, SECRET);
    free(log);
}

static void config_error_never_contains_secret(void **state)
{
    struct fixture *fx = *state;
    static const char *const files[] = {
        "api_secret: " SECRET "\nprojcts: p_a\n",
        "api_secret: " SECRET "\napi_secret: " SECRET "\n",
        "api_secret: \"" SECRET "\n",
        "api_secret: " SECRET ": more\n",
        "api_secret: [" SECRET "]\n",
        "api_secret: {" SECRET ": 1}\n",
        "api_secret " SECRET ": x\n",
        "api_secret=" SECRET ": x\n",
        "api_secret: " SECRET "\npage_limit: 0\n",
        "api_secret: " SECRET "\n---\n" SECRET "\n",
        "api_secret: " SECRET "\n",             /* strict: no key, no project */
        "api_secret: " SECRET "\napi_key: k\n", /* strict: no project */
        "api_secret: " SECRET "\nprojects: [" SECRET "/x]\n",
        SECRET "\n",
        "- " SECRET "\n",
    };
    struct capture cap = {-1, {0}};
    char *log;

    capture_begin(fx, &cap);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        int rc = load_yaml(fx, files[i], true);

        if (rc == 0 || strstr(fx->err.message, SECRET) != NULL ||
            strstr(fx->err.detail, SECRET) != NULL)
            fail_msg("case %zu: rc %d, message \"%s\", detail \"%s\"", i, rc, fx->err.message,
                     fx->err.detail);
    }
    /* from the environment, with other errors around it */
    setenv("LIVEKIT_API_SECRET", SECRET, 1);
    setenv("LIVEKIT_PROJECT_ID", SECRET "/x", 1);
    assert_int_equal(config_load(&fx->cfg, NULL, &fx->err), LK_ECONFIG);
    assert_lacks(fx->err.message, SECRET);
    setenv("LIVEKIT_PROJECT_ID", "p_a", 1);
    assert_int_equal(config_load(&fx->cfg, NULL, &fx->err), LK_ECONFIG);
    assert_lacks(fx->err.message, SECRET);
    assert_lacks(fx->err.detail, SECRET);
    log = capture_end(&cap);
    assert_lacks(log, SECRET);
    free(log);
}

static void config_free_accepts_null(void **state)
{
    (void)state;
    config_free(NULL);
}

/* ---- permissions and transport ---- */

static void config_refuses_secret_files_others_can_read(void **state)
{
    struct fixture *fx = *state;
    char path[300], want[400];
    int rc;

    write_file(fx, "open.txt", "s3cret\n", 7);
    snprintf(path, sizeof path, "%s/open.txt", fx->dir);
    assert_int_equal(chmod(path, 0640), 0);
    rc = load_yaml(fx, "api_secret_file: open.txt\n", false);
    snprintf(want, sizeof want,
             "1: api_secret_file \"%s/open.txt\" can be used by group or others (mode 0640)",
             fx->dir);
    assert_file_error(fx, rc, want);
    assert_non_null(strstr(fx->err.detail, "chmod 600"));
    assert_int_equal(chmod(path, 0400), 0);
    assert_loaded(fx, load_yaml(fx, "api_secret_file: open.txt\n", false));
    assert_string_equal(fx->cfg->api_secret, "s3cret");
}

static void config_refuses_inline_secret_in_a_readable_file(void **state)
{
    struct fixture *fx = *state;
    int rc;

    write_file(fx, "config.yaml", "api_secret: s3cret-s3cret\n", 25);
    assert_int_equal(chmod(fx->path, 0644), 0);
    rc = config_load_relaxed(&fx->cfg, fx->path, &fx->err);
    assert_file_error(fx, rc,
                      "1: the config file holds api_secret and can be read by group or "
                      "others (mode 0644)");
    assert_non_null(strstr(fx->err.detail, "chmod 600"));
    assert_null(strstr(fx->err.message, "s3cret"));
    assert_null(strstr(fx->err.detail, "s3cret"));
}

static void config_refuses_a_file_others_can_write(void **state)
{
    struct fixture *fx = *state;
    char want[400];
    int rc;

    write_file(fx, "config.yaml", "window_days: 2\n", 15);
    assert_int_equal(chmod(fx->path, 0646), 0);
    rc = config_load_relaxed(&fx->cfg, fx->path, &fx->err);
    snprintf(want, sizeof want, "config file \"%s\" can be written by other users (mode 0646)",
             fx->path);
    assert_int_equal(rc, LK_ECONFIG);
    assert_string_equal(fx->err.message, want);
    assert_non_null(strstr(fx->err.detail, "chmod go-w"));

    /* its group could point lkarchive elsewhere as well */
    assert_int_equal(chmod(fx->path, 0664), 0);
    rc = config_load_relaxed(&fx->cfg, fx->path, &fx->err);
    snprintf(want, sizeof want, "config file \"%s\" can be written by its group (mode 0664)",
             fx->path);
    assert_int_equal(rc, LK_ECONFIG);
    assert_string_equal(fx->err.message, want);
    assert_int_equal(chmod(fx->path, 0644), 0);
    assert_loaded(fx, config_load_relaxed(&fx->cfg, fx->path, &fx->err));
}

/* A file another user owns is refused (root's own and the running user's are trusted). */
static void config_refuses_a_file_another_user_owns(void **state)
{
    struct fixture *fx = *state;
    char want[400];
    int rc;

    write_file(fx, "config.yaml", "window_days: 2\n", 15);
    if (geteuid() != 0 || chown(fx->path, 4242, 4242) != 0) {
        /* only root can give a file away: the check itself needs root to be tested */
        assert_loaded(fx, config_load_relaxed(&fx->cfg, fx->path, &fx->err));
        return;
    }
    rc = config_load_relaxed(&fx->cfg, fx->path, &fx->err);
    snprintf(want, sizeof want,
             "config file \"%s\" is owned by uid 4242, neither root nor the user running "
             "lkarchive (uid 0)",
             fx->path);
    assert_int_equal(rc, LK_ECONFIG);
    assert_string_equal(fx->err.message, want);
    assert_non_null(strstr(fx->err.detail, "chown root"));
}

/* A password in database_url is a secret: refused in a file group or others can read, and
 * never shown; DATABASE_URL, a private file or a URL without one are fine. */
static void config_refuses_a_database_password_others_can_read(void **state)
{
    struct fixture *fx = *state;
    static const char *const with_password[] = {
        "database_url: \"host=/run/postgresql dbname=livekit password=hunter2\"\n",
        "database_url: \"postgresql://lk:hunter2@db.example.com/livekit\"\n",
        "database_url: \"postgresql://db.example.com/livekit?password=hunter2\"\n",
    };
    int rc;

    for (size_t i = 0; i < sizeof with_password / sizeof with_password[0]; i++) {
        write_file(fx, "config.yaml", with_password[i], strlen(with_password[i]));
        assert_int_equal(chmod(fx->path, 0644), 0);
        rc = config_load_relaxed(&fx->cfg, fx->path, &fx->err);
        assert_file_error(fx, rc,
                          "1: database_url holds a password and the config file can be read by "
                          "group or others (mode 0644)");
        assert_contains(fx->err.detail, ".pgpass");
        assert_lacks(fx->err.message, "hunter2");
        assert_lacks(fx->err.detail, "hunter2");
        assert_int_equal(chmod(fx->path, 0600), 0);
        assert_loaded(fx, config_load_relaxed(&fx->cfg, fx->path, &fx->err));
        config_free(fx->cfg);
        fx->cfg = NULL;
    }
    write_file(fx, "config.yaml", with_password[0], strlen(with_password[0]));
    assert_int_equal(chmod(fx->path, 0644), 0);
    setenv("DATABASE_URL", "dbname=env", 1); /* the file's URL is then not read */
    assert_loaded(fx, config_load_relaxed(&fx->cfg, fx->path, &fx->err));
    assert_string_equal(fx->cfg->database_url, "dbname=env");
    config_free(fx->cfg);
    fx->cfg = NULL;
    unsetenv("DATABASE_URL");
    {
        static const char plain[] = "database_url: \"host=/run/postgresql dbname=lk\"\n";

        write_file(fx, "config.yaml", plain, strlen(plain));
    }
    assert_int_equal(chmod(fx->path, 0644), 0);
    assert_loaded(fx, config_load_relaxed(&fx->cfg, fx->path, &fx->err));
}

/* What the environment gives is not read from the file: the unit's LKARCHIVE_API_SECRET_FILE
 * (or LIVEKIT_API_SECRET) and the file's api_secret_file, which its user may not read. */
static void config_env_value_is_not_read_from_the_file(void **state)
{
    struct fixture *fx = *state;
    char path[300];
    int rc;

    write_file(fx, "cred.txt", SECRET "\n", strlen(SECRET) + 1);
    write_file(fx, "root-only.txt", "other\n", 6);
    snprintf(path, sizeof path, "%s/root-only.txt", fx->dir);
    assert_int_equal(chmod(path, 0644), 0); /* would be refused if it were opened */
    snprintf(path, sizeof path, "%s/cred.txt", fx->dir);
    setenv("LKARCHIVE_API_SECRET_FILE", path, 1);
    rc = load_yaml(fx, "api_key: k\nprojects: p_a\napi_secret_file: root-only.txt\n", true);
    assert_loaded(fx, rc);
    assert_string_equal(fx->cfg->api_secret, SECRET);
    rc = load_yaml(fx, "api_key: k\nprojects: p_a\napi_secret_file: missing.txt\n", true);
    assert_loaded(fx, rc);
    unsetenv("LKARCHIVE_API_SECRET_FILE");

    /* LIVEKIT_API_SECRET: neither the file's secret file nor its inline secret is read */
    setenv("LIVEKIT_API_SECRET", "from-env", 1);
    assert_loaded(fx, load_yaml(fx, "api_secret_file: missing.txt\n", false));
    assert_string_equal(fx->cfg->api_secret, "from-env");
    write_file(fx, "config.yaml", "api_secret: inline-value\n", 25);
    assert_int_equal(chmod(fx->path, 0644), 0);
    config_free(fx->cfg);
    fx->cfg = NULL;
    assert_loaded(fx, config_load_relaxed(&fx->cfg, fx->path, &fx->err));
    assert_string_equal(fx->cfg->api_secret, "from-env");

    /* LIVEKIT_PROJECT_ID replaces the projects, their secret files unopened */
    setenv("LIVEKIT_PROJECT_ID", "p_env", 1);
    rc = load_yaml(fx,
                   "api_key: k\nprojects:\n  - id: p_file\n    api_key: K2\n"
                   "    api_secret_file: missing.txt\n",
                   true);
    assert_loaded(fx, rc);
    assert_int_equal(fx->cfg->project_count, 1);
    assert_string_equal(fx->cfg->projects[0], "p_env");
    /* a key the environment gives is still checked for the file's shape: written twice */
    rc = load_yaml(fx, "projects: p_a\nprojects: p_b\n", false);
    assert_file_error(fx, rc, "2: duplicate key \"projects\"");
}

static void config_allows_plain_http_only_to_this_machine(void **state)
{
    struct fixture *fx = *state;
    static const char *const local[] = {"http://127.0.0.1:8080", "http://localhost/x",
                                        "http://[::1]:9000", "http://127.9.8.7",
                                        "https://cloud-api.livekit.io"};
    static const char *const remote[] = {"http://cloud-api.livekit.io", "http://10.0.0.8:80",
                                         "http://127.0.0.1.evil.example",
                                         "http://127.0.0.1@evil.example/"};
    char yaml[200];

    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++) {
        snprintf(yaml, sizeof yaml, "base_url: \"%s\"\n", local[i]);
        assert_loaded(fx, load_yaml(fx, yaml, false));
        config_free(fx->cfg);
        fx->cfg = NULL;
    }
    for (size_t i = 0; i < sizeof remote / sizeof remote[0]; i++) {
        snprintf(yaml, sizeof yaml, "base_url: \"%s\"\n", remote[i]);
        assert_int_equal(load_yaml(fx, yaml, false), LK_ECONFIG);
        assert_non_null(strstr(fx->err.message, "plain http://"));
        snprintf(yaml, sizeof yaml, "base_url: \"%s\"\nallow_insecure_http: true\n", remote[i]);
        assert_loaded(fx, load_yaml(fx, yaml, false));
        config_free(fx->cfg);
        fx->cfg = NULL;
    }
}

/* A project entry may carry its own api_key and api_secret_file; the rest use the top-level
 * credentials. */
static void config_reads_per_project_credentials(void **state)
{
    struct fixture *fx = *state;

    write_file(fx, "secret.txt", "top_secret\n", 11);
    write_file(fx, "b.secret", "b_secret\n", 9);
    assert_int_equal(load_yaml(fx,
                               "api_key: top_key\n"
                               "api_secret_file: secret.txt\n"
                               "projects:\n"
                               "  - p_a\n"
                               "  - {id: p_b, api_key: b_key, api_secret_file: b.secret}\n"
                               "  - id: p_c\n"
                               "    api_key: c_key\n",
                               true),
                     0);
    assert_int_equal(fx->cfg->project_count, 3);
    assert_string_equal(fx->cfg->projects[1], "p_b");
    assert_string_equal(config_project_api_key(fx->cfg, 0), "top_key");
    assert_string_equal(config_project_api_secret(fx->cfg, 0), "top_secret");
    assert_string_equal(config_project_api_key(fx->cfg, 1), "b_key");
    assert_string_equal(config_project_api_secret(fx->cfg, 1), "b_secret");
    assert_string_equal(config_project_api_key(fx->cfg, 2), "c_key");
    assert_string_equal(config_project_api_secret(fx->cfg, 2), "top_secret");
}

/* Without top-level credentials, a project without its own is named; an entry with an
 * unknown key is refused. */
static void config_per_project_credentials_checked(void **state)
{
    struct fixture *fx = *state;
    int rc;

    write_file(fx, "b.secret", "b_secret\n", 9);
    rc = load_yaml(fx,
                   "projects:\n"
                   "  - {id: p_b, api_key: b_key, api_secret_file: b.secret}\n"
                   "  - {id: p_c, api_key: c_key}\n",
                   true);
    assert_int_equal(rc, LK_ECONFIG);
    assert_string_equal(fx->err.message, "project p_c has no API secret: give it one in its "
                                         "\"projects\" entry, or set the top-level one");
    config_free(fx->cfg);
    fx->cfg = NULL;
    rc = load_yaml(fx, "projects:\n  - {id: p_b, api_secret: x}\n", false);
    assert_int_equal(rc, LK_ECONFIG);
    assert_contains(fx->err.message,
                    "takes id (required), api_key, api_secret_file and max_requests_per_minute");
    assert_contains(fx->err.detail, "api_secret");
}

/* A project's own max_requests_per_minute caps it; the others get the top-level one, and
 * requests_per_second (the older cap) still applies when lower. Bad values are refused with
 * their line. */
static void config_per_project_rate_ceiling(void **state)
{
    struct fixture *fx = *state;
    int rc;

    write_file(fx, "secret.txt", "top_secret\n", 11);
    assert_int_equal(load_yaml(fx,
                               "api_key: k\n"
                               "api_secret_file: secret.txt\n"
                               "max_requests_per_minute: 600\n"
                               "parallel_projects: 2\n"
                               "projects:\n"
                               "  - p_a\n"
                               "  - {id: p_b, max_requests_per_minute: 120}\n",
                               true),
                     0);
    assert_int_equal(config_project_max_rpm(fx->cfg, 0), 600);
    assert_int_equal(config_project_max_rpm(fx->cfg, 1), 120);
    assert_int_equal(fx->cfg->parallel_projects, 2);
    config_free(fx->cfg);
    fx->cfg = NULL;
    assert_int_equal(load_yaml(fx,
                               "api_key: k\napi_secret_file: secret.txt\nrequests_per_second: 5\n"
                               "projects: [p_a, {id: p_b, max_requests_per_minute: 120}]\n",
                               true),
                     0);
    assert_int_equal(config_project_max_rpm(fx->cfg, 0), 300);
    assert_int_equal(config_project_max_rpm(fx->cfg, 1), 120);
    assert_int_equal(fx->cfg->parallel_projects, 4); /* the default */
    config_free(fx->cfg);
    fx->cfg = NULL;
    rc = load_yaml(fx,
                   "api_key: k\napi_secret_file: secret.txt\nprojects:\n"
                   "  - id: p_b\n    max_requests_per_minute: fast\n",
                   true);
    assert_int_equal(rc, LK_ECONFIG); /* logged with its line; the error counts problems */
}

/* LKARCHIVE_API_SECRET_FILE (systemd's credentials directory) gives the secret when
 * LIVEKIT_API_SECRET does not; the same checks as api_secret_file apply. */
static void config_reads_secret_file_from_environment(void **state)
{
    struct fixture *fx = *state;
    char path[256];

    write_file(fx, "credential", "cred_secret\n", 12);
    snprintf(path, sizeof path, "%s/credential", fx->dir);
    setenv("LKARCHIVE_API_SECRET_FILE", path, 1);
    setenv("LIVEKIT_API_KEY", "k", 1);
    setenv("LIVEKIT_PROJECT_ID", "p_x", 1);
    assert_int_equal(config_load(&fx->cfg, NULL, &fx->err), 0);
    assert_string_equal(fx->cfg->api_secret, "cred_secret");
    config_free(fx->cfg);
    fx->cfg = NULL;
    setenv("LIVEKIT_API_SECRET", SECRET, 1);
    assert_int_equal(config_load(&fx->cfg, NULL, &fx->err), 0);
    assert_string_equal(fx->cfg->api_secret, SECRET);
    config_free(fx->cfg);
    fx->cfg = NULL;
    unsetenv("LIVEKIT_API_SECRET");
    chmod(path, 0644);
    assert_int_equal(config_load(&fx->cfg, NULL, &fx->err), LK_ECONFIG);
    assert_contains(fx->err.message, "problems in the configuration"); /* the mode, no secret */
}

/* A PEM bundle as config_ca.c checks it: a label outside the block, base64 inside. */
#define PEM_BUNDLE                                                                                 \
    "# test CA\n-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2Vy\r\ndGlmaWNhdGU=\n"           \
    "-----END CERTIFICATE-----\n"

static void config_reads_ca_file_beside_the_config_file(void **state)
{
    struct fixture *fx = *state;
    char want[300];

    write_file(fx, "ca.pem", PEM_BUNDLE, strlen(PEM_BUNDLE));
    setenv("LIVEKIT_API_KEY", "k", 1);
    setenv("LIVEKIT_API_SECRET", SECRET, 1);
    setenv("LIVEKIT_PROJECT_ID", "p_x", 1);
    assert_loaded(fx, load_yaml(fx, "ca_file: ca.pem\n", true));
    snprintf(want, sizeof want, "%s/ca.pem", fx->dir);
    assert_string_equal(fx->cfg->ca_file, want);
    assert_string_equal(fx->cfg->ca_source, "ca_file");
    /* none: the system store */
    assert_loaded(fx, load_yaml(fx, "window_days: 1\n", false));
    assert_null(fx->cfg->ca_file);
    assert_null(fx->cfg->ca_source);
}

static void config_ca_file_from_environment_wins_unread(void **state)
{
    struct fixture *fx = *state;
    char path[256];

    write_file(fx, "env.pem", PEM_BUNDLE, strlen(PEM_BUNDLE));
    snprintf(path, sizeof path, "%s/env.pem", fx->dir);
    setenv("LIVEKIT_API_KEY", "k", 1);
    setenv("LIVEKIT_API_SECRET", SECRET, 1);
    setenv("LIVEKIT_PROJECT_ID", "p_x", 1);
    setenv("LKARCHIVE_CA_FILE", path, 1);
    /* the file names a CA file that does not exist: it is not even opened */
    assert_loaded(fx, load_yaml(fx, "ca_file: missing.pem\n", true));
    assert_string_equal(fx->cfg->ca_file, path);
    assert_string_equal(fx->cfg->ca_source, "LKARCHIVE_CA_FILE");
    unsetenv("LKARCHIVE_CA_FILE");
    /* curl's own variables come after lkarchive's settings, CURL_CA_BUNDLE first */
    setenv("SSL_CERT_FILE", path, 1);
    assert_loaded(fx, load_yaml(fx, "window_days: 1\n", true));
    assert_string_equal(fx->cfg->ca_source, "SSL_CERT_FILE");
    setenv("CURL_CA_BUNDLE", path, 1);
    assert_loaded(fx, load_yaml(fx, "window_days: 1\n", true));
    assert_string_equal(fx->cfg->ca_source, "CURL_CA_BUNDLE");
    write_file(fx, "own.pem", PEM_BUNDLE, strlen(PEM_BUNDLE));
    assert_loaded(fx, load_yaml(fx, "ca_file: own.pem\n", true));
    assert_string_equal(fx->cfg->ca_source, "ca_file");
    unsetenv("CURL_CA_BUNDLE");
    unsetenv("SSL_CERT_FILE");
}

static void config_refuses_a_ca_file_that_is_not_pem(void **state)
{
    struct fixture *fx = *state;
    static const char *const bad[][2] = {
        {"not a certificate\n", "it holds no \"-----BEGIN CERTIFICATE-----\" block"},
        {"-----BEGIN CERTIFICATE-----\nMIIB\n", "its last certificate block is not closed"},
        {"-----BEGIN CERTIFICATE-----\nMII B!\n-----END CERTIFICATE-----\n",
         "line 2 of a certificate block is not base64"},
        {"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
         "line 2 of a certificate block is not base64"},
    };
    char want[400];
    int rc;

    setenv("LIVEKIT_API_KEY", "k", 1);
    setenv("LIVEKIT_API_SECRET", SECRET, 1);
    setenv("LIVEKIT_PROJECT_ID", "p_x", 1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(fx, "bad.pem", bad[i][0], strlen(bad[i][0]));
        rc = load_yaml(fx, "window_days: 1\nca_file: bad.pem\n", true);
        snprintf(want, sizeof want, "2 (ca_file): the CA file \"%s/bad.pem\" is not PEM: %s",
                 fx->dir, bad[i][1]);
        assert_file_error(fx, rc, want);
        assert_contains(fx->err.detail, "--cacert");
    }
    rc = load_yaml(fx, "ca_file: missing.pem\n", true);
    snprintf(want, sizeof want,
             "1 (ca_file): could not read the CA file \"%s/missing.pem\": No such file or "
             "directory",
             fx->dir);
    assert_file_error(fx, rc, want);
    /* from the environment: named as such */
    setenv("LKARCHIVE_CA_FILE", "/nonexistent/ca.pem", 1);
    assert_int_equal(config_load(&fx->cfg, NULL, &fx->err), LK_ECONFIG);
    assert_string_equal(fx->err.message, "environment (LKARCHIVE_CA_FILE): could not read the CA "
                                         "file \"/nonexistent/ca.pem\": No such file or directory");
    unsetenv("LKARCHIVE_CA_FILE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(config_defaults_without_file_or_env),
        T(config_reads_ca_file_beside_the_config_file),
        T(config_ca_file_from_environment_wins_unread),
        T(config_refuses_a_ca_file_that_is_not_pem),
        T(config_needs_no_file_with_env),
        T(config_env_overrides_file),
        T(config_empty_env_counts_as_unset),
        T(config_env_accepts_comma_separated_projects),
        T(config_env_rejects_bad_project_ids),
        T(config_env_rejects_bad_url_and_log_level),
        T(config_requires_credentials_and_project),
        T(config_relaxed_needs_no_credentials),
        T(config_reads_every_key),
        T(config_parses_the_example_file),
        T(config_accepts_project_list_and_single),
        T(config_rejects_bad_project_id_with_line),
        T(config_reads_per_project_credentials),
        T(config_reads_secret_file_from_environment),
        T(config_per_project_credentials_checked),
        T(config_per_project_rate_ceiling),
        T(config_rejects_duplicate_or_empty_project_list),
        T(config_rejects_unknown_key_with_line),
        T(config_rejects_duplicate_key),
        T(config_rejects_out_of_range_page_limit),
        T(config_rejects_malformed_integers),
        T(config_enforces_every_integer_range),
        T(config_min_page_limit_follows_page_limit),
        T(config_accepts_boolean_forms),
        T(config_checks_log_level),
        T(config_normalises_and_checks_base_url),
        T(config_rejects_missing_or_empty_value),
        T(config_reports_yaml_syntax_error_line),
        T(config_reports_non_text_file),
        T(config_rejects_non_mapping_or_second_document),
        T(config_accepts_empty_file),
        T(config_reports_missing_or_unreadable_file),
        T(config_rejects_oversized_file),
        T(config_reads_secret_file),
        T(config_rejects_unreadable_or_empty_secret_file),
        T(config_refuses_secret_files_others_can_read),
        T(config_refuses_inline_secret_in_a_readable_file),
        T(config_refuses_a_file_others_can_write),
        T(config_refuses_a_file_another_user_owns),
        T(config_refuses_a_database_password_others_can_read),
        T(config_env_value_is_not_read_from_the_file),
        T(config_allows_plain_http_only_to_this_machine),
        T(config_rejects_inline_secret_with_secret_file),
        T(config_warns_once_about_inline_secret),
        T(config_error_never_contains_secret),
        T(config_free_accepts_null),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

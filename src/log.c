/* log.c -- stderr logging; one line per call, written with a single fputs so concurrent
 * processes (cron overlap) do not interleave within a line. Every text from outside (ids,
 * messages quoting the API or the server) is escaped for a terminal first (escape_text),
 * then quoted for the line's format.
 *
 * Two threads log during a run (window's main thread, and the committer thread that commits
 * the previous day meanwhile): the project and day are per thread (_Thread_local, each
 * thread sets its own day), the warning count is atomic, and one mutex covers the write of a
 * line, the progress line and the repeated and similar warnings' tables. Level, format,
 * prefix and run id are set before the committer thread starts and only read after. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "escape.h"

/* Bytes of one message printed before it is cut with a marker. */
#define LOG_LINE_MAX 2000

static enum log_level current_level = LOG_LEVEL_INFO;
static enum log_format current_format = LOG_FORMAT_LOGFMT;
static char current_prefix[256];
static long long current_run;
static _Thread_local char current_project[128];
static _Thread_local char current_day[16];
static _Atomic unsigned long warnings_printed;
static bool progress_shown; /* a progress line is on the terminal, without its newline */
/* a line's write, progress_shown and the two warning tables below */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* log_warn_repeated: a few kinds, counted by their (static) name */
#define REPEAT_KINDS 8
static struct {
    const char *kind;
    unsigned long count;
} repeated[REPEAT_KINDS];

/* log_warn_similar: the causes seen since the last flush, and how many were not printed */
#define SIMILAR_KEYS 16
static struct {
    char key[128];
    unsigned long suppressed;
} similar[SIMILAR_KEYS];
static int similar_used;

void log_set_level(enum log_level level)
{
    current_level = level;
}

/* The index of name in names (count of them), or -1. */
static int name_index(const char *const *names, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(name, names[i]) == 0)
            return (int)i;
    return -1;
}

int log_level_from_name(const char *name, enum log_level *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    int i = name_index(names, sizeof names / sizeof names[0], name);

    if (i >= 0)
        *out = (enum log_level)i;
    return i >= 0 ? 0 : -1;
}

void log_set_format(enum log_format format)
{
    current_format = format;
}

int log_format_from_name(const char *name, enum log_format *out)
{
    static const char *const names[] = {"logfmt", "json", "text"};
    int i = name_index(names, sizeof names / sizeof names[0], name);

    if (i >= 0)
        *out = (enum log_format)i;
    return i >= 0 ? 0 : -1;
}

void log_set_run(long long run_id)
{
    current_run = run_id;
}

void log_set_context(const char *project, const char *day)
{
    snprintf(current_project, sizeof current_project, "%s", project ? project : "");
    snprintf(current_day, sizeof current_day, "%s", day ? day : "");
}

void log_set_prefix(const char *prefix)
{
    if (prefix == NULL)
        current_prefix[0] = '\0';
    else
        snprintf(current_prefix, sizeof current_prefix, "%s", prefix);
}

unsigned long log_warning_count(void)
{
    return warnings_printed;
}

/* Append s to out (size bytes, used so far *used) as a quoted value: '"' and '\\' escaped
 * with a backslash (s holds no control character: escape_text ran first). */
static void append_quoted(char *out, size_t size, size_t *used, const char *s)
{
    if (*used + 1 < size)
        out[(*used)++] = '"';
    for (; *s && *used + 3 < size; s++) {
        if (*s == '"' || *s == '\\')
            out[(*used)++] = '\\';
        out[(*used)++] = *s;
    }
    if (*used + 1 < size)
        out[(*used)++] = '"';
    out[*used] = '\0';
}

/* Append a logfmt value: bare when it holds no space, '=' or '"', else quoted. */
static void append_logfmt_value(char *out, size_t size, size_t *used, const char *s)
{
    if (*s != '\0' && strpbrk(s, " =\"\\") == NULL) {
        int n = snprintf(out + *used, size - *used, "%s", s);
        *used += n > 0 && (size_t)n < size - *used ? (size_t)n : 0;
    } else {
        append_quoted(out, size, used, s);
    }
}

/* Append " key=value" (logfmt) or ",\"key\":value" (JSON); a string value is escaped. */
static void append_field(char *out, size_t size, size_t *used, const char *key, const char *value,
                         bool is_string)
{
    int n;

    if (current_format == LOG_FORMAT_JSON) {
        n = snprintf(out + *used, size - *used, ",\"%s\":", key);
        *used += n > 0 && (size_t)n < size - *used ? (size_t)n : 0;
        if (is_string) {
            append_quoted(out, size, used, value);
            return;
        }
    } else {
        n = snprintf(out + *used, size - *used, " %s=", key);
        *used += n > 0 && (size_t)n < size - *used ? (size_t)n : 0;
        if (is_string) {
            append_logfmt_value(out, size, used, value);
            return;
        }
    }
    n = snprintf(out + *used, size - *used, "%s", value);
    *used += n > 0 && (size_t)n < size - *used ? (size_t)n : 0;
}

/* "lkarchive: LABEL: [PREFIX: ]TEXT", the human form. */
static void format_text(char *line, size_t size, const char *label, bool with_prefix,
                        const char *body)
{
    char prefix[sizeof current_prefix * 4 + sizeof current_project * 4 + 64];
    char context[sizeof current_project + sizeof current_day + 16];

    if (!with_prefix)
        prefix[0] = '\0';
    else if (current_prefix[0])
        escape_text(prefix, sizeof prefix, current_prefix, strlen(current_prefix), sizeof prefix);
    else {
        snprintf(context, sizeof context, "%s%s%s%s%s", current_project[0] ? "project=" : "",
                 current_project, current_day[0] ? " day=" : "", current_day, "");
        escape_text(prefix, sizeof prefix, context, strlen(context), sizeof prefix);
    }
    snprintf(line, size, "lkarchive: %s: %s%s%s\n", label, prefix, prefix[0] ? ": " : "", body);
}

/* One line in logfmt or JSON: time, level, the context, then key (msg, detail or hint). */
static void format_fields(char *line, size_t size, const char *level, const char *key,
                          const char *body)
{
    char now[32], run[24], escaped[sizeof current_prefix * 4];
    struct timespec ts;
    struct tm tm;
    size_t used = 0;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(now, sizeof now - 8, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(now + strlen(now), 8, ".%03uZ", (unsigned)(ts.tv_nsec / 1000000) % 1000u);
    if (current_format == LOG_FORMAT_JSON) {
        used = (size_t)snprintf(line, size, "{\"time\":\"%s\"", now);
        append_field(line, size, &used, "level", level, true);
    } else {
        used = (size_t)snprintf(line, size, "time=%s level=%s", now, level);
    }
    if (current_run > 0) {
        snprintf(run, sizeof run, "%lld", current_run);
        append_field(line, size, &used, "run", run, false);
    }
    if (current_project[0]) {
        escape_text(escaped, sizeof escaped, current_project, strlen(current_project), 128);
        append_field(line, size, &used, "project", escaped, true);
    }
    if (current_day[0])
        append_field(line, size, &used, "day", current_day, true);
    if (current_prefix[0]) {
        escape_text(escaped, sizeof escaped, current_prefix, strlen(current_prefix),
                    sizeof escaped);
        append_field(line, size, &used, "ctx", escaped, true);
    }
    append_field(line, size, &used, key, body, true);
    snprintf(line + used, size - used, "%s\n", current_format == LOG_FORMAT_JSON ? "}" : "");
}

/* Write one line in the current format. The text is escaped for a terminal first (it carries
 * ids, names and messages from the API and the server). */
static void progress_clear(void);

static void write_line(const char *label, bool with_prefix, const char *text, size_t len,
                       enum log_level detail_level)
{
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    char body[LOG_LINE_MAX * 2];
    char line[sizeof body * 2 + sizeof current_prefix * 8 + 512];
    const char *level = label;

    escape_text(body, sizeof body, text, len, LOG_LINE_MAX);
    if (current_format == LOG_FORMAT_TEXT) {
        format_text(line, sizeof line, label, with_prefix, body);
    } else {
        /* a detail or hint line takes the level of the line it details (detail_level) */
        bool detail = strcmp(label, "detail") == 0 || strcmp(label, "hint") == 0;

        if (strcmp(label, "warning") == 0)
            level = levels[LOG_LEVEL_WARN];
        else if (detail)
            level = levels[detail_level];
        format_fields(line, sizeof line, level, detail ? label : "msg", body);
    }
    pthread_mutex_lock(&log_lock);
    progress_clear();
    fputs(line, stderr); /* one write per line: overlapping cron runs do not interleave */
    pthread_mutex_unlock(&log_lock);
}

/* A line at level; a warning counts toward log_warning_count unless !counted (a summary). */
__attribute__((format(printf, 4, 0))) static void emit(enum log_level level, const char *label,
                                                       bool counted, const char *fmt, va_list ap)
{
    char text[LOG_LINE_MAX * 2];
    int len;

    if (level > current_level)
        return;
    if (level == LOG_LEVEL_WARN && counted)
        warnings_printed++;
    len = vsnprintf(text, sizeof text, fmt, ap);
    write_line(label, true, text,
               len < 0                     ? 0
               : (size_t)len < sizeof text ? (size_t)len
                                           : sizeof text - 1,
               LOG_LEVEL_ERROR);
}

__attribute__((format(printf, 4, 5))) static void log_at(enum log_level level, const char *label,
                                                         bool counted, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(level, label, counted, fmt, ap);
    va_end(ap);
}

#define LOG_FUNCTION(name, level, label)                                                           \
    void name(const char *fmt, ...)                                                                \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        emit(level, label, true, fmt, ap);                                                         \
        va_end(ap);                                                                                \
    }

LOG_FUNCTION(log_error, LOG_LEVEL_ERROR, "error")
LOG_FUNCTION(log_warn, LOG_LEVEL_WARN, "warning")
LOG_FUNCTION(log_info, LOG_LEVEL_INFO, "info")
LOG_FUNCTION(log_debug, LOG_LEVEL_DEBUG, "debug")

void log_detail(enum log_level level, const char *fmt, ...)
{
    char text[LOG_LINE_MAX * 2];
    va_list ap;
    int len;

    if (level > current_level)
        return;
    va_start(ap, fmt);
    len = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (len < 0)
        return;
    /* one line whatever the text holds: a newline in it (an API error body, an id) is written
     * as "\n" by the escaping, never as a second line someone else's text could forge (pq.c
     * already makes libpq's multi-line messages one line) */
    write_line("detail", false, text, (size_t)len < sizeof text ? (size_t)len : sizeof text - 1,
               level);
}

void log_warn_repeated(const char *kind, const char *fmt, ...)
{
    va_list ap;
    int slot = 0;
    unsigned long count = 0;

    pthread_mutex_lock(&log_lock);
    while (slot < REPEAT_KINDS && repeated[slot].kind && strcmp(repeated[slot].kind, kind) != 0)
        slot++;
    if (slot < REPEAT_KINDS) {
        repeated[slot].kind = kind;
        count = ++repeated[slot].count;
    }
    pthread_mutex_unlock(&log_lock);
    if (count > LOG_REPEAT_LIMIT) {
        if (count == LOG_REPEAT_LIMIT + 1)
            log_warn("more %s warnings follow; they are counted, not printed", kind);
        else
            warnings_printed++; /* still a warning of the run (archive_runs.warnings) */
        return;
    }
    va_start(ap, fmt);
    emit(LOG_LEVEL_WARN, "warning", true, fmt, ap);
    va_end(ap);
}

void log_progress(const char *text)
{
    char safe[512];

    escape_text(safe, sizeof safe, text, strlen(text), 200);
    pthread_mutex_lock(&log_lock);
    fprintf(stderr, "\r\033[K%s", safe);
    fflush(stderr);
    progress_shown = true;
    pthread_mutex_unlock(&log_lock);
}

/* Clear the progress line, if shown; log_lock held. */
static void progress_clear(void)
{
    if (!progress_shown)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    progress_shown = false;
}

void log_progress_end(void)
{
    pthread_mutex_lock(&log_lock);
    progress_clear();
    pthread_mutex_unlock(&log_lock);
}

void log_warn_similar(const char *key, const char *fmt, ...)
{
    va_list ap;
    int slot = 0;
    bool seen;

    pthread_mutex_lock(&log_lock);
    while (slot < similar_used && strncmp(similar[slot].key, key, sizeof similar[slot].key - 1))
        slot++;
    seen = slot < similar_used;
    if (seen) {
        similar[slot].suppressed++;
    } else if (similar_used < SIMILAR_KEYS) { /* a full table prints every warning */
        snprintf(similar[similar_used].key, sizeof similar[similar_used].key, "%s", key);
        similar[similar_used].suppressed = 0;
        similar_used++;
    }
    pthread_mutex_unlock(&log_lock);
    if (seen) {
        warnings_printed++;
        return;
    }
    va_start(ap, fmt);
    emit(LOG_LEVEL_WARN, "warning", true, fmt, ap);
    va_end(ap);
}

void log_similar_flush(void)
{
    char keys[SIMILAR_KEYS][sizeof similar[0].key];
    unsigned long suppressed[SIMILAR_KEYS];
    int count = 0;

    pthread_mutex_lock(&log_lock); /* taken out of the table, printed after */
    for (int slot = 0; slot < similar_used; slot++) {
        if (similar[slot].suppressed == 0)
            continue;
        memcpy(keys[count], similar[slot].key, sizeof keys[count]);
        suppressed[count++] = similar[slot].suppressed;
    }
    similar_used = 0;
    pthread_mutex_unlock(&log_lock);
    for (int i = 0; i < count; i++) /* a summary line, not a warning the run met */
        log_at(LOG_LEVEL_WARN, "warning", false, "%lu more warning%s like that (%s) not printed",
               suppressed[i], suppressed[i] == 1 ? "" : "s", keys[i]);
}

void log_repeated_summary(void)
{
    log_similar_flush();
    for (int slot = 0; slot < REPEAT_KINDS && repeated[slot].kind; slot++)
        if (repeated[slot].count > LOG_REPEAT_LIMIT)
            log_warn("%lu %s warnings in all, %lu not printed", repeated[slot].count,
                     repeated[slot].kind, repeated[slot].count - LOG_REPEAT_LIMIT);
}

void log_lk_error(enum log_level level, const struct lk_error *err)
{
    static const char *const labels[] = {"error", "warning", "info", "debug"};

    if (err == NULL || err->message[0] == '\0')
        return;
    log_at(level, labels[level], true, "%s", err->message);
    if (err->detail[0])
        log_detail(level, "%s", err->detail);
    if (err->hint[0] && level <= current_level)
        write_line("hint", false, err->hint, strlen(err->hint), level);
}

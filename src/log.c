/* log.c -- stderr logging; one line per call, written with a single fputs so concurrent
 * processes (cron overlap) do not interleave within a line. */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "escape.h"

/* Bytes of one message printed before it is cut with a marker. */
#define LOG_LINE_MAX 2000

static enum log_level current_level = LOG_LEVEL_INFO;
static char current_prefix[256];
static unsigned long warnings_printed;

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

int log_level_from_name(const char *name, enum log_level *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
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

/* Write one line: "lkarchive: LABEL: [PREFIX: ]TEXT", with the prefix and text escaped
 * (they carry ids, names and messages from the API and the server). */
static void write_line(const char *label, bool with_prefix, const char *text, size_t len)
{
    char prefix[sizeof current_prefix * 4], body[LOG_LINE_MAX * 2];
    char line[sizeof prefix + sizeof body + 32];
    const char *raw_prefix = with_prefix ? current_prefix : "";

    escape_text(prefix, sizeof prefix, raw_prefix, strlen(raw_prefix), sizeof prefix);
    escape_text(body, sizeof body, text, len, LOG_LINE_MAX);
    snprintf(line, sizeof line, "lkarchive: %s: %s%s%s\n", label, prefix, prefix[0] ? ": " : "",
             body);
    fputs(line, stderr); /* one write per line: overlapping cron runs do not interleave */
}

__attribute__((format(printf, 3, 0))) static void emit(enum log_level level, const char *label,
                                                       const char *fmt, va_list ap)
{
    char text[LOG_LINE_MAX * 2];
    int len;

    if (level > current_level)
        return;
    if (level == LOG_LEVEL_WARN)
        warnings_printed++;
    len = vsnprintf(text, sizeof text, fmt, ap);
    write_line(label, true, text,
               len < 0                     ? 0
               : (size_t)len < sizeof text ? (size_t)len
                                           : sizeof text - 1);
}

__attribute__((format(printf, 3, 4))) static void log_at(enum log_level level, const char *label,
                                                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(level, label, fmt, ap);
    va_end(ap);
}

#define LOG_FUNCTION(name, level, label)                                                           \
    void name(const char *fmt, ...)                                                                \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        emit(level, label, fmt, ap);                                                               \
        va_end(ap);                                                                                \
    }

LOG_FUNCTION(log_error, LOG_LEVEL_ERROR, "error")
LOG_FUNCTION(log_warn, LOG_LEVEL_WARN, "warning")
LOG_FUNCTION(log_info, LOG_LEVEL_INFO, "info")
LOG_FUNCTION(log_debug, LOG_LEVEL_DEBUG, "debug")

void log_detail(enum log_level level, const char *fmt, ...)
{
    char text[LOG_LINE_MAX * 2];
    const char *line;
    va_list ap;
    int len;

    if (level > current_level)
        return;
    va_start(ap, fmt);
    len = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (len < 0)
        return;
    /* libpq's messages span lines (ERROR, DETAIL, HINT): one "detail:" line each */
    for (line = text; *line;) {
        size_t line_len = strcspn(line, "\n");
        if (line_len > 0)
            write_line("detail", false, line, line_len);
        line += line_len + (line[line_len] == '\n');
    }
}

void log_warn_repeated(const char *kind, const char *fmt, ...)
{
    va_list ap;
    int slot = 0;

    while (slot < REPEAT_KINDS && repeated[slot].kind && strcmp(repeated[slot].kind, kind) != 0)
        slot++;
    if (slot < REPEAT_KINDS) {
        repeated[slot].kind = kind;
        if (++repeated[slot].count > LOG_REPEAT_LIMIT) {
            if (repeated[slot].count == LOG_REPEAT_LIMIT + 1)
                log_warn("more %s warnings follow; they are counted, not printed", kind);
            else
                warnings_printed++; /* still a warning of the run (archive_runs.warnings) */
            return;
        }
    }
    va_start(ap, fmt);
    emit(LOG_LEVEL_WARN, "warning", fmt, ap);
    va_end(ap);
}

void log_warn_similar(const char *key, const char *fmt, ...)
{
    va_list ap;
    int slot = 0;

    while (slot < similar_used && strncmp(similar[slot].key, key, sizeof similar[slot].key - 1))
        slot++;
    if (slot < similar_used) {
        similar[slot].suppressed++;
        warnings_printed++;
        return;
    }
    if (similar_used < SIMILAR_KEYS) { /* a full table prints every warning */
        snprintf(similar[similar_used].key, sizeof similar[similar_used].key, "%s", key);
        similar[similar_used].suppressed = 0;
        similar_used++;
    }
    va_start(ap, fmt);
    emit(LOG_LEVEL_WARN, "warning", fmt, ap);
    va_end(ap);
}

void log_similar_flush(void)
{
    for (int slot = 0; slot < similar_used; slot++) {
        unsigned long met = warnings_printed;

        if (similar[slot].suppressed == 0)
            continue;
        log_at(LOG_LEVEL_WARN, "warning", "%lu more warning%s like that (%s) not printed",
               similar[slot].suppressed, similar[slot].suppressed == 1 ? "" : "s",
               similar[slot].key);
        warnings_printed = met; /* a summary line, not a warning the run met */
    }
    similar_used = 0;
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
    log_at(level, labels[level], "%s", err->message);
    if (err->detail[0])
        log_detail(level, "%s", err->detail);
}

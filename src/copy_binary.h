/* copy_binary.h -- PostgreSQL's binary COPY format, written from the canonical text of a value.
 *
 * store stages rows with COPY ... (FORMAT binary): each field is its length and the value in
 * the type's send format, so the server does not parse text (timestamps, integers) nor read
 * escapes. Values come as records.h's canonical text and are turned into bytes here; a text
 * that is not the canonical form of its type is refused (-1) without writing anything, as the
 * server would refuse it. Pure functions into a caller's buffer, no allocation.
 */
#ifndef LK_COPY_BINARY_H
#define LK_COPY_BINARY_H

#include <stddef.h>
#include <stdint.h>

/* The stage's column types, by their send format. */
enum copy_type {
    COPY_TEXT,        /* text: the bytes as they are */
    COPY_JSONB,       /* jsonb: version 1, then the JSON text */
    COPY_TIMESTAMPTZ, /* "YYYY-MM-DD HH:MM:SS[.f{1,9}]+00": microseconds since 2000-01-01 */
    COPY_INT8,        /* decimal text, each within its type's range */
    COPY_INT4,
    COPY_INT2,
    COPY_BOOL, /* "t" or "f" */
    COPY_CHAR  /* "char": one byte */
};

/* The file header (signature, flags, extension length) and the trailer (field count -1). */
#define COPY_BINARY_HEADER_SIZE 19
#define COPY_BINARY_TRAILER_SIZE 2
extern const char copy_binary_header[COPY_BINARY_HEADER_SIZE];
extern const char copy_binary_trailer[COPY_BINARY_TRAILER_SIZE];

/* Bytes a row of `fields` fields starts with (its field count). */
#define COPY_BINARY_ROW_START_SIZE 2

/* The most bytes copy_binary_field writes for value (NULL: SQL NULL). */
size_t copy_binary_field_size(enum copy_type type, const char *value);

/* Write the row's field count to out; returns the bytes written. */
size_t copy_binary_row_start(char *out, int fields);

/* Write one field (length and value; NULL value: SQL NULL) to out, at least
 * copy_binary_field_size bytes. Returns the bytes written, or -1 when value is not the
 * canonical text of type (nothing is written). */
long copy_binary_field(char *out, enum copy_type type, const char *value);

/* The microseconds since 2000-01-01 00:00:00 UTC of a canonical timestamp text, rounded as
 * PostgreSQL rounds a fraction finer than a microsecond. Returns 0, or -1 when not canonical. */
int copy_binary_timestamp(const char *text, int64_t *out);

#endif

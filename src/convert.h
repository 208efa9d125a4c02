/* convert.h -- upstream JSON scalars to the canonical text of their PostgreSQL column.
 *
 * The Analytics API sends timestamps as RFC 3339 strings, protobuf {seconds, nanos}
 * objects or epoch seconds, with a Go zero time for "not set", and 64-bit integers as JSON
 * numbers or decimal strings. These functions validate strictly (so PostgreSQL never
 * rejects what store sends) and write canonical text; extract decides what to do with an
 * invalid value (NULL in the column, the original in `extra`). Pure functions, no allocation.
 */
#ifndef LK_CONVERT_H
#define LK_CONVERT_H

#include <stddef.h>
#include <stdint.h>

enum convert_result {
    CONVERT_INVALID = -1, /* not a value of this type: store NULL, keep the original */
    CONVERT_UNSET = 0,    /* a "not set" form (empty, zero time, epoch 0): store NULL */
    CONVERT_OK = 1        /* out holds the canonical text */
};

/* "YYYY-MM-DD HH:MM:SS.fffffffff+00" and a NUL */
#define CONVERT_TIMESTAMP_MAX 40
/* "-9223372036854775808" and a NUL */
#define CONVERT_INT_MAX 24

/* An RFC 3339 timestamp ("2026-11-27T10:00:00Z", fraction and +hh:mm offset allowed, 'T' or
 * space), a decimal epoch-seconds string, "" or the Go zero time "0001-01-01T00:00:00Z".
 * The offset is applied (output is UTC); fraction digits (at most 9) are kept as sent. */
enum convert_result convert_timestamp_text(const char *text, size_t len,
                                           char out[CONVERT_TIMESTAMP_MAX]);

/* Epoch seconds as JSON number text, e.g. "1764237600" or "1764237600.25". 0 is unset. */
enum convert_result convert_timestamp_epoch(const char *text, size_t len,
                                            char out[CONVERT_TIMESTAMP_MAX]);

/* A protobuf Timestamp object: seconds (decimal text, may be NULL = 0) and nanos (decimal
 * text 0..999999999, may be NULL = 0). {0, 0} is unset. */
enum convert_result convert_timestamp_parts(const char *seconds, size_t seconds_len,
                                            const char *nanos, size_t nanos_len,
                                            char out[CONVERT_TIMESTAMP_MAX]);

/* A decimal integer (optional '-', digits only) within [min, max]; out gets it without
 * leading zeros. Never CONVERT_UNSET. */
enum convert_result convert_integer(const char *text, size_t len, int64_t min, int64_t max,
                                    char out[CONVERT_INT_MAX]);

/* Whether text is a number PostgreSQL's numeric, and so jsonb, holds: the JSON number grammar
 * (leading zeros allowed; no '+', no bare '.', no NaN or Infinity) within numeric's limits,
 * exactly as PostgreSQL 15 judges them: at most 16383 digits after the point counting those
 * an exponent adds or removes (1e-16384 and 1.(16384 zeros) are refused), a first non-zero
 * digit no higher than 10^131071, an exponent within +-1073741822. Never CONVERT_UNSET. */
enum convert_result convert_numeric(const char *text, size_t len);

/* Decimal text of value without leading zeros, and a NUL, into out (at least 21 bytes).
 * Written by hand: it runs for several values of every staged row. Cannot fail. */
void convert_format_unsigned(char *out, uint64_t value);

#endif

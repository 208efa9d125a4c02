/* extract_internal.h -- what the extract_*.c files share; no other module includes it.
 *
 * The parser keeps a stack of frames, one per open JSON container; each frame points at the
 * struct scope_def that says what the container is: its known keys, the record they fill,
 * what its close does. The two bodies own their scopes: extract_list.c ({"sessions": [...]})
 * and extract_details.c (a session, its participants, their publishedSources and
 * connections). extract_sax.c is the yajl plumbing (callbacks, frames, depth, captured
 * values), extract_record.c builds the records (converted columns, the `extra` object,
 * emission), extract.c is the public API and the token-length guard.
 *
 * Invariants: a function returning int 1/0 returns 0 only after ex->rc and ex->err are set
 * (extract_fail, or the sink's error through extract_emit), which stops yajl; every string
 * stored or re-serialized has U+0000 replaced by U+FFFD.
 */
#ifndef LK_EXTRACT_INTERNAL_H
#define LK_EXTRACT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "extract.h"
#include "records.h"

struct extract;
struct scope_def;

enum field_type {
    FT_TEXT,
    FT_TIMESTAMP,
    FT_INT64,
    FT_INT32,
    FT_INT16,
    FT_NUMERIC,
    FT_BOOL,
    FT_SESSION_ID, /* details roomId: checked against the id asked for */
    FT_IGNORED,    /* known and redundant (participant roomId) */
    FT_CHILD       /* a container with its own scope */
};

enum json_kind { JK_NULL, JK_BOOL, JK_NUMBER, JK_STRING };

/* One known key of an object scope; a table of them ends with a NULL key. */
struct field_spec {
    const char *key;
    int column; /* in the scope's record */
    enum field_type type;
    const struct scope_def *child; /* FT_CHILD: the scope of the container it opens */
};

#define SCOPE_NO_RECORD (-1)

/* What one kind of JSON container is. An object scope has `fields`; an array scope has not,
 * and holds `entry` objects. */
struct scope_def {
    const char *name;                 /* objects: prefix of unknown-field paths */
    const struct field_spec *fields;  /* objects: the known keys; NULL: an array */
    int record;                       /* objects: the record kind it fills, or SCOPE_NO_RECORD
                                         (then unknown fields are reported and dropped) */
    bool nested_extra;                /* unknown members go to ex->nested_extra */
    const char *bad_child;            /* no record: the error for a known child of wrong type */
    const struct scope_def *entry;    /* arrays: the scope of each entry */
    const char *entry_not_object;     /* arrays: the error for an entry that is a scalar */
    int (*close)(struct extract *ex); /* objects, optional: the object closed (1, or 0) */
};

/* The container a body starts with. */
struct body_def {
    const char *name;                    /* "list", "details": for messages */
    const struct scope_def *root_object; /* the body is an object */
    const struct scope_def *root_array;  /* the body is an array; NULL: not allowed */
    bool needs_record;                   /* a body without a record is an error */
};

extern const struct body_def extract_list_body;
extern const struct body_def extract_details_body;

/* A record under construction: owned value strings and a generator for `extra`. */
struct builder {
    char *values[RECORD_MAX_COLUMNS];
    yajl_gen extra;
    bool extra_open;
    char bad_fields[256]; /* names of fields that could not be converted, for one warning */
};

struct buffered_connection {
    char *values[CN_COUNT];
    char *extra;
};

struct frame {
    const struct scope_def *scope;
    const struct field_spec *field; /* the current key's spec; NULL when unknown */
    char *key;                      /* the current key, cleaned (owned) */
    size_t index;                   /* array frames: elements seen */
};

/* The value being forwarded to a generator (unknown field, bad container, timestamp object). */
struct capture {
    bool active;
    yajl_gen gen; /* NULL: discard */
    int depth;    /* containers open inside the captured value */
    bool timestamp_object;
    bool timestamp_valid;
    int timestamp_key; /* 0 other, 1 seconds, 2 nanos */
    char *seconds;
    char *nanos;
    struct builder *owner; /* timestamp object: where the value or the original goes */
    int column;
    char *key;
    const struct scope_def *scope;
};

struct extract {
    const struct body_def *body;
    char *session_id;
    struct extract_limits limits;
    struct record_sink sink;
    yajl_handle parser;
    struct lk_error *err; /* the caller's, during feed/finish */
    int rc;

    struct frame *frames; /* limits.max_depth + 2 of them (the stack never goes deeper) */
    int frame_capacity;
    int frame_count;
    int depth;
    struct capture cap;
    yajl_gen scratch; /* timestamp objects are captured here first */

    struct builder builders[RECORD_KIND_COUNT];
    /* unknown members of a record's nested object (a participant's publishedSources), spliced
     * into the record's extra when it closes */
    yajl_gen nested_extra;
    bool nested_extra_open;
    /* a participant's connections, held until the participant closes */
    struct buffered_connection *connections;
    size_t connection_count, connection_capacity;

    size_t records;
    size_t bytes_before_chunk;
    /* token scanner state, across chunks */
    bool in_string, escaped;
    size_t token_len;
};

/* The innermost open container (the stack is not empty). */
static inline struct frame *extract_top(struct extract *ex)
{
    return &ex->frames[ex->frame_count - 1];
}

/* The index of the array entry that is closing (its array is the frame below the top). */
static inline size_t extract_entry_index(const struct extract *ex)
{
    return ex->frames[ex->frame_count - 2].index;
}

/* ---- extract_sax.c ---- */

extern const yajl_callbacks extract_callbacks;

/* Drop the captured value's state. Cannot fail. */
void extract_capture_reset(struct capture *cap);

/* ---- extract_record.c ---- */

/* The first error of the parse: set ex->rc and ex->err (printf-style message) unless one is
 * set already. Returns 0, which stops yajl. */
int extract_fail(struct extract *ex, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Heap copy with U+0000 replaced by U+FFFD; *out_len (may be NULL) gets its length. NULL when
 * out of memory. */
char *extract_clean_copy(const unsigned char *text, size_t len, size_t *out_len);

/* Emit a JSON string with U+0000 replaced by U+FFFD. 0, or -1 on failure. */
int extract_gen_clean_string(yajl_gen gen, const unsigned char *text, size_t len);

/* A generator that does not re-validate UTF-8 (yajl's parser did). NULL when out of memory. */
yajl_gen extract_gen_new(void);

/* Empty gen for a new value; NULL is a no-op. */
void extract_gen_reset(yajl_gen gen);

/* Emit `key` as a map key into gen. 0, or -1 (also when gen is NULL). */
int extract_gen_key(yajl_gen gen, const char *key);

/* Re-emit the JSON value `text` (made by our own generator) into dst. 0, or -1. */
int extract_splice_json(yajl_gen dst, const unsigned char *text, size_t len);

/* Free the values, empty the extra object and the noted bad fields. Cannot fail. */
void extract_builder_reset(struct builder *b);

/* Replace (and free) the value of column. */
void extract_set_value(struct builder *b, int column, char *value);

/* Remember a field that could not be converted, for the record's one warning. */
void extract_note_bad_field(struct builder *b, const char *key);

/* The builder scope's fields go to; NULL for a scope without a record. */
struct builder *extract_builder_for(struct extract *ex, const struct scope_def *scope);

/* The open `extra` object for unknown fields of scope; NULL: none or out of memory. */
yajl_gen extract_extra_for(struct extract *ex, const struct scope_def *scope);

/* Tell the sink about an unknown field ("participant.foo"). */
void extract_report_unknown(struct extract *ex, const struct scope_def *scope, const char *key);

/* The finished `extra` JSON text of a builder's generator ("{}" when nothing was kept). */
const char *extract_finish_extra(yajl_gen gen, bool open);

/* Hand one record to the sink. 1, or 0 with the sink's error in ex->rc. */
int extract_emit(struct extract *ex, enum record_kind kind, char *const *values, const char *extra);

/* One warning per record naming the fields that could not be converted. */
void extract_warn_bad_fields(const struct builder *b, const char *what, const char *id);

/* The builder of kind to the sink, after its warning (what and id name the record). The
 * builder is not reset. 1, or 0 with ex->rc set. */
int extract_emit_builder(struct extract *ex, enum record_kind kind, const char *what,
                         const char *id);

/* Emit a scalar as it came (NUL cleaned) into gen. 0, or -1. */
int extract_gen_scalar(yajl_gen gen, enum json_kind kind, const char *text, size_t len);

/* A scalar value for the current key of the top frame, an object scope. 1, or 0. */
int extract_scalar_in_map(struct extract *ex, enum json_kind kind, const char *text, size_t len);

/* ---- extract_details.c ---- */

/* Free the buffered connections of the current participant. Cannot fail. */
void extract_drop_connections(struct extract *ex);

#endif

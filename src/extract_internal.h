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
 * past the callbacks is valid UTF-8 without NUL (extract.c rewrites NUL and lone surrogate
 * escapes to \uFFFD before yajl, the callbacks repair raw bytes with utf8_clean); every number
 * written to a generator is one jsonb holds, or a string.
 */
#ifndef LK_EXTRACT_INTERNAL_H
#define LK_EXTRACT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "extract.h"
#include "records.h"

struct extract;
struct scope_def;

/* A growable byte buffer owned by the extractor. */
struct byte_buf {
    char *data;
    size_t len, cap;
};

enum field_type {
    FT_TEXT,
    FT_TIMESTAMP,
    FT_INT64,
    FT_BYTES, /* bigint, not negative: a byte count */
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

/* Hashes of (scope, key) of a record's unknown keys: open addressing, 0 = empty slot. */
struct key_set {
    uint64_t *slots;
    size_t capacity, count;
};

/* A record under construction: owned value strings and a generator for `extra`. */
struct builder {
    char *values[RECORD_MAX_COLUMNS];
    size_t held;          /* bytes of the values and the key set, for max_record_bytes */
    size_t *record_bytes; /* the extractor's sum of what its builders and connections hold */
    yajl_gen extra;
    bool extra_open;
    char bad_fields[256];      /* names of fields that could not be converted, for one warning */
    char repeated_fields[256]; /* names of keys repeated in one object, for the same warning */
    struct key_set unknown_keys;
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
    uint32_t seen;                  /* objects: bit i = fields[i] was a key already */
    uint32_t kept;                  /* objects: bit i = a value of fields[i] went to extra */
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
    size_t gen_bytes; /* memory the generators hold (their allocator counts it) */

    struct builder builders[RECORD_KIND_COUNT];
    /* unknown members of a record's nested object (a participant's publishedSources), spliced
     * into the record's extra when it closes */
    yajl_gen nested_extra;
    bool nested_extra_open;
    /* a participant's connections, held until the participant closes */
    struct buffered_connection *connections;
    size_t connection_count, connection_capacity;
    size_t connection_bytes; /* their values and extra, for max_record_bytes */
    size_t record_bytes;     /* the builders' held and connection_bytes (extract_check_held) */

    size_t records;

    /* the stream scanner (extract.c), across chunks */
#define EXTRACT_CUT_MARKER "...[lkarchive: cut from %zu bytes]"
    size_t token_max; /* longest token: max_string_bytes, or max_record_bytes when smaller */
    bool in_string;
    bool string_high; /* the open string has a byte >= 0x80 */
    bool piece_high;  /* a string yajl may hand over from the current piece has one: only
                         then do the callbacks look for text to repair (no NUL gets that far) */
    size_t token_len;
    bool cutting;   /* the open string passed max_string_bytes: the rest of it is dropped and
                       a marker (EXTRACT_CUT_MARKER) with its length closes it */
    char carry[16]; /* the start of an escape cut by the end of the last piece, not yet fed */
    size_t carry_len;
    size_t scanned;    /* stream offset of the first byte after the last piece (carry excluded) */
    size_t body_bytes; /* bytes of the body fed so far */
    size_t fed;        /* bytes given to yajl so far (rewritten), for its error offsets */
    struct byte_buf work;  /* a piece as rewritten for yajl */
    struct byte_buf join;  /* the carry and the next piece */
    struct byte_buf clean; /* a string of the callbacks, repaired (utf8_clean) */
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

/* NUL-terminated heap copy of text[0..len); NULL when out of memory. */
char *extract_copy(const char *text, size_t len);

/* A generator that does not re-validate UTF-8 (the callbacks repaired it) and counts its
 * memory in ex->gen_bytes. NULL when out of memory. */
yajl_gen extract_gen_new(struct extract *ex);

/* Empty *gen for a new value; one that grew large is freed instead (*gen NULL: make a new
 * one when needed). *gen NULL is a no-op. */
void extract_gen_reset(yajl_gen *gen);

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

/* The top frame's current key is a known key seen before in this object: name it in the
 * record's warning (or warn now in a scope without record). Cannot fail. */
void extract_note_repeated_key(struct extract *ex, const struct frame *top);

/* The top frame's current key is unknown: note it, and whether it repeats. 1, or 0. */
int extract_note_unknown_key(struct extract *ex, const struct frame *top);

/* Whether a value of the top frame's current (known) key went to extra already. */
bool extract_field_kept(const struct extract *ex);

/* A value of the top frame's current key goes to extra. Cannot fail. */
void extract_mark_kept(struct extract *ex);

/* 1, or 0 (LK_EAPI in ex->rc) when the records being built hold more than max_record_bytes:
 * values, what the generators hold (their content), buffered connections and key sets. */
int extract_check_held(struct extract *ex);

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

/* Emit a scalar as it came into gen; a number jsonb cannot hold as a string of its text.
 * 0, or -1. */
int extract_gen_scalar(yajl_gen gen, enum json_kind kind, const char *text, size_t len);

/* A scalar value for the current key of the top frame, an object scope. 1, or 0. */
int extract_scalar_in_map(struct extract *ex, enum json_kind kind, const char *text, size_t len);
/* A string the scanner cut at max_string_bytes (extract.c) keeps its original length in the
 * record's extra, as "<key>.original_bytes": N; any other string adds nothing. 1, or 0 with
 * ex->rc set (out of memory). */
int extract_note_cut(struct extract *ex, const struct frame *top, const char *text, size_t len);

/* ---- extract_details.c ---- */

/* Free the buffered connections of the current participant. Cannot fail. */
void extract_drop_connections(struct extract *ex);

#endif

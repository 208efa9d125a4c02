/* sim_json.h -- JSON text for the simulator: string escapes, the output pipeline, serialisers.
 *
 * Bytes flow: a serialiser (sim_json_details, sim_json_list_session...) writes compact JSON
 * into a struct sim_out, which optionally re-spaces it (quirk `pretty`), optionally gzips it
 * (quirk `gzip`), and appends the result to a growable buffer the HTTP layer drains with
 * sim_out_take. A list page is produced session by session, so a 50,000-session page never
 * sits in memory whole. Records come from sim_dataset; the serialiser only orders keys
 * (quirk `shuffled-keys`) and expands nested members (participants, publishedSources,
 * sessions[]).
 */
#ifndef SIM_JSON_H
#define SIM_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef ZLIB_CONST
#define ZLIB_CONST /* next_in is const: the pipeline never writes its input */
#endif
#include <zlib.h>

#include "sim_dataset.h"

/* Decodes the body of a JSON string literal (no quotes; escapes valid) into out, which must
 * hold len bytes; U+0000 becomes U+FFFD, as the archive stores it. Returns the length. */
size_t sim_json_unescape(char *out, const char *lit, size_t len);
/* Escapes s for a JSON string body into out, which must hold 6 * len bytes: `"`, `\` and
 * control characters are escaped, other bytes copied. Returns the length. */
size_t sim_json_escape(char *out, const char *s, size_t len);

/* The output pipeline. init/dispose; a failed write sets `failed` and later writes no-op. */
struct sim_out {
    char *buf;
    size_t len, cap, off; /* buf[off..len) is ready to send */
    bool pretty, gzip, failed, finished;
    int depth;
    bool in_string, escaped;
    bool z_ready;
    z_stream z;
};

/* 0, or -1 when zlib cannot start (out of memory). */
int sim_out_init(struct sim_out *o, bool pretty, bool gzip);
void sim_out_dispose(struct sim_out *o); /* cannot fail */
void sim_out_write(struct sim_out *o, const char *p, size_t n);
void sim_out_puts(struct sim_out *o, const char *s);
/* Ends the body (flushes gzip). Writes after it are a programmer error. */
void sim_out_finish(struct sim_out *o);
size_t sim_out_pending(const struct sim_out *o);
/* Copies up to max ready bytes to dst and consumes them; returns the count. */
size_t sim_out_take(struct sim_out *o, char *dst, size_t max);

/* Scratch records for serialising one session. init/dispose, reused across sessions. */
struct sim_gen {
    struct sim_record top, part, pub, conn;
    struct sim_participant p;
};

void sim_gen_init(struct sim_gen *g);
void sim_gen_dispose(struct sim_gen *g);

/* One list entry / one details body as compact JSON into o. 0, or -1 when out of memory. */
int sim_json_list_session(struct sim_out *o, struct sim_gen *g, const struct sim_session *s);
int sim_json_details(struct sim_out *o, struct sim_gen *g, const struct sim_session *s);

#endif

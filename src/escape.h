/* escape.h -- text from outside (the API, the database, libpq) made safe for a terminal or a
 * log line: nothing in it can move the cursor, repaint the screen or start a new line.
 */
#ifndef LK_ESCAPE_H
#define LK_ESCAPE_H

#include <stddef.h>

/* Copy in[0..len) into out (size bytes, always NUL-terminated unless size is 0), with every
 * control character (C0, DEL and the C1 range U+0080..U+009F) and every byte that is not
 * well-formed UTF-8 written as a visible escape ("\n", "\r", "\t", "\xNN"), and every bidi
 * control (U+202A..U+202E, U+2066..U+2069) as "\uXXXX". When more than
 * max_bytes of input would be copied, or out fills up, the rest is cut and a marker
 * "...[N more bytes]" says how much. Returns out. Cannot fail. */
const char *escape_text(char *out, size_t size, const char *in, size_t len, size_t max_bytes);

#endif

/* utf8.h -- strict UTF-8 validation (RFC 3629): the one decoder lkarchive trusts.
 *
 * Well-formed means what PostgreSQL's UTF8 encoding accepts: no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no stray continuation bytes.
 */
#ifndef LK_UTF8_H
#define LK_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the well-formed sequence at text[0..avail), or 0 when the bytes there are
 * not one (avail 0 included). *code_point_out (may be NULL) gets its code point. */
size_t utf8_sequence(const char *text, size_t avail, uint32_t *code_point_out);

#endif

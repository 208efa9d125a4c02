/* utf8.h -- strict UTF-8 validation (RFC 3629): the one decoder lkarchive trusts.
 *
 * Well-formed means what PostgreSQL's UTF8 encoding accepts: no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no stray continuation bytes.
 * utf8_clean makes any bytes text PostgreSQL accepts: each maximal ill-formed subpart
 * (Unicode 15, section 3.9, "U+FFFD substitution of maximal subparts") and each NUL, which a
 * text value cannot hold, becomes U+FFFD; every well-formed character is kept.
 */
#ifndef LK_UTF8_H
#define LK_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The most bytes utf8_clean writes for len bytes of input (each byte may become U+FFFD). */
#define UTF8_CLEAN_MAX(len) ((len)*3)

/* Length (1..4) of the well-formed sequence at text[0..avail), or 0 when the bytes there are
 * not one (avail 0 included). *code_point_out (may be NULL) gets its code point. */
size_t utf8_sequence(const char *text, size_t avail, uint32_t *code_point_out);

/* Offset of the first byte utf8_clean would change (a NUL or the start of an ill-formed
 * sequence), or len when text[0..len) is clean already. ASCII is checked eight bytes at a
 * time. Cannot fail. */
size_t utf8_clean_prefix(const char *text, size_t len);

/* Where to cut text[0..len) to at most max bytes without ending inside a character: len when
 * it fits, else the largest offset <= max that is not on a continuation byte (0 at worst).
 * Cannot fail. */
size_t utf8_cut(const char *text, size_t len, size_t max);

/* Copy text[0..len) into out (room for UTF8_CLEAN_MAX(len) bytes; not NUL-terminated) with
 * each NUL and each maximal ill-formed subpart replaced by U+FFFD. Returns the length
 * written. Cannot fail. */
size_t utf8_clean(char *out, const char *text, size_t len);

#endif

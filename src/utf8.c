/* utf8.c -- strict UTF-8 decoding of one sequence, and cleaning text for PostgreSQL; see utf8.h.
 *
 * Table-free: the lead byte gives the length and the smallest code point that length may
 * carry (so overlong forms are refused); continuation bytes must be 10xxxxxx. Cleaning skips
 * clean ASCII eight bytes at a time (it runs over every string of every API response) and
 * replaces what is not well-formed by U+FFFD, one per maximal subpart, as browsers do.
 */
#include "utf8.h"

#include <string.h>

size_t utf8_sequence(const char *text, size_t avail, uint32_t *code_point_out)
{
    const unsigned char *p = (const unsigned char *)text;
    uint32_t code_point, smallest;
    size_t length;

    if (avail == 0)
        return 0;
    if (p[0] < 0x80) {
        length = 1, code_point = p[0], smallest = 0;
    } else if ((p[0] & 0xe0) == 0xc0) {
        length = 2, code_point = p[0] & 0x1fu, smallest = 0x80;
    } else if ((p[0] & 0xf0) == 0xe0) {
        length = 3, code_point = p[0] & 0x0fu, smallest = 0x800;
    } else if ((p[0] & 0xf8) == 0xf0) {
        length = 4, code_point = p[0] & 0x07u, smallest = 0x10000;
    } else {
        return 0; /* a continuation byte or 0xf8..0xff cannot lead */
    }
    if (length > avail)
        return 0;
    for (size_t i = 1; i < length; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        code_point = code_point << 6 | (p[i] & 0x3fu);
    }
    if (code_point < smallest || code_point > 0x10ffff ||
        (code_point >= 0xd800 && code_point <= 0xdfff))
        return 0;
    if (code_point_out)
        *code_point_out = code_point;
    return length;
}

/* How many bytes at p[0..avail) are a prefix of some well-formed sequence (at least 1): the
 * "maximal subpart" that one U+FFFD replaces when the whole sequence is not there. The ranges
 * of the second byte are those of Unicode's table 3-7 (they exclude overlong forms,
 * surrogates and code points above U+10FFFF). */
static size_t maximal_subpart(const unsigned char *p, size_t avail)
{
    unsigned char lo = 0x80, hi = 0xbf;
    size_t length, i;

    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        length = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        length = 3;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        length = 4;
    else
        return 1; /* 0x80..0xc1, 0xf5..0xff never start a sequence */
    if (p[0] == 0xe0)
        lo = 0xa0;
    else if (p[0] == 0xed)
        hi = 0x9f;
    else if (p[0] == 0xf0)
        lo = 0x90;
    else if (p[0] == 0xf4)
        hi = 0x8f;
    for (i = 1; i < length && i < avail; i++) {
        if (p[i] < lo || p[i] > hi)
            break;
        lo = 0x80, hi = 0xbf;
    }
    return i;
}

size_t utf8_clean_prefix(const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t pos = 0, seq;

    while (pos < len) {
        /* the usual case: runs of ASCII without NUL, eight bytes at a time */
        while (pos + 8 <= len) {
            uint64_t word;
            memcpy(&word, p + pos, 8);
            /* a byte >= 0x80, or a zero byte (the classic haszero bit trick) */
            if ((word & 0x8080808080808080ULL) ||
                ((word - 0x0101010101010101ULL) & ~word & 0x8080808080808080ULL))
                break;
            pos += 8;
        }
        if (pos == len)
            break;
        if (p[pos] == 0)
            return pos;
        if (p[pos] < 0x80) {
            pos++;
            continue;
        }
        seq = utf8_sequence(text + pos, len - pos, NULL);
        if (seq == 0)
            return pos;
        pos += seq;
    }
    return len;
}

size_t utf8_clean(char *out, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t pos = 0, written = 0;

    while (pos < len) {
        size_t clean = utf8_clean_prefix(text + pos, len - pos);
        memcpy(out + written, text + pos, clean);
        written += clean;
        pos += clean;
        if (pos == len)
            break;
        memcpy(out + written, "\xEF\xBF\xBD", 3);
        written += 3;
        pos += p[pos] == 0 ? 1 : maximal_subpart(p + pos, len - pos);
    }
    return written;
}

size_t utf8_cut(const char *text, size_t len, size_t max)
{
    const unsigned char *p = (const unsigned char *)text;

    if (len <= max)
        return len;
    while (max > 0 && (p[max] & 0xc0) == 0x80)
        max--;
    return max;
}

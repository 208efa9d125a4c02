/* utf8.c -- strict UTF-8 decoding of one sequence; see utf8.h.
 *
 * Table-free: the lead byte gives the length and the smallest code point that length may
 * carry (so overlong forms are refused); continuation bytes must be 10xxxxxx.
 */
#include "utf8.h"

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

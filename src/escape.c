/* escape.c -- visible escapes for untrusted text; see escape.h.
 *
 * Walks the input one UTF-8 sequence at a time: printable sequences are copied whole,
 * anything else becomes an escape (a bidi control as "\u202e"). The output is reserved room for the
 * cut marker, so a cut line still says it was cut.
 */
#include "escape.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

/* Room kept at the end of out for "...[NNNNNNNNNNNNNNNNNNNN more bytes]". */
#define CUT_MARKER_ROOM 40

static bool is_control(uint32_t code_point)
{
    return code_point < 0x20 || (code_point >= 0x7f && code_point <= 0x9f);
}

/* The bidirectional embedding, override and isolate controls (U+202A..U+202E, U+2066..U+2069):
 * printed raw they reorder what follows on the line ("Trojan Source"), so a log line or a
 * status row could show a forged text. */
static bool is_bidi_control(uint32_t code_point)
{
    return (code_point >= 0x202a && code_point <= 0x202e) ||
           (code_point >= 0x2066 && code_point <= 0x2069);
}

/* The escape of one byte that is a control character or not UTF-8: "\n" or "\xNN". */
static size_t escape_byte(unsigned char byte, char out[5])
{
    switch (byte) {
    case '\n':
        memcpy(out, "\\n", 2);
        return 2;
    case '\r':
        memcpy(out, "\\r", 2);
        return 2;
    case '\t':
        memcpy(out, "\\t", 2);
        return 2;
    default:
        snprintf(out, 5, "\\x%02x", byte);
        return 4;
    }
}

const char *escape_text(char *out, size_t size, const char *in, size_t len, size_t max_bytes)
{
    size_t used = 0, pos = 0, room;

    if (size == 0)
        return out;
    room = size > CUT_MARKER_ROOM ? size - CUT_MARKER_ROOM : 0;
    while (pos < len && pos < max_bytes) {
        uint32_t code_point = 0;
        size_t seq = utf8_sequence(in + pos, len - pos, &code_point);
        char piece[8];
        const char *from = in + pos;
        size_t piece_len = seq;

        if (seq == 0 || is_control(code_point)) {
            /* a C1 control is two bytes in UTF-8: escape both, one at a time */
            piece_len = escape_byte((unsigned char)in[pos], piece);
            from = piece;
            seq = 1;
        } else if (is_bidi_control(code_point)) {
            piece_len = (size_t)snprintf(piece, sizeof piece, "\\u%04x", (unsigned)code_point);
            from = piece;
        }
        if (used + piece_len >= room || pos + seq > max_bytes)
            break;
        memcpy(out + used, from, piece_len);
        used += piece_len;
        pos += seq;
    }
    if (pos < len)
        snprintf(out + used, size - used, "...[%zu more bytes]", len - pos);
    else
        out[used] = '\0';
    return out;
}

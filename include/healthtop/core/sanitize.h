/* Untrusted bytes → printable UTF-8 (pure). */
#ifndef HEALTHTOP_SANITIZE_H
#define HEALTHTOP_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>

/* Copies at most outsize-1 bytes of `in` into `out`, always NUL-terminated and always valid,
 * printable UTF-8: C0 controls (ESC included), DEL, C1 controls, bidi overrides, invalid or
 * overlong UTF-8 and NUL become U+FFFD (or '?' when ascii_only, which also maps every non-ASCII
 * character to '?'). Tab and newlines become a space. Never splits a character.
 * Returns the number of bytes written (without the NUL). */
size_t sanitize_text(const char *in, size_t inlen, char *out, size_t outsize, bool ascii_only);

/* True when `s` (NUL-terminated) needs no change by sanitize_text(). */
bool sanitize_is_clean(const char *s);

#endif

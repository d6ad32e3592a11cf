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

/* The longest prefix of s[0..len) of at most max bytes that ends on a character boundary. */
size_t sanitize_cut(const char *s, size_t len, size_t max);

/* Drops a UTF-8 character cut short at the end of `s`, as snprintf leaves one when it truncates;
 * valid text is left as it is. */
void sanitize_trim_cut(char *s);

/* A URL (or any text) with every byte outside printable ASCII, and '"' and '\\', written as %XX:
 * safe to show and to store, and still the same URL. Cut at outsize-1 bytes, never inside an
 * escape. Returns the bytes written. */
size_t sanitize_url(const char *in, char *out, size_t outsize);

/* `url` with the password of its user info replaced by "***" (http://user:***@host); works on
 * text that is not a valid URL too, for error messages. Returns the bytes written. */
size_t sanitize_mask_password(const char *url, char *out, size_t outsize);

#endif

/* Where in a JSON text a value lives, for error messages that name FILE:LINE (pure). */
#ifndef HEALTHTOP_JSONPOS_H
#define HEALTHTOP_JSONPOS_H

#include <stdbool.h>
#include <stddef.h>

/* Line and column (1-based) of byte offset `off` in `text`. */
void jsonpos_offset(const char *text, size_t len, size_t off, int *line, int *col);

/* Line of the value at `path` ("targets[3].timeout_ms", "defaults.path", "" for the root) in a
 * syntactically valid JSON text. Returns the line, or 0 when the path is not there. */
int jsonpos_line(const char *text, size_t len, const char *path);

/* Offset of the first control byte outside a string other than JSON's whitespace (space, tab,
 * CR, LF), or len when there is none. cJSON would skip such bytes as if they were spaces. */
size_t jsonpos_stray_control(const char *text, size_t len);

/* True when cJSON rejects `text` only because it ends too early (an object or array left open),
 * as a file cut short by an editor or a half-finished copy does. */
bool jsonpos_ends_early(const char *text, size_t len);

/* The string at `path` of a JSON text that may be cut short (a body over the size we keep), as
 * long as the string itself is whole, has no escapes and fits `size` with its NUL.
 * Returns 0, or -1 when there is no such string. */
int jsonpos_string_at(const char *text, size_t len, const char *path, char *out, size_t size);

#endif

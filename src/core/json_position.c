#include "autoconfig.h"
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/json_position.h"

/* A tiny walker over text that cJSON already accepted, used only to turn a field path into a
 * line number for error messages. It never allocates, and every step either moves forward or
 * gives up, so no input can make it spin. */

struct walker {
	const char *p;
	const char *end;
};

/* cJSON skips every byte up to 0x20 as whitespace; the walker must agree or it loses its place. */
static bool is_ws(char ch)
{
	return (unsigned char)ch <= 0x20 && ch != '\0';
}

static void skip_ws(struct walker *w)
{
	while (w->p < w->end && is_ws(*w->p))
		w->p++;
}

static int skip_string(struct walker *w)
{
	if (w->p >= w->end || *w->p != '"')
		return -1;
	for (w->p++; w->p < w->end; w->p++) {
		if (*w->p == '\\')
			w->p++;
		else if (*w->p == '"') {
			w->p++;
			return 0;
		}
	}
	return -1;
}

static int skip_value(struct walker *w, int depth)
{
	char open, close;

	skip_ws(w);
	if (w->p >= w->end || depth > 1000)
		return -1;
	if (*w->p == '"')
		return skip_string(w);
	if (*w->p != '{' && *w->p != '[') {
		const char *start = w->p;
		while (w->p < w->end && *w->p != '\0' && !strchr(",]}:", *w->p) && !is_ws(*w->p))
			w->p++;
		return w->p > start ? 0 : -1;   /* no scalar here: the text is not what we think */
	}
	open = *w->p;
	close = open == '{' ? '}' : ']';
	w->p++;
	for (;;) {
		skip_ws(w);
		if (w->p >= w->end)
			return -1;
		if (*w->p == close) {
			w->p++;
			return 0;
		}
		if (*w->p == ',') {
			w->p++;
			continue;
		}
		if (open == '{') {
			if (skip_string(w) < 0)
				return -1;
			skip_ws(w);
			if (w->p >= w->end || *w->p != ':')
				return -1;
			w->p++;
		}
		if (skip_value(w, depth + 1) < 0)
			return -1;
	}
}

/* Moves w to the value at path; path segments are "key", ".key" or "[n]". */
static int descend(struct walker *w, const char *path)
{
	skip_ws(w);
	if (*path == '.')
		path++;
	if (*path == '\0')
		return 0;
	if (*path == '[') {
		char *after;
		long idx = strtol(path + 1, &after, 10);

		if (*after != ']' || w->p >= w->end || *w->p != '[')
			return -1;
		w->p++;
		for (long i = 0; i < idx; i++) {
			if (skip_value(w, 0) < 0)
				return -1;
			skip_ws(w);
			if (w->p >= w->end || *w->p != ',')
				return -1;
			w->p++;
		}
		return descend(w, after + 1);
	}
	size_t klen = strcspn(path, ".[");
	if (w->p >= w->end || *w->p != '{')
		return -1;
	w->p++;
	for (;;) {
		skip_ws(w);
		if (w->p >= w->end || *w->p == '}')
			return -1;
		if (*w->p == ',') {
			w->p++;
			continue;
		}
		const char *key = w->p + 1;
		if (skip_string(w) < 0)
			return -1;
		size_t len = (size_t)(w->p - 1 - key);
		skip_ws(w);
		if (w->p >= w->end || *w->p != ':')
			return -1;
		w->p++;
		if (len == klen && memcmp(key, path, klen) == 0)
			return descend(w, path + klen);
		if (skip_value(w, 0) < 0)
			return -1;
	}
}

void jsonpos_offset(const char *text, size_t len, size_t off, int *line, int *col)
{
	int l = 1, c = 1;

	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			l++;
			c = 1;
		} else {
			c++;
		}
	}
	*line = l;
	*col = c;
}

int jsonpos_line(const char *text, size_t len, const char *path)
{
	struct walker w = { text, text + len };
	int line, col;

	if (descend(&w, path) < 0)
		return 0;
	skip_ws(&w);
	jsonpos_offset(text, len, (size_t)(w.p - text), &line, &col);
	return line;
}

size_t jsonpos_stray_control(const char *text, size_t len)
{
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (in_string) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_string = false;
		} else if (ch == '"') {
			in_string = true;
		} else if (ch < 0x20 && ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
			return i;
		}
	}
	return len;
}

int jsonpos_string_at(const char *text, size_t len, const char *path, char *out, size_t size)
{
	struct walker w = { text, text + len };

	if (size == 0 || descend(&w, path) < 0)
		return -1;
	skip_ws(&w);
	if (w.p >= w.end || *w.p != '"')
		return -1;
	const char *start = w.p + 1;
	const char *close = memchr(start, '"', (size_t)(w.end - start));
	size_t n = close ? (size_t)(close - start) : 0;
	if (!close || memchr(start, '\\', n) || n >= size)
		return -1;   /* cut off, escaped or too long: not a word we could trust */
	memcpy(out, start, n);
	out[n] = '\0';
	return 0;
}

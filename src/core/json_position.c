#include "autoconfig.h"
#include <cjson/cJSON.h>
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

static int hex4(const char *p, const char *end, unsigned *out)
{
	char buf[5];
	char *stop;

	if (end - p < 4)
		return -1;
	memcpy(buf, p, 4);
	buf[4] = '\0';
	*out = (unsigned)strtoul(buf, &stop, 16);
	return stop == buf + 4 ? 0 : -1;
}

/* Decodes one character of a JSON string at *p into UTF-8 (as cJSON stores keys); returns its
 * length in out, or 0 when the text is not what cJSON would have accepted. */
static size_t decode_char(const char **p, const char *end, char out[4])
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	unsigned cp, lo;

	if (**p != '\\') {
		out[0] = *(*p)++;
		return 1;
	}
	if (end - *p < 2)
		return 0;
	const char *e = strchr(from, (*p)[1]);
	if (e && (*p)[1]) {
		out[0] = to[e - from];
		*p += 2;
		return 1;
	}
	if ((*p)[1] != 'u' || hex4(*p + 2, end, &cp) < 0)
		return 0;
	*p += 6;
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (end - *p < 6 || (*p)[0] != '\\' || (*p)[1] != 'u' || hex4(*p + 2, end, &lo) < 0)
			return 0;
		*p += 6;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Whether the JSON key text [key, end) (between its quotes) is `want` once decoded. */
static bool key_is(const char *key, const char *end, const char *want, size_t wlen)
{
	size_t matched = 0;

	while (key < end) {
		char ch[4];
		size_t n = decode_char(&key, end, ch);
		if (n == 0 || matched + n > wlen || memcmp(want + matched, ch, n) != 0)
			return false;
		matched += n;
	}
	return matched == wlen;
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
		if (key_is(key, key + len, path, klen))
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

/* cJSON blames the last byte of a text cut short, so the message would quote that byte (`near
 * " "`). Parsed once more with a space appended, only such a text fails past its original end. */
bool jsonpos_ends_early(const char *text, size_t len)
{
	const char *end = NULL;
	char *copy = malloc(len + 1);

	if (!copy)
		return false;
	memcpy(copy, text, len);
	copy[len] = ' ';
	cJSON *root = cJSON_ParseWithLengthOpts(copy, len + 1, &end, false);
	bool early = !root && end && (size_t)(end - copy) >= len;
	cJSON_Delete(root);
	free(copy);
	return early;
}

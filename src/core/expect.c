#include "autoconfig.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "healthtop/core/expect.h"
#include "healthtop/core/sanitize.h"

static int parse_code(const char *s, const char **end)
{
	int v = 0, digits = 0;

	while (*s >= '0' && *s <= '9' && digits < 4) {
		v = v * 10 + (*s++ - '0');
		digits++;
	}
	*end = s;
	return digits == 3 ? v : -1;
}

int expect_status_parse(const char *s, struct status_range *out)
{
	const char *p;
	int lo, hi;

	if (strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' && strcmp(s + 1, "xx") == 0) {
		out->lo = (s[0] - '0') * 100;
		out->hi = out->lo + 99;
		return 0;
	}
	lo = parse_code(s, &p);
	if (lo < 0)
		return -1;
	if (*p == '\0') {
		hi = lo;
	} else if (*p == '-') {
		hi = parse_code(p + 1, &p);
		if (hi < 0 || *p != '\0')
			return -1;
	} else {
		return -1;
	}
	if (lo < 100 || hi > 599 || lo > hi)
		return -1;
	out->lo = lo;
	out->hi = hi;
	return 0;
}

bool expect_status_accepts(const struct expect_status *e, long code)
{
	if (!e || e->n == 0)
		return code >= 200 && code <= 299;
	for (size_t i = 0; i < e->n; i++)
		if (code >= e->r[i].lo && code <= e->r[i].hi)
			return true;
	return false;
}

int expect_json_pointer_valid(const char *s)
{
	if (s[0] == '\0')
		return 0;
	if (s[0] != '/')
		return -1;
	for (const char *p = s; *p; p++)
		if (*p == '~' && p[1] != '0' && p[1] != '1')
			return -1;
	return 0;
}

/* One reference token, unescaped (~1 is '/', ~0 is '~'), into buf; returns where the next starts.
 * A '~' that starts no escape (only an invalid pointer has one) stays itself and takes nothing
 * after it: stepping over the next byte blindly stepped over the terminator at "/a~". */
static const char *next_token(const char *p, char *buf, size_t size)
{
	size_t n = 0;

	for (; *p && *p != '/'; p++) {
		char c = *p;
		if (c == '~' && (p[1] == '0' || p[1] == '1')) {
			c = p[1] == '1' ? '/' : '~';
			p++;
		}
		if (n + 1 < size)
			buf[n++] = c;
	}
	buf[n] = '\0';
	return p;
}

static const cJSON *array_item(const cJSON *a, const char *tok)
{
	char *end;
	long i;

	if (!tok[0] || (tok[0] == '0' && tok[1]) || tok[0] < '0' || tok[0] > '9')
		return NULL;
	i = strtol(tok, &end, 10);
	if (*end || i < 0 || i > 1000000)
		return NULL;
	return cJSON_GetArrayItem(a, (int)i);
}

const cJSON *expect_json_lookup(const cJSON *root, const char *pointer)
{
	const cJSON *cur = root;
	const char *p = pointer;
	/* A token is never longer than the pointer: room for any, so a long key is matched whole,
	 * never cut to a prefix that names another key. */
	size_t room = strlen(pointer) + 1;
	char *tok = malloc(room);

	if (!tok)
		return NULL;
	while (cur && *p == '/') {
		p = next_token(p + 1, tok, room);
		if (cJSON_IsArray(cur))
			cur = array_item(cur, tok);
		else if (cJSON_IsObject(cur))
			cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
		else
			cur = NULL;
	}
	free(tok);
	return *p ? NULL : cur;
}

/* A short, clean rendering of a value for a reason line. */
static void describe(const cJSON *v, char *out, size_t size)
{
	char *text = v ? cJSON_PrintUnformatted(v) : NULL;

	if (!text) {
		snprintf(out, size, "missing");
		return;
	}
	sanitize_text(text, strlen(text), out, size, false);
	cJSON_free(text);
}

bool expect_json_holds(const cJSON *root, const struct expect_json *e, size_t n, char *why, size_t size)
{
	for (size_t i = 0; i < n; i++) {
		const cJSON *got = root ? expect_json_lookup(root, e[i].pointer) : NULL;
		char have[64], want[64], ptr[96];
		if (got && cJSON_Compare(got, e[i].want, 1))
			continue;
		describe(got, have, sizeof(have));
		describe(e[i].want, want, sizeof(want));
		sanitize_text(e[i].pointer, strlen(e[i].pointer), ptr, sizeof(ptr), false);
		if (!root)
			snprintf(why, size, "%s: body is not JSON, expected %s", ptr, want);
		else
			snprintf(why, size, "%s is %s, expected %s", ptr, have, want);
		return false;
	}
	return true;
}

#include "autoconfig.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "config_priv.h"

static bool is_token_char(unsigned char ch)
{
	return isalnum(ch) || strchr("!#$%&'*+-.^_`|~", ch);
}

/* ${VAR} → its value from the environment; anything else verbatim. */
static int expand_env(struct pctx *c, const char *path, const char *in, char **out)
{
	char buf[HEADER_VALUE_MAX + 1];
	size_t o = 0;

	for (const char *p = in; *p;) {
		const char *piece = p;
		size_t plen = 1;
		if (p[0] == '$' && p[1] == '{') {
			const char *end = strchr(p + 2, '}');
			size_t nlen = end ? (size_t)(end - p - 2) : 0;
			char name[128];
			if (!end || nlen == 0 || nlen >= sizeof(name))
				return config_fail(c, path, "unterminated or empty ${...}");
			memcpy(name, p + 2, nlen);
			name[nlen] = '\0';
			for (size_t i = 0; i < nlen; i++)
				if (!(isalnum((unsigned char)name[i]) || name[i] == '_'))
					return config_fail(c, path, "\"${%s}\" is not a variable name", name);
			piece = c->env ? c->env(name) : NULL;
			if (!piece)
				return config_fail(c, path, "environment variable %s is not set", name);
			plen = strlen(piece);
			p = end + 1;
		} else {
			p++;
		}
		if (o + plen > HEADER_VALUE_MAX)
			return config_fail(c, path, "value is longer than %d bytes", HEADER_VALUE_MAX);
		memcpy(buf + o, piece, plen);
		o += plen;
	}
	buf[o] = '\0';
	if (strpbrk(buf, "\r\n"))
		return config_fail(c, path, "value contains a line break");
	*out = strdup(buf);
	return *out ? 0 : config_fail(c, path, "out of memory");
}

/* Names given twice in one object (any case) are a mistake: which one would be sent? */
static int check_header_names(struct pctx *c, const cJSON *obj, const char *path)
{
	int n = cJSON_GetArraySize(obj);

	if (n > HT_HEADERS_MAX)
		return config_fail(c, path, "%d headers: at most %d are allowed", n, HT_HEADERS_MAX);
	for (const cJSON *h = obj->child; h; h = h->next)
		for (const cJSON *prev = obj->child; prev != h; prev = prev->next)
			if (strcasecmp(prev->string, h->string) == 0) {
				char sub[320];
				snprintf(sub, sizeof(sub), "%s.%s", path, h->string);
				return config_fail(c, sub, "header given twice (names are case-insensitive)");
			}
	return 0;
}

int config_add_headers(struct pctx *c, const cJSON *obj, const char *path, struct ht_probe_opts *t)
{
	if (check_header_names(c, obj, path) < 0)
		return -1;
	for (const cJSON *h = obj->child; h; h = h->next) {
		char sub[320];
		snprintf(sub, sizeof(sub), "%s.%s", path, h->string);
		if (h->string[0] == '\0')
			return config_fail(c, sub, "header name is empty");
		for (const char *p = h->string; *p; p++)
			if (!is_token_char((unsigned char)*p))
				return config_fail(c, sub, "header name has a character not allowed in HTTP");
		if (!cJSON_IsString(h))
			return config_fail(c, sub, "header value is not a string");
		if (strlen(h->valuestring) > HEADER_VALUE_MAX)
			return config_fail(c, sub, "value is longer than %d bytes", HEADER_VALUE_MAX);
		/* A target's header replaces the default of the same name. */
		size_t slot = t->nheaders;
		for (size_t i = 0; i < t->nheaders; i++)
			if (strcasecmp(t->headers[i].name, h->string) == 0)
				slot = i;
		char *value;
		if (expand_env(c, sub, h->valuestring, &value) < 0)
			return -1;
		if (slot == t->nheaders && t->nheaders == HT_HEADERS_MAX) {
			free(value);
			return config_fail(c, sub, "more than %d headers, defaults included", HT_HEADERS_MAX);
		}
		if (slot == t->nheaders) {
			struct ht_header *nh = realloc(t->headers, (t->nheaders + 1) * sizeof(*nh));
			if (!nh) {
				free(value);
				return config_fail(c, sub, "out of memory");
			}
			t->headers = nh;
			t->headers[slot].name = strdup(h->string);
			t->headers[slot].value = NULL;
			t->nheaders++;
		}
		free(t->headers[slot].value);
		t->headers[slot].value = value;
		if (!t->headers[slot].name)
			return config_fail(c, sub, "out of memory");
	}
	return 0;
}

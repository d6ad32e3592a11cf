/* config_parse() and the line walker (jsonpos_line, jsonpos_offset): any text is either a config
 * or one clean message naming the file; a secret from the environment never appears in it; and
 * every field cJSON found, the walker finds too. */
#include "autoconfig.h"
#include <cjson/cJSON.h>
#include "fuzz_util.h"
#include "healthtop/core/config.h"
#include "healthtop/core/json_position.h"

#define SECRET "FUZZ-SECRET-7f3a"
#define MAX_PATHS 64
#define PATH_ROOM 256

static const char *fake_env(const char *name)
{
	if (strcmp(name, "TOKEN") == 0)
		return SECRET;
	if (strcmp(name, "EMPTY") == 0)
		return "";
	return NULL;
}

/* The URL that is shown and stored carries no password: no ':' in the userinfo. */
static bool password_free(const char *url)
{
	const char *auth = strstr(url, "//");

	if (!auth)
		return true;
	auth += 2;
	size_t len = strcspn(auth, "/?#");
	const char *at = NULL;
	for (const char *p = auth; p < auth + len; p++)
		if (*p == '@')
			at = p;
	return !at || !memchr(auth, ':', (size_t)(at - auth));
}

static void check_config(const struct ht_config *cfg, bool secret_in_text)
{
	FUZZ_CHECK(cfg->ntargets == 0 || cfg->targets != NULL);
	for (size_t i = 0; i < cfg->ntargets; i++) {
		const struct ht_target *t = &cfg->targets[i];
		FUZZ_CHECK(t->name && t->url && t->check_url && t->display_url);
		FUZZ_CHECK(secret_in_text || !strstr(t->display_url, SECRET));
		FUZZ_CHECK(password_free(t->display_url));
		FUZZ_CHECK(t->interval_s > 0 && t->probe.timeout_ms > 0);
		FUZZ_CHECK(t->probe.nheaders == 0 || t->probe.headers != NULL);
	}
}

static void check_message(const struct ht_err *err, bool secret_in_text)
{
	FUZZ_CHECK(fuzz_terminated(err->msg, sizeof(err->msg)));
	FUZZ_CHECK(strncmp(err->msg, "fuzz.json", 9) == 0);
	/* fuzz/regressions/config/unknown-key-escape-in-message: a field path is sanitized before
	 * it reaches the message, whatever bytes the key held. */
	FUZZ_CHECK(!fuzz_has_control(err->msg, strlen(err->msg)));
	/* Quoting the file is fine; leaking what ${TOKEN} expanded to is not. */
	FUZZ_CHECK(secret_in_text || !strstr(err->msg, SECRET));
}

/* A key the path syntax can name ("a.b[2]"): no '.', '[' or ']' and not empty. Of a key given
 * twice only the first is named: a path means the first, for cJSON and the walker alike. */
static bool nameable(const char *key)
{
	return key && key[0] && !strpbrk(key, ".[]");
}

struct paths {
	char p[MAX_PATHS][PATH_ROOM];
	size_t n;
};

static void collect(const cJSON *node, const char *prefix, struct paths *out, int depth)
{
	int i = 0;

	if (depth > 8)
		return;
	for (const cJSON *c = node->child; c && out->n < MAX_PATHS; c = c->next, i++) {
		char path[PATH_ROOM];
		int w;
		if (cJSON_IsArray(node))
			w = snprintf(path, sizeof(path), "%s[%d]", prefix, i);
		else if (nameable(c->string) && cJSON_GetObjectItemCaseSensitive(node, c->string) == c)
			w = snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", c->string);
		else
			continue;
		if (w < 0 || (size_t)w >= sizeof(path))
			continue;
		memcpy(out->p[out->n++], path, sizeof(path));
		collect(c, path, out, depth + 1);
	}
}

static int count_lines(const char *text, size_t len)
{
	int lines = 1;

	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	return lines;
}

/* The walker's contract is a text cJSON accepted; escapes make cJSON's key differ from the raw
 * bytes the walker compares, so only texts without a backslash are held to "always found". */
static void check_walker(const char *text, size_t len)
{
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, NULL, false);
	int lines = count_lines(text, len), line, col;

	jsonpos_offset(text, len, len / 2, &line, &col);
	FUZZ_CHECK(line >= 1 && line <= lines && col >= 1);
	jsonpos_offset(text, len, len + 7, &line, &col);
	FUZZ_CHECK(line == lines && col >= 1);
	if (!root)
		return;
	if (!memchr(text, '\\', len) && !memchr(text, '\0', len)) {
		struct paths *ps = malloc(sizeof(*ps));
		FUZZ_CHECK(ps != NULL);
		ps->n = 0;
		FUZZ_CHECK(jsonpos_line(text, len, "") >= 1);
		collect(root, "", ps, 0);
		for (size_t i = 0; i < ps->n; i++) {
			int l = jsonpos_line(text, len, ps->p[i]);
			if (l < 1 || l > lines)
				fprintf(stderr, "path %s: line %d of %d\n", ps->p[i], l, lines);
			FUZZ_CHECK(l >= 1 && l <= lines);
		}
		free(ps);
	}
	cJSON_Delete(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ht_config cfg;
	struct ht_err err = { { 0 } };
	/* Exactly `size` bytes, no terminator: the length is the contract
	 * (fuzz/regressions/config/trailing-newline-read-past-len). Control bytes outside strings
	 * reach the parser and the walker as they are (fuzz/regressions/config/walker-*). */
	const char *text = (const char *)data;

	if (config_parse(text, size, "fuzz.json", fake_env, &cfg, &err) == 0) {
		check_config(&cfg, memmem(text, size, SECRET, strlen(SECRET)) != NULL);
		config_free(&cfg);
	} else {
		check_message(&err, memmem(text, size, SECRET, strlen(SECRET)) != NULL);
	}
	check_walker(text, size);
	return 0;
}

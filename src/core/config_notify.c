/* The "notify" list: exec hooks and webhooks, each with the states, projects and targets it
 * covers. Checked like every key (FILE:LINE, unknown keys named), so a typo never silences a
 * page. */
#include "autoconfig.h"
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/health_class.h"
#include "healthtop/core/notify_dest.h"
#include "healthtop/core/sanitize.h"
#include "config_priv.h"

#define NOTIFY_MAX 64
#define NOTIFY_ARGS_MAX 32
#define NOTIFY_LIST_MAX 1024

static const char *const dest_keys[] = { "exec", "webhook", "format", "headers", "states", "projects",
					 "targets", NULL };

static const char *const format_names[] = { "json", "slack", "ntfy" };

/* FNV-1a: a stable tag that tells destinations apart in the queue without storing their URL
 * (a Slack or ntfy URL is a secret). */
static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h * 0x100000001b3ULL;   /* a separator, so ("ab","c") and ("a","bc") differ */
}

/* A list of non-empty clean strings at path → NULL-terminated copy. */
static int get_strv(struct pctx *c, const cJSON *arr, const char *path, size_t max, char ***out)
{
	int n = cJSON_GetArraySize(arr);
	char sub[320];
	size_t i = 0;

	if (!cJSON_IsArray(arr) || n == 0)
		return config_fail(c, path, "must be a non-empty array of strings");
	if ((size_t)n > max)
		return config_fail(c, path, "%d entries: at most %zu are allowed", n, max);
	if (!(*out = calloc((size_t)n + 1, sizeof(**out))))
		return config_fail(c, path, "out of memory");
	for (const cJSON *it = arr->child; it; it = it->next, i++) {
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if (!cJSON_IsString(it) || it->valuestring[0] == '\0')
			return config_fail(c, sub, "must be a non-empty string");
		const char *s = it->valuestring;
		if (strlen(s) > 4096 || !sanitize_is_clean(s))
			return config_fail(c, sub, "is too long or contains control characters");
		if (!((*out)[i] = strdup(s)))
			return config_fail(c, sub, "out of memory");
	}
	return 0;
}

static bool has_target(const struct ht_config *cfg, const char *name, bool project)
{
	for (size_t i = 0; i < cfg->ntargets; i++)
		if (strcmp(project ? cfg->targets[i].project : cfg->targets[i].name, name) == 0)
			return true;
	return false;
}

/* A name in "targets" or "projects" that no target has is a typo that would page nobody. */
static int get_scope(struct pctx *c, const cJSON *obj, const char *key, const char *path,
		     const struct ht_config *cfg, char ***out)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
	char sub[320];
	bool project = strcmp(key, "projects") == 0;

	if (!arr)
		return 0;
	snprintf(sub, sizeof(sub), "%s.%s", path, key);
	if (get_strv(c, arr, sub, NOTIFY_LIST_MAX, out) < 0)
		return -1;
	for (size_t i = 0; (*out)[i]; i++)
		if (!has_target(cfg, (*out)[i], project)) {
			char at[352];
			snprintf(at, sizeof(at), "%s[%zu]", sub, i);
			return config_fail(c, at, "no target %s \"%.100s\"", project ? "has the project" : "is named",
					   (*out)[i]);
		}
	return 0;
}

static int get_states(struct pctx *c, const cJSON *obj, const char *path, unsigned *states)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, "states");
	char sub[320], at[352];
	size_t i = 0;

	*states = 0;
	if (!arr)
		return 0;
	snprintf(sub, sizeof(sub), "%s.states", path);
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
		return config_fail(c, sub, "must be a non-empty array of \"down\", \"degraded\", \"healthy\"");
	for (const cJSON *it = arr->child; it; it = it->next, i++) {
		enum ht_class cls;
		snprintf(at, sizeof(at), "%s[%zu]", sub, i);
		if (!cJSON_IsString(it) || ht_class_parse(it->valuestring, &cls) < 0)
			return config_fail(c, at, "must be \"down\", \"degraded\" or \"healthy\"");
		*states |= 1u << cls;
	}
	return 0;
}

static int parse_exec(struct pctx *c, const cJSON *obj, const char *path, struct notify_dest *d)
{
	char sub[320], key[600];
	uint64_t h = 0xcbf29ce484222325ULL;

	snprintf(sub, sizeof(sub), "%s.exec", path);
	if (cJSON_GetObjectItemCaseSensitive(obj, "format") || cJSON_GetObjectItemCaseSensitive(obj, "headers"))
		return config_fail(c, path, "\"format\" and \"headers\" are for webhooks, not exec");
	if (get_strv(c, cJSON_GetObjectItemCaseSensitive(obj, "exec"), sub, NOTIFY_ARGS_MAX, &d->argv) < 0)
		return -1;
	d->kind = NOTIFY_DEST_EXEC;
	for (size_t i = 0; d->argv[i]; i++)
		h = fnv1a(h, d->argv[i]);
	snprintf(key, sizeof(key), "exec %.500s #%016" PRIx64, d->argv[0], h);
	return (d->key = strdup(key)) ? 0 : config_fail(c, sub, "out of memory");
}

/* Headers through the targets' parser: same rules, same ${VAR} expansion. */
static int get_headers(struct pctx *c, const cJSON *obj, const char *path, struct notify_dest *d)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(obj, "headers");
	struct ht_probe_opts tmp = { 0 };
	char sub[320];

	if (!h)
		return 0;
	snprintf(sub, sizeof(sub), "%s.headers", path);
	if (!cJSON_IsObject(h))
		return config_fail(c, sub, "must be an object of header names to values");
	int rc = config_add_headers(c, h, sub, &tmp);
	d->headers = tmp.headers;   /* freed with the destination, also on failure */
	d->nheaders = tmp.nheaders;
	return rc;
}

static int parse_webhook(struct pctx *c, const cJSON *obj, const char *path, struct notify_dest *d)
{
	const char *url = NULL, *fmt = "json";
	char sub[320], key[200], shown[120];
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t f;

	snprintf(sub, sizeof(sub), "%s.webhook", path);
	if (config_get_string(c, obj, "webhook", path, 4096, false, &url) < 0 ||
	    config_get_string(c, obj, "format", path, 16, false, &fmt) < 0)
		return -1;
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return config_fail(c, sub, "must be an http:// or https:// URL");
	for (f = 0; f < 3 && strcmp(fmt, format_names[f]) != 0; f++)
		;
	if (f == 3) {
		snprintf(sub, sizeof(sub), "%s.format", path);
		return config_fail(c, sub, "must be \"json\", \"slack\" or \"ntfy\"");
	}
	d->kind = NOTIFY_DEST_WEBHOOK;
	d->format = (enum notify_dest_format)f;
	if (!(d->url = strdup(url)))
		return config_fail(c, sub, "out of memory");
	if (get_headers(c, obj, path, d) < 0)
		return -1;
	/* Only scheme and host are shown: the path of a Slack or ntfy URL is its secret. */
	const char *host = strstr(url, "://") + 3;
	size_t hl = strcspn(host, "/?#");
	const char *at = memchr(host, '@', hl);
	if (at) {
		hl -= (size_t)(at + 1 - host);
		host = at + 1;
	}
	snprintf(shown, sizeof(shown), "%.*s%.*s", (int)(strstr(url, "://") + 3 - url), url, (int)(hl > 80 ? 80 : hl), host);
	h = fnv1a(fnv1a(h, url), fmt);
	snprintf(key, sizeof(key), "webhook %s #%016" PRIx64, shown, h);
	return (d->key = strdup(key)) ? 0 : config_fail(c, sub, "out of memory");
}

static int parse_dest(struct pctx *c, const cJSON *obj, const char *path, const struct ht_config *cfg,
		      struct notify_dest *d)
{
	bool ex = cJSON_GetObjectItemCaseSensitive(obj, "exec") != NULL;
	bool wh = cJSON_GetObjectItemCaseSensitive(obj, "webhook") != NULL;

	if (!cJSON_IsObject(obj))
		return config_fail(c, path, "must be an object with \"exec\" or \"webhook\"");
	if (config_check_keys(c, obj, path, dest_keys) < 0)
		return -1;
	if (ex == wh)
		return config_fail(c, path, "needs exactly one of \"exec\" and \"webhook\"");
	if ((ex ? parse_exec(c, obj, path, d) : parse_webhook(c, obj, path, d)) < 0)
		return -1;
	return get_states(c, obj, path, &d->states) < 0 ||
	       get_scope(c, obj, "projects", path, cfg, &d->projects) < 0 ||
	       get_scope(c, obj, "targets", path, cfg, &d->targets) < 0 ? -1 : 0;
}

/* Two destinations alike in every way but their filters still get a queue each. */
static int unique_keys(struct pctx *c, struct ht_config *cfg)
{
	for (size_t i = 1; i < cfg->nnotify; i++)
		for (size_t j = 0; j < i; j++) {
			if (strcmp(cfg->notify[i].key, cfg->notify[j].key) != 0)
				continue;
			char *k = malloc(strlen(cfg->notify[i].key) + 24);
			if (!k)
				return config_fail(c, "notify", "out of memory");
			sprintf(k, "%s/%zu", cfg->notify[i].key, i);
			free(cfg->notify[i].key);
			cfg->notify[i].key = k;
		}
	return 0;
}

int config_parse_notify(struct pctx *c, const cJSON *root, struct ht_config *cfg)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "notify");
	size_t i = 0;

	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr))
		return config_fail(c, "notify", "must be an array of destinations");
	size_t n = (size_t)cJSON_GetArraySize(arr);
	if (n > NOTIFY_MAX)
		return config_fail(c, "notify", "%zu destinations: at most %d are allowed", n, NOTIFY_MAX);
	if (n == 0)
		return 0;
	if (!(cfg->notify = calloc(n, sizeof(*cfg->notify))))
		return config_fail(c, "notify", "out of memory");
	for (const cJSON *it = arr->child; it; it = it->next, i++) {
		char path[32];
		snprintf(path, sizeof(path), "notify[%zu]", i);
		cfg->nnotify = i + 1;
		if (parse_dest(c, it, path, cfg, &cfg->notify[i]) < 0)
			return -1;
	}
	return unique_keys(c, cfg);
}

void config_notify_free(struct ht_config *cfg)
{
	for (size_t i = 0; i < cfg->nnotify; i++)
		notify_dest_fini(&cfg->notify[i]);
	free(cfg->notify);
	cfg->notify = NULL;
	cfg->nnotify = 0;
}

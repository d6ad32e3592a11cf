#include "autoconfig.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/config.h"
#include "healthtop/core/json_position.h"
#include "healthtop/core/sanitize.h"
#include "config_priv.h"

#define PATH_MAX_LEN 2048

/* What a target inherits from "defaults" and may override. */
struct inherit {
	int interval_s;
	int timeout_ms;
	struct ht_rules rules;
	const char *path;
	const cJSON *headers;
	char headers_path[80];
	const char *ca_file;
	int ca_file_line;
	bool insecure;
	bool reuse_connections;
	struct alert_inherit alert;
};

static const char *const top_keys[] = { "concurrency", "defaults", "targets", "retention", "notify", "quorum", NULL };
static const char *const retention_keys[] = { "raw_days", "hourly_days", "daily_days", NULL };
#define ALERT_KEYS "expect_status", "on_timeout", "on_5xx", "expect_json", "failures_before_down", \
	"successes_before_healthy", "retry_interval_s", "quorum"
static const char *const default_keys[] = {
	"interval_s", "timeout_ms", "degraded_ms", "path", "tls_expiry_warn_days",
	"heartbeat_stale_s", "headers", "ca_file", "insecure", "reuse_connections", ALERT_KEYS, NULL };
static const char *const target_keys[] = {
	"name", "project", "url", "interval_s", "timeout_ms", "degraded_ms", "path",
	"tls_expiry_warn_days", "heartbeat_stale_s", "headers", "ca_file", "insecure", "reuse_connections",
	ALERT_KEYS, NULL };

int config_fail(struct pctx *c, const char *path, const char *fmt, ...)
{
	char raw[384], what[384], shown[128];
	va_list ap;
	int line = jsonpos_line(c->text, c->len, path);

	va_start(ap, fmt);
	int n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(raw))
		sanitize_trim_cut(raw);   /* cut: not inside a character */
	/* A path holds key names from the file, and a message may quote the file's values:
	 * "\u001b[2J" must not reach the terminal from either. */
	sanitize_text(raw, strlen(raw), what, sizeof(what), false);
	sanitize_text(path, strlen(path), shown, sizeof(shown), false);
	if (line <= 0)
		ht_err_set(c->err, "%s: %s%s%s", c->source, shown, *path ? ": " : "", what);
	else
		ht_err_set(c->err, "%s:%d: %s%s%s", c->source, line, shown, *path ? ": " : "", what);
	if (strlen(c->err->msg) + 1 == sizeof(c->err->msg))
		sanitize_trim_cut(c->err->msg);
	return -1;
}

void config_quote_value(const cJSON *item, char *out, size_t size)
{
	char *raw = cJSON_PrintUnformatted(item);
	const char *s = raw ? raw : "?";
	size_t n = strlen(s);

	if (n > 60) {
		sanitize_text(s, sanitize_cut(s, n, 57), out, size > 58 ? 58 : size, false);
		strncat(out, "...", size - strlen(out) - 1);
	} else {
		sanitize_text(s, n, out, size, false);
	}
	free(raw);
}

int config_get_int(struct pctx *c, const cJSON *obj, const char *key, const char *path,
		   int min, int max, int *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	char sub[256], shown[80];

	if (!it)
		return 0;
	snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
	if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble != floor(it->valuedouble) ||
	    it->valuedouble < min || it->valuedouble > max) {
		config_quote_value(it, shown, sizeof(shown));
		return config_fail(c, sub, "%s is not an integer %d..%d", shown, min, max);
	}
	*out = (int)it->valuedouble;
	return 0;
}

static int get_bool(struct pctx *c, const cJSON *obj, const char *key, const char *path, bool *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	char sub[256], shown[80];

	if (!it)
		return 0;
	if (!cJSON_IsBool(it)) {
		snprintf(sub, sizeof(sub), "%s.%s", path, key);
		config_quote_value(it, shown, sizeof(shown));
		return config_fail(c, sub, "%s is not true or false", shown);
	}
	*out = cJSON_IsTrue(it);
	return 0;
}

/* A printable string of 1..max bytes (or 0..max when allow_empty). */
static int get_string(struct pctx *c, const cJSON *obj, const char *key, const char *path,
		      size_t max, bool allow_empty, const char **out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	char sub[256], shown[80];

	if (!it)
		return 0;
	snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
	if (cJSON_IsString(it) && strcmp(key, "url") == 0) {
		char quoted[sizeof(shown) - 2];
		config_quote_url(it->valuestring, quoted, sizeof(quoted));
		shown[0] = '"';
		memcpy(shown + 1, quoted, strlen(quoted));
		memcpy(shown + 1 + strlen(quoted), "\"", 2);
	} else {
		config_quote_value(it, shown, sizeof(shown));
	}
	if (!cJSON_IsString(it))
		return config_fail(c, sub, "%s is not a string", shown);
	size_t n = strlen(it->valuestring);
	if (n == 0 && !allow_empty)
		return config_fail(c, sub, "must not be empty");
	if (n > max)
		return config_fail(c, sub, "%s is longer than %zu bytes", shown, max);
	if (!sanitize_is_clean(it->valuestring))
		return config_fail(c, sub, "%s contains control characters or invalid UTF-8", shown);
	*out = it->valuestring;
	return 0;
}

static int get_rules(struct pctx *c, const cJSON *obj, const char *path, struct inherit *in)
{
	const char *ca = NULL;

	if (config_get_int(c, obj, "interval_s", path, 1, 86400, &in->interval_s) < 0 ||
	    config_get_int(c, obj, "timeout_ms", path, 1, 600000, &in->timeout_ms) < 0 ||
	    config_get_int(c, obj, "degraded_ms", path, 1, 600000, &in->rules.degraded_ms) < 0 ||
	    config_get_int(c, obj, "tls_expiry_warn_days", path, 0, 3650, &in->rules.tls_expiry_warn_days) < 0 ||
	    config_get_int(c, obj, "heartbeat_stale_s", path, 1, 31536000, &in->rules.heartbeat_stale_s) < 0 ||
	    get_bool(c, obj, "insecure", path, &in->insecure) < 0 ||
	    get_bool(c, obj, "reuse_connections", path, &in->reuse_connections) < 0 ||
	    get_string(c, obj, "path", path, PATH_MAX_LEN, true, &in->path) < 0 ||
	    get_string(c, obj, "ca_file", path, 4096, false, &ca) < 0 ||
	    config_get_alert_rules(c, obj, path, &in->rules, &in->alert) < 0)
		return -1;
	if (in->path && in->path[0] != '\0' && in->path[0] != '/') {
		char sub[256];
		snprintf(sub, sizeof(sub), "%s.path", path);
		return config_fail(c, sub, "\"%s\" must start with / (or be \"\" to use url as it is)", in->path);
	}
	if (ca) {
		char sub[256];
		snprintf(sub, sizeof(sub), "%s.ca_file", path);
		in->ca_file = ca;
		in->ca_file_line = jsonpos_line(c->text, c->len, sub);
	}
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(obj, "headers");
	if (h) {
		snprintf(in->headers_path, sizeof(in->headers_path), "%s.headers", path);
		if (!cJSON_IsObject(h))
			return config_fail(c, in->headers_path, "must be an object of \"Name\": \"value\"");
		in->headers = h;
	}
	return 0;
}

static int parse_target(struct pctx *c, const cJSON *obj, size_t idx, const struct inherit *defs,
			struct ht_target *t)
{
	char path[64];
	struct inherit in = *defs;
	const char *name = NULL, *project = NULL, *url = NULL;

	snprintf(path, sizeof(path), "targets[%zu]", idx);
	if (!cJSON_IsObject(obj))
		return config_fail(c, path, "must be an object");
	if (config_check_keys(c, obj, path, target_keys) < 0 ||
	    get_string(c, obj, "name", path, HT_NAME_MAX, false, &name) < 0 ||
	    get_string(c, obj, "project", path, HT_NAME_MAX, false, &project) < 0 ||
	    get_string(c, obj, "url", path, 4096, false, &url) < 0 ||
	    get_rules(c, obj, path, &in) < 0)
		return -1;
	if (!name)
		return config_fail(c, path, "missing \"name\"");
	if (!url)
		return config_fail(c, path, "missing \"url\"");
	t->name = strdup(name);
	t->project = project ? strdup(project) : NULL;
	t->url = strdup(url);
	if (!t->name || !t->url || (project && !t->project))
		return config_fail(c, path, "out of memory");
	if (config_set_urls(c, path, url, in.path, t) < 0)
		return -1;
	t->interval_s = in.interval_s;
	t->rules = in.rules;
	if (config_set_alert_rules(c, &in.alert, t) < 0)
		return -1;
	t->probe.timeout_ms = in.timeout_ms;
	t->probe.insecure = in.insecure;
	t->probe.reuse_connections = in.reuse_connections;
	t->probe.ca_file_line = in.ca_file_line;
	if (in.ca_file && !(t->probe.ca_file = strdup(in.ca_file)))
		return config_fail(c, path, "out of memory");
	if (defs->headers && config_add_headers(c, defs->headers, defs->headers_path, &t->probe) < 0)
		return -1;
	if (in.headers && in.headers != defs->headers && config_add_headers(c, in.headers, in.headers_path, &t->probe) < 0)
		return -1;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	const struct ht_target *const *x = a, *const *y = b;
	return strcmp((*x)->name, (*y)->name);
}

static int check_unique_names(struct pctx *c, struct ht_config *cfg)
{
	const struct ht_target **sorted = malloc(cfg->ntargets * sizeof(*sorted));
	int rc = 0;

	if (!sorted)
		return config_fail(c, "targets", "out of memory");
	for (size_t i = 0; i < cfg->ntargets; i++)
		sorted[i] = &cfg->targets[i];
	qsort(sorted, cfg->ntargets, sizeof(*sorted), cmp_name);
	for (size_t i = 1; i < cfg->ntargets && rc == 0; i++) {
		if (strcmp(sorted[i - 1]->name, sorted[i]->name) != 0)
			continue;
		size_t a = (size_t)(sorted[i - 1] - cfg->targets), b = (size_t)(sorted[i] - cfg->targets);
		char path[64];
		snprintf(path, sizeof(path), "targets[%zu].name", a > b ? a : b);
		rc = config_fail(c, path, "\"%s\" is already the name of targets[%zu]", sorted[i]->name, a < b ? a : b);
	}
	free(sorted);
	return rc;
}

static int parse_root(struct pctx *c, const cJSON *root, struct ht_config *cfg)
{
	struct inherit defs = {
		.interval_s = 60,
		.timeout_ms = 5000,
		.rules = { .degraded_ms = 1000, .tls_expiry_warn_days = 14,
			   .heartbeat_stale_s = 30 },
		.path = "/health",
		.alert = { .soft = { 1, 1 }, .retry_interval_s = 10, .quorum = 1 },
	};

	if (!cJSON_IsObject(root))
		return config_fail(c, "", "the top level must be an object");
	cfg->concurrency = 64;
	if (config_check_keys(c, root, "", top_keys) < 0 ||
	    config_get_int(c, root, "concurrency", "", 1, 10000, &cfg->concurrency) < 0 ||
	    /* the fleet's quorum at the top, as the issue puts it; defaults and targets override it */
	    config_get_int(c, root, "quorum", "", 1, QUORUM_MAX, &defs.alert.quorum) < 0)
		return -1;
	cfg->retention = (struct ht_retention){ .raw_days = 14, .hourly_days = 400, .daily_days = 0 };
	const cJSON *ret = cJSON_GetObjectItemCaseSensitive(root, "retention");
	if (ret) {
		if (!cJSON_IsObject(ret))
			return config_fail(c, "retention", "must be an object");
		if (config_check_keys(c, ret, "retention", retention_keys) < 0 ||
		    config_get_int(c, ret, "raw_days", "retention", 1, 36500, &cfg->retention.raw_days) < 0 ||
		    config_get_int(c, ret, "hourly_days", "retention", 1, 36500, &cfg->retention.hourly_days) < 0 ||
		    config_get_int(c, ret, "daily_days", "retention", 0, 36500, &cfg->retention.daily_days) < 0)
			return -1;
	}
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "defaults");
	if (d) {
		if (!cJSON_IsObject(d))
			return config_fail(c, "defaults", "must be an object");
		if (config_check_keys(c, d, "defaults", default_keys) < 0 || get_rules(c, d, "defaults", &defs) < 0)
			return -1;
	}
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(root, "targets");
	if (!ts)
		return config_fail(c, "", "missing \"targets\"");
	if (!cJSON_IsArray(ts) || cJSON_GetArraySize(ts) == 0)
		return config_fail(c, "targets", "must be a non-empty array of targets");
	size_t n = (size_t)cJSON_GetArraySize(ts);
	cfg->targets = calloc(n, sizeof(*cfg->targets));
	if (!cfg->targets)
		return config_fail(c, "targets", "out of memory");
	size_t i = 0;
	for (const cJSON *t = ts->child; t; t = t->next, i++) {
		cfg->ntargets = i + 1;
		if (parse_target(c, t, i, &defs, &cfg->targets[i]) < 0)
			return -1;
	}
	if (check_unique_names(c, cfg) < 0)
		return -1;
	config_share_projects(cfg);
	return config_parse_notify(c, root, cfg);   /* after targets: it checks the names it lists */
}

int config_get_string(struct pctx *c, const cJSON *obj, const char *key, const char *path, size_t max,
		      bool allow_empty, const char **out)
{
	return get_string(c, obj, key, path, max, allow_empty, out);
}

/* Offset of the first byte at or after off that is not JSON whitespace; never reads past len. */
static size_t skip_json_ws(const char *text, size_t off, size_t len)
{
	while (off < len && strchr(" \t\r\n", text[off]) && text[off] != '\0')
		off++;
	return off;
}

static void syntax_error(const char *text, size_t len, size_t off, const char *source,
			 const char *what, struct ht_err *err)
{
	char near[40];
	int line, col;

	jsonpos_offset(text, len, off, &line, &col);
	sanitize_text(text + off, len - off < 20 ? len - off : 20, near, sizeof(near), false);
	if (off < len)
		ht_err_set(err, "%s:%d:%d: %s near \"%s\"", source, line, col, what, near);
	else /* at the end there is nothing to quote */
		ht_err_set(err, "%s:%d:%d: %s", source, line, col, what);
}

/* Bytes cJSON would accept but we must not: NUL, and control bytes outside strings, which
 * cJSON takes for spaces while the line walker (and any reader) does not. */
static int check_bytes(const char *text, size_t len, const char *source, struct ht_err *err)
{
	if (memchr(text, '\0', len)) {
		ht_err_set(err, "%s: contains a NUL byte: not a JSON text", source);
		return -1;
	}
	size_t off = jsonpos_stray_control(text, len);
	if (off < len) {
		char what[80];
		snprintf(what, sizeof(what), "control character 0x%02X outside a string",
			 (unsigned)(unsigned char)text[off]);
		syntax_error(text, len, off, source, what, err);
		return -1;
	}
	return 0;
}

int config_parse(const char *text, size_t len, const char *source, ht_getenv_fn env,
		 struct ht_config *cfg, struct ht_err *err)
{
	struct pctx c = { text, len, source, env, err };
	const char *end = NULL;
	cJSON *root;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->source = strdup(source);
	if (!cfg->source) {
		ht_err_set(err, "%s: out of memory", source);
		return -1;
	}
	if (check_bytes(text, len, source, err) < 0) {
		config_free(cfg);
		return -1;
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	size_t off = end ? (size_t)(end - text) : 0;
	/* trailing text: point at it, not at the whitespace before it */
	if (root && off < len)
		off = skip_json_ws(text, off, len);
	if (!root || off < len) {
		bool early = !root && jsonpos_ends_early(text, len);
		syntax_error(text, len, early ? len : off, source, early ? "JSON syntax error: the file "
			     "ends inside an object or array (a missing } or ]?)" : "JSON syntax error", err);
		cJSON_Delete(root);
		config_free(cfg);
		return -1;
	}
	rc = parse_root(&c, root, cfg);
	cJSON_Delete(root);
	if (rc < 0)
		config_free(cfg);
	return rc;
}

void config_free(struct ht_config *cfg)
{
	for (size_t i = 0; i < cfg->ntargets; i++) {
		struct ht_target *t = &cfg->targets[i];
		free(t->name);
		if (!t->project_shared)
			free(t->project);
		if (t->display_url != t->check_url && t->display_url != t->url)
			free(t->display_url);
		if (t->check_url != t->url)
			free(t->check_url);
		free(t->url);
		free(t->probe.ca_file);
		for (size_t h = 0; h < t->probe.nheaders; h++) {
			free(t->probe.headers[h].name);
			free(t->probe.headers[h].value);
		}
		free(t->probe.headers);
		config_free_alert_rules(&t->rules);
	}
	free(cfg->targets);
	config_notify_free(cfg);
	free(cfg->source);
	memset(cfg, 0, sizeof(*cfg));
}

/* The config keys that say what a good answer is (expect_status, on_timeout, on_5xx,
 * expect_json) and how sure healthtop must be before the displayed state changes
 * (failures_before_down, successes_before_healthy, retry_interval_s). */
#include "autoconfig.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/sanitize.h"
#include "config_priv.h"

#define SOFT_COUNT_MAX 10

static void sub_path(char *buf, size_t size, const char *path, const char *key)
{
	snprintf(buf, size, "%s%s%s", path, *path ? "." : "", key);
}

/* One entry of expect_status: a code (number or string), "200-299" or "2xx". */
static int status_entry(struct pctx *c, const cJSON *it, const char *path, struct status_range *out)
{
	char shown[80];

	if (cJSON_IsNumber(it) && it->valuedouble >= 100 && it->valuedouble <= 599 &&
	    it->valuedouble == (double)(int)it->valuedouble) {
		out->lo = out->hi = (int)it->valuedouble;
		return 0;
	}
	if (cJSON_IsString(it) && expect_status_parse(it->valuestring, out) == 0)
		return 0;
	config_quote_value(it, shown, sizeof(shown));
	return config_fail(c, path, "%s is not a status code 100..599, a range like \"200-299\" or a class like \"2xx\"",
			   shown);
}

/* A list of entries, or one entry on its own. */
static int get_expect_status(struct pctx *c, const cJSON *obj, const char *path, struct expect_status *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, "expect_status");
	char sub[256], item[280];
	size_t i = 0;

	if (!it)
		return 0;
	sub_path(sub, sizeof(sub), path, "expect_status");
	if (!cJSON_IsArray(it)) {
		out->n = 1;
		return status_entry(c, it, sub, &out->r[0]);
	}
	int n = cJSON_GetArraySize(it);
	if (n == 0 || n > EXPECT_STATUS_MAX)
		return config_fail(c, sub, "must list 1..%d status codes or ranges", EXPECT_STATUS_MAX);
	for (const cJSON *e = it->child; e; e = e->next, i++) {
		snprintf(item, sizeof(item), "%s[%zu]", sub, i);
		if (status_entry(c, e, item, &out->r[i]) < 0)
			return -1;
	}
	out->n = i;
	return 0;
}

/* "degraded" or "down" into *down. */
static int get_severity(struct pctx *c, const cJSON *obj, const char *key, const char *path, bool *down)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	char sub[256], shown[80];

	if (!it)
		return 0;
	if (cJSON_IsString(it) && (strcmp(it->valuestring, "degraded") == 0 || strcmp(it->valuestring, "down") == 0)) {
		*down = strcmp(it->valuestring, "down") == 0;
		return 0;
	}
	sub_path(sub, sizeof(sub), path, key);
	config_quote_value(it, shown, sizeof(shown));
	return config_fail(c, sub, "%s is not \"degraded\" or \"down\"", shown);
}

/* Checks every pointer of an expect_json object; keeps it to build per target. */
static int get_expect_json(struct pctx *c, const cJSON *obj, const char *path, struct alert_inherit *in)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, "expect_json");
	char sub[256], item[512], shown[80];

	if (!it)
		return 0;
	sub_path(sub, sizeof(sub), path, "expect_json");
	if (!cJSON_IsObject(it) || cJSON_GetArraySize(it) == 0 || cJSON_GetArraySize(it) > EXPECT_JSON_MAX)
		return config_fail(c, sub, "must be an object of 1..%d \"/json/pointer\": expected value",
				   EXPECT_JSON_MAX);
	for (const cJSON *e = it->child; e; e = e->next) {
		snprintf(item, sizeof(item), "%s.%s", sub, e->string);
		for (const cJSON *prev = it->child; prev != e; prev = prev->next)
			if (strcmp(prev->string, e->string) == 0)
				return config_fail(c, item, "key appears twice");
		if (!sanitize_is_clean(e->string) || expect_json_pointer_valid(e->string) < 0) {
			sanitize_text(e->string, strlen(e->string), shown, sizeof(shown), false);
			return config_fail(c, item, "\"%s\" is not a JSON pointer (\"/a/b\", ~0 for ~ and ~1 for /)", shown);
		}
	}
	in->expect_json = it;
	snprintf(in->expect_json_path, sizeof(in->expect_json_path), "%s", sub);
	return 0;
}

int config_get_alert_rules(struct pctx *c, const cJSON *obj, const char *path, struct ht_rules *rules,
			   struct alert_inherit *in)
{
	int fails = in->soft.failures_before_down, oks = in->soft.successes_before_healthy;

	if (get_expect_status(c, obj, path, &rules->expect_status) < 0 ||
	    get_severity(c, obj, "on_timeout", path, &rules->timeout_is_down) < 0 ||
	    get_severity(c, obj, "on_5xx", path, &rules->server_error_is_down) < 0 ||
	    get_expect_json(c, obj, path, in) < 0 ||
	    config_get_int(c, obj, "failures_before_down", path, 1, SOFT_COUNT_MAX, &fails) < 0 ||
	    config_get_int(c, obj, "successes_before_healthy", path, 1, SOFT_COUNT_MAX, &oks) < 0 ||
	    config_get_int(c, obj, "retry_interval_s", path, 1, 86400, &in->retry_interval_s) < 0 ||
	    config_get_int(c, obj, "quorum", path, 1, QUORUM_MAX, &in->quorum) < 0)
		return -1;
	in->soft.failures_before_down = (uint8_t)fails;
	in->soft.successes_before_healthy = (uint8_t)oks;
	return 0;
}

int config_set_alert_rules(struct pctx *c, const struct alert_inherit *in, struct ht_target *t)
{
	const cJSON *obj = in->expect_json;
	size_t n = obj ? (size_t)cJSON_GetArraySize(obj) : 0, i = 0;

	t->soft = in->soft;
	t->retry_interval_s = in->retry_interval_s;
	t->quorum = (uint8_t)in->quorum;
	t->rules.expect_json = NULL;
	t->rules.nexpect_json = 0;
	if (n == 0)
		return 0;
	if (!(t->rules.expect_json = calloc(n, sizeof(*t->rules.expect_json))))
		return config_fail(c, in->expect_json_path, "out of memory");
	for (const cJSON *e = obj->child; e; e = e->next, i++) {
		struct expect_json *x = &t->rules.expect_json[i];
		t->rules.nexpect_json = i + 1;
		x->pointer = strdup(e->string);
		x->want = cJSON_Duplicate(e, true);
		if (!x->pointer || !x->want)
			return config_fail(c, in->expect_json_path, "out of memory");
	}
	return 0;
}

void config_free_alert_rules(struct ht_rules *rules)
{
	for (size_t i = 0; i < rules->nexpect_json; i++) {
		free(rules->expect_json[i].pointer);
		cJSON_Delete(rules->expect_json[i].want);
	}
	free(rules->expect_json);
	rules->expect_json = NULL;
	rules->nexpect_json = 0;
}

#include "autoconfig.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "healthtop/core/clock.h"
#include "healthtop/core/health_class.h"
#include "healthtop/notify/notify_format.h"

static const char *cls_word(int cls)
{
	return cls >= 0 && cls < HT_CLASS_COUNT ? ht_class_name((enum ht_class)cls) : "unknown";
}

static bool is_recovery(const struct notify_event *e)
{
	return e->new_cls == HT_HEALTHY && e->old_cls > HT_HEALTHY;
}

static int64_t lasted_s(const struct notify_event *e)
{
	return e->since_ms > 0 && e->at_ms >= e->since_ms ? (e->at_ms - e->since_ms) / 1000 : -1;
}

void notify_duration(int64_t s, char *out, size_t size)
{
	if (s < 60)
		snprintf(out, size, "%llds", (long long)(s < 0 ? 0 : s));
	else if (s < 3600)
		snprintf(out, size, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		snprintf(out, size, "%lldh %lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else
		snprintf(out, size, "%lldd %lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
}

void notify_message(const struct notify_event *e, char *out, size_t size)
{
	char dur[32] = "";
	int64_t lasted = lasted_s(e);

	if (lasted >= 0)
		notify_duration(lasted, dur, sizeof(dur));
	if (is_recovery(e))
		snprintf(out, size, "%s (%s) recovered: resolved after %s", e->name, e->project,
			 dur[0] ? dur : "an unknown time");
	else if (e->new_cls == HT_HEALTHY)
		snprintf(out, size, "%s (%s) is healthy", e->name, e->project);
	else
		snprintf(out, size, "%s (%s) is %s: %s", e->name, e->project, cls_word(e->new_cls),
			 e->reason && e->reason[0] ? e->reason : "no reason given");
}

static char *json_body(const struct notify_event *e)
{
	cJSON *o = cJSON_CreateObject();
	char since[40] = "", at[40], msg[512];
	char *text;

	if (!o)
		return NULL;
	if (e->since_ms > 0)
		clock_iso8601(e->since_ms, false, since, sizeof(since));
	clock_iso8601(e->at_ms, false, at, sizeof(at));
	notify_message(e, msg, sizeof(msg));
	cJSON_AddStringToObject(o, "name", e->name);
	cJSON_AddStringToObject(o, "project", e->project);
	cJSON_AddStringToObject(o, "url", e->url);
	cJSON_AddStringToObject(o, "old", cls_word(e->old_cls));
	cJSON_AddStringToObject(o, "new", cls_word(e->new_cls));
	cJSON_AddStringToObject(o, "reason", e->reason ? e->reason : "");
	if (since[0])
		cJSON_AddStringToObject(o, "since", since);
	else
		cJSON_AddNullToObject(o, "since");
	cJSON_AddStringToObject(o, "at", at);
	if (lasted_s(e) >= 0)
		cJSON_AddNumberToObject(o, "duration_s", (double)lasted_s(e));
	else
		cJSON_AddNullToObject(o, "duration_s");
	cJSON_AddBoolToObject(o, "recovered", is_recovery(e));
	cJSON_AddStringToObject(o, "message", msg);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

static char *slack_body(const struct notify_event *e)
{
	cJSON *o = cJSON_CreateObject();
	char msg[512], text[640];
	char *out;

	if (!o)
		return NULL;
	notify_message(e, msg, sizeof(msg));
	snprintf(text, sizeof(text), "%s %s", is_recovery(e) ? ":white_check_mark:" :
		 e->new_cls == HT_DOWN ? ":red_circle:" : e->new_cls == HT_DEGRADED ? ":warning:" : ":information_source:", msg);
	cJSON_AddStringToObject(o, "text", text);
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

static const char *ntfy_priority(const struct notify_event *e)
{
	return e->new_cls == HT_DOWN ? "urgent" : e->new_cls == HT_DEGRADED ? "high" : "default";
}

char *notify_body(const struct notify_event *e, enum notify_format fmt, const char **content_type,
		  char hdr[2][256], size_t *nhdr)
{
	*nhdr = 0;
	if (fmt == NOTIFY_JSON) {
		*content_type = "application/json";
		return json_body(e);
	}
	if (fmt == NOTIFY_SLACK) {
		*content_type = "application/json";
		return slack_body(e);
	}
	char msg[512];
	*content_type = "text/plain; charset=utf-8";
	notify_message(e, msg, sizeof(msg));
	snprintf(hdr[0], 256, "Title: healthtop: %s %s", e->name, is_recovery(e) ? "recovered" : cls_word(e->new_cls));
	snprintf(hdr[1], 256, "Priority: %s", ntfy_priority(e));
	*nhdr = 2;
	return strdup(msg);
}

static char *env_pair(const char *key, const char *value)
{
	size_t n = strlen(key) + strlen(value) + 2;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s=%s", key, value);
	return s;
}

int notify_env(const struct notify_event *e, char *env[NOTIFY_ENV_COUNT + 1])
{
	char since[40] = "", dur[32] = "";
	int k = 0;

	if (e->since_ms > 0)
		clock_iso8601(e->since_ms, false, since, sizeof(since));
	if (lasted_s(e) >= 0)
		snprintf(dur, sizeof(dur), "%lld", (long long)lasted_s(e));
	memset(env, 0, (NOTIFY_ENV_COUNT + 1) * sizeof(env[0]));
	env[k++] = env_pair("HEALTHTOP_NAME", e->name);
	env[k++] = env_pair("HEALTHTOP_PROJECT", e->project);
	env[k++] = env_pair("HEALTHTOP_URL", e->url);
	env[k++] = env_pair("HEALTHTOP_OLD", cls_word(e->old_cls));
	env[k++] = env_pair("HEALTHTOP_NEW", cls_word(e->new_cls));
	env[k++] = env_pair("HEALTHTOP_REASON", e->reason ? e->reason : "");
	env[k++] = env_pair("HEALTHTOP_SINCE", since);
	env[k++] = env_pair("HEALTHTOP_DURATION_S", dur);
	for (int i = 0; i < k; i++)
		if (!env[i]) {
			notify_env_free(env);
			return -1;
		}
	return 0;
}

void notify_env_free(char *env[NOTIFY_ENV_COUNT + 1])
{
	for (int i = 0; i < NOTIFY_ENV_COUNT; i++) {
		free(env[i]);
		env[i] = NULL;
	}
}

#include "autoconfig.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "healthtop/core/body.h"
#include "healthtop/core/json_position.h"
#include "healthtop/core/sanitize.h"
#include "body_priv.h"

/* A heartbeat this far ahead of our clock is clock skew, not a fresh worker. */
#define HEARTBEAT_SKEW_S 300
/* Ages beyond this (about 31 years) are shown as "over ...", never as their digits. */
#define HEARTBEAT_SHOW_MAX_S 1000000000

struct word { const char *w; enum body_word cls; };

/* The vocabularies of the formats healthtop reads; Elasticsearch's colours ride along. */
static const struct word words[] = {
	{ "ok", BODY_WORD_OK }, { "healthy", BODY_WORD_OK }, { "up", BODY_WORD_OK },
	{ "pass", BODY_WORD_OK }, { "green", BODY_WORD_OK },
	{ "degraded", BODY_WORD_DEGRADED }, { "warn", BODY_WORD_DEGRADED },
	{ "warning", BODY_WORD_DEGRADED }, { "out_of_service", BODY_WORD_DEGRADED },
	{ "unknown", BODY_WORD_DEGRADED }, { "yellow", BODY_WORD_DEGRADED },
	{ "failing", BODY_WORD_DOWN }, { "fail", BODY_WORD_DOWN }, { "down", BODY_WORD_DOWN },
	{ "unhealthy", BODY_WORD_DOWN }, { "error", BODY_WORD_DOWN }, { "critical", BODY_WORD_DOWN },
	{ "red", BODY_WORD_DOWN },
};

/* Keys whose values are structures handled on their own, never "component: word". */
static const char *const structural_keys[] = { "status", "components", "checks", "workers", "details", NULL };

enum body_word body_status_word(const char *word)
{
	if (!word)
		return BODY_WORD_NONE;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(word, words[i].w) == 0)
			return words[i].cls;
	return BODY_WORD_NONE;
}

static void add_reason(struct body_report *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_reason(struct body_report *out, const char *fmt, ...)
{
	size_t used = strlen(out->reason);
	char piece[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(piece, sizeof(piece), fmt, ap);
	va_end(ap);
	sanitize_trim_cut(piece);   /* vsnprintf may have cut a character in two */
	if (used + strlen(piece) + 3 >= sizeof(out->reason))
		return;
	snprintf(out->reason + used, sizeof(out->reason) - used, "%s%s", used ? ", " : "", piece);
}

void body_add_component(struct body_report *out, const char *name, const char *state,
			  enum ht_class cls, const char *detail)
{
	char n[64], s[32];

	out->ncomps_seen++;
	sanitize_text(name, strlen(name), n, sizeof(n), false);
	sanitize_text(state, strlen(state), s, sizeof(s), false);
	if (out->ncomps < BODY_MAX_COMPONENTS) {
		struct body_component *c = &out->comps[out->ncomps++];
		memcpy(c->name, n, sizeof(c->name));
		memcpy(c->state, s, sizeof(c->state));
		c->cls = cls;
	}
	if (cls == HT_HEALTHY)
		return;
	if (out->cls < HT_DEGRADED)
		out->cls = HT_DEGRADED;
	add_reason(out, "%s: %s", n, detail ? detail : s);
}

static enum ht_class word_class(const char *s)
{
	enum body_word w = body_status_word(s);
	return w == BODY_WORD_NONE ? HT_DEGRADED : (enum ht_class)w;
}

static const char *status_of(const cJSON *obj)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, "status");
	return cJSON_IsString(s) ? s->valuestring : NULL;
}

/* Spring Boot: "components": { "db": { "status": "UP", "components": {...} } } */
static void walk_spring(struct body_report *out, const cJSON *comps, const char *prefix, int depth)
{
	if (!cJSON_IsObject(comps) || depth > BODY_MAX_DEPTH)
		return;
	for (const cJSON *c = comps->child; c; c = c->next) {
		char name[128];
		const char *st = cJSON_IsObject(c) ? status_of(c) : (cJSON_IsString(c) ? c->valuestring : NULL);

		snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "/" : "", c->string);
		if (st)
			body_add_component(out, name, st, word_class(st), NULL);
		if (cJSON_IsObject(c))
			walk_spring(out, cJSON_GetObjectItemCaseSensitive(c, "components"), name, depth + 1);
	}
}

/* IETF health+json: "checks": { "db:responseTime": [ { "status": "pass" } ] }; also the common
 * object-per-check shape and an array of { "name", "status" }. */
static void walk_checks(struct body_report *out, const cJSON *checks)
{
	if (cJSON_IsArray(checks)) {
		int i = 0;
		for (const cJSON *c = checks->child; c; c = c->next, i++) {
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "name");
			char idx[32];
			const char *st = cJSON_IsObject(c) ? status_of(c) : NULL;
			snprintf(idx, sizeof(idx), "checks[%d]", i);
			if (st)
				body_add_component(out, cJSON_IsString(n) ? n->valuestring : idx, st, word_class(st), NULL);
		}
		return;
	}
	if (!cJSON_IsObject(checks))
		return;
	for (const cJSON *c = checks->child; c; c = c->next) {
		if (cJSON_IsObject(c)) {
			const char *st = status_of(c);
			if (st)
				body_add_component(out, c->string, st, word_class(st), NULL);
		} else if (cJSON_IsArray(c)) {
			/* The worst of the measurements speaks for the check. */
			const char *worst = NULL;
			enum ht_class wc = HT_HEALTHY;
			for (const cJSON *m = c->child; m; m = m->next) {
				const char *st = cJSON_IsObject(m) ? status_of(m) : NULL;
				if (st && (!worst || word_class(st) > wc)) {
					worst = st;
					wc = word_class(st);
				}
			}
			if (worst)
				body_add_component(out, c->string, worst, wc, NULL);
		}
	}
}

static const char *worker_label(const cJSON *w, int idx, char *buf, size_t size)
{
	static const char *const keys[] = { "name", "id", "type", "worker_id", NULL };

	for (size_t i = 0; keys[i]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(w, keys[i]);
		if (cJSON_IsString(v) && v->valuestring[0]) {
			snprintf(buf, size, "worker %s", v->valuestring);
			return buf;
		}
	}
	snprintf(buf, size, "workers[%d]", idx);
	return buf;
}

/* A heartbeat older than stale_s is stale; one more than HEARTBEAT_SKEW_S ahead of our clock
 * would never go stale, so it is clock skew. Printed numbers are bounded: a heartbeat of -1e300
 * must not print 300 digits. True when it made the worker degraded. */
static bool judge_heartbeat(struct body_report *out, const char *label, double t, int stale_s,
			    int64_t now_s)
{
	char detail[64];

	if (t > 1e11)
		t /= 1000.0;   /* milliseconds, as some emitters write */
	double age = isfinite(t) ? (double)now_s - t : HEARTBEAT_SHOW_MAX_S + 1.0;
	if (age < -HEARTBEAT_SKEW_S) {
		if (-age > HEARTBEAT_SHOW_MAX_S)
			snprintf(detail, sizeof(detail), "heartbeat over %d s in the future (clock skew)",
				 HEARTBEAT_SHOW_MAX_S);
		else
			snprintf(detail, sizeof(detail), "heartbeat %.0f s in the future (clock skew)", -age);
		body_add_component(out, label, "clock skew", HT_DEGRADED, detail);
		return true;
	}
	if (age <= stale_s)
		return false;
	if (age > HEARTBEAT_SHOW_MAX_S)
		snprintf(detail, sizeof(detail), "heartbeat over %d s old", HEARTBEAT_SHOW_MAX_S);
	else
		snprintf(detail, sizeof(detail), "heartbeat %.0f s old", age);
	body_add_component(out, label, "stale", HT_DEGRADED, detail);
	return true;
}

static void walk_workers(struct body_report *out, const cJSON *workers, int stale_s, int64_t now_s)
{
	int i = 0;

	if (!cJSON_IsArray(workers))
		return;
	for (const cJSON *w = workers->child; w; w = w->next, i++) {
		char label[96];
		const char *st;
		const cJSON *hb;

		if (!cJSON_IsObject(w))
			continue;
		worker_label(w, i, label, sizeof(label));
		st = status_of(w);
		hb = cJSON_GetObjectItemCaseSensitive(w, "last_heartbeat");
		if (cJSON_IsNumber(hb) && judge_heartbeat(out, label, hb->valuedouble, stale_s, now_s))
			continue;
		if (st)
			body_add_component(out, label, st, word_class(st), NULL);
	}
}

static bool is_structural(const char *key)
{
	for (size_t i = 0; structural_keys[i]; i++)
		if (strcmp(key, structural_keys[i]) == 0)
			return true;
	return false;
}

/* HiveSync-style: "redis": "error" next to "status"; also "db": { "status": "down" }. */
static void walk_top_keys(struct body_report *out, const cJSON *root)
{
	for (const cJSON *c = root->child; c; c = c->next) {
		const char *st = NULL;

		if (is_structural(c->string))
			continue;
		if (cJSON_IsString(c) && body_status_word(c->valuestring) != BODY_WORD_NONE)
			st = c->valuestring;
		else if (cJSON_IsObject(c) && body_status_word(status_of(c)) != BODY_WORD_NONE)
			st = status_of(c);
		if (st)
			body_add_component(out, c->string, st, word_class(st), NULL);
	}
}

/* The top-level status word of the body, judged as body_assess would. */
static void judge_status(const char *st, struct body_report *out)
{
	enum body_word w = body_status_word(st);
	char shown[32];

	sanitize_text(st, strlen(st), shown, sizeof(shown), false);
	if (w == BODY_WORD_NONE) {
		out->cls = HT_DEGRADED;
		add_reason(out, "status \"%s\" not recognised", shown);
	} else {
		out->has_status = true;
		out->cls = (enum ht_class)w;
		if (w != BODY_WORD_OK)
			add_reason(out, "status: %s", shown);
	}
}

void body_assess_cut(const char *body, size_t len, struct body_report *out)
{
	char st[64];

	memset(out, 0, sizeof(*out));
	if (body && jsonpos_string_at(body, len, "status", st, sizeof(st)) == 0) {
		judge_status(st, out);
		return;
	}
	out->cls = HT_DEGRADED;
	add_reason(out, "body too large to judge (> %zu KiB)", len / 1024);
}

void body_assess(const char *body, size_t len, int heartbeat_stale_s, int64_t now_s,
		 struct body_report *out)
{
	cJSON *root;

	memset(out, 0, sizeof(*out));
	out->cls = HT_HEALTHY;
	if (!body || len == 0)
		return;
	root = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		body_text_assess(body, len, out);   /* not JSON: perhaps Kubernetes' text */
		return;
	}
	out->parsed = true;
	const char *st = status_of(root);
	if (st)
		judge_status(st, out);
	walk_spring(out, cJSON_GetObjectItemCaseSensitive(root, "components"), "", 0);
	walk_checks(out, cJSON_GetObjectItemCaseSensitive(root, "checks"));
	walk_workers(out, cJSON_GetObjectItemCaseSensitive(root, "workers"), heartbeat_stale_s, now_s);
	walk_top_keys(out, root);
	cJSON_Delete(root);
}

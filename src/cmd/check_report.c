#include "autoconfig.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "healthtop/core/clock.h"
#include "healthtop/cmd/check_report.h"

#define NAME_COL_MAX 32

static const char *const ansi[HT_CLASS_COUNT] = { "\033[32m", "\033[33m", "\033[31;1m" };

int report_init(struct check_report *rep, const struct ht_config *cfg)
{
	memset(rep, 0, sizeof(*rep));
	rep->cfg = cfg;
	rep->n = cfg->ntargets;
	rep->text_cap = 4096;
	if (!(rep->items = calloc(rep->n ? rep->n : 1, sizeof(*rep->items))) ||
	    !(rep->text = malloc(rep->text_cap))) {
		report_fini(rep);
		return -1;
	}
	rep->text[0] = '\0';   /* offset 0: the empty text */
	rep->text_len = 1;
	return 0;
}

void report_fini(struct check_report *rep)
{
	free(rep->items);
	free(rep->text);
	memset(rep, 0, sizeof(*rep));
}

/* The offset of s in the report's text: "" and a repeat of the text added last cost nothing
 * (a healthy fleet says the same few words for every target). UINT32_MAX: out of memory. */
static uint32_t keep_text(struct check_report *rep, const char *s)
{
	size_t len = strlen(s) + 1;

	if (len == 1)
		return 0;
	if (strcmp(rep->text + rep->last, s) == 0)
		return rep->last;
	if (rep->text_len + len > rep->text_cap) {
		size_t cap = rep->text_cap * 2 > rep->text_len + len ? rep->text_cap * 2 : rep->text_len + len;
		char *t = cap < UINT32_MAX ? realloc(rep->text, cap) : NULL;
		if (!t)
			return UINT32_MAX;
		rep->text = t;
		rep->text_cap = cap;
	}
	memcpy(rep->text + rep->text_len, s, len);
	rep->last = (uint32_t)rep->text_len;
	rep->text_len += len;
	return rep->last;
}

int report_set(struct check_report *rep, size_t i, const struct observation *o)
{
	const struct store_row *r = &o->row;
	struct report_item *it = &rep->items[i];

	*it = (struct report_item){
		.checked_at_ms = r->checked_at_ms, .cert_expiry = r->cert_expiry,
		.total_ms = r->response_ms, .dns_ms = r->dns_ms, .connect_ms = r->connect_ms,
		.tls_ms = r->tls_ms, .ttfb_ms = r->ttfb_ms,
		.http_code = (int32_t)r->http_code, .cls = (uint8_t)o->verdict.cls, .up = r->up,
	};
	it->reason = keep_text(rep, o->verdict.reason);
	it->error = keep_text(rep, r->error ? r->error : "");
	return it->reason == UINT32_MAX || it->error == UINT32_MAX ? -1 : 0;
}

const char *report_reason(const struct check_report *rep, size_t i)
{
	return rep->text + rep->items[i].reason;
}

void report_row(const struct check_report *rep, size_t i, struct store_row *row)
{
	const struct report_item *it = &rep->items[i];

	*row = (struct store_row){
		.target_id = 0,
		.checked_at_ms = it->checked_at_ms, .cls = (enum ht_class)it->cls, .up = it->up,
		.http_code = it->http_code, .response_ms = it->total_ms, .dns_ms = it->dns_ms,
		.connect_ms = it->connect_ms, .tls_ms = it->tls_ms, .ttfb_ms = it->ttfb_ms,
		.cert_expiry = it->cert_expiry, .reason = rep->text + it->reason,
		.error = rep->text + it->error, .url = rep->cfg->targets[i].display_url,
	};
}

/* Characters in s (names are valid UTF-8: config checks them); each takes one column. */
static int chars_of(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static int width_of(const struct ht_config *cfg, bool project)
{
	int w = project ? 7 : 4;

	for (size_t i = 0; i < cfg->ntargets; i++) {
		int len = chars_of(project ? cfg->targets[i].project : cfg->targets[i].name);
		if (len > w)
			w = len;
	}
	return w > NAME_COL_MAX ? NAME_COL_MAX : w;
}

/* s cut to `width` characters (never inside one) and padded to it, then two spaces. */
static void put_column(FILE *out, const char *s, int width)
{
	size_t bytes = 0;
	int used = 0;

	while (s[bytes] && used < width) {
		bytes++;
		while (((unsigned char)s[bytes] & 0xC0) == 0x80)
			bytes++;
		used++;
	}
	fprintf(out, "%.*s%*s  ", (int)bytes, s, width - used, "");
}

void report_table(FILE *out, const struct check_report *rep, double elapsed_s, bool color)
{
	int nw = width_of(rep->cfg, false), pw = width_of(rep->cfg, true);
	size_t n = rep->n;
	size_t count[HT_CLASS_COUNT] = { 0 };

	fprintf(out, "%-9s  %-*s  %-*s  %4s  %9s  %s\n", "STATUS", nw, "NAME", pw, "PROJECT", "HTTP",
		"TIME", "REASON");
	for (size_t i = 0; i < n; i++) {
		const struct report_item *it = &rep->items[i];
		const struct ht_target *t = &rep->cfg->targets[i];
		enum ht_class c = (enum ht_class)it->cls;
		char code[24] = "-", ms[32] = "-";

		count[c]++;
		if (it->http_code > 0)
			snprintf(code, sizeof(code), "%ld", (long)it->http_code);
		if (it->total_ms >= 0)
			snprintf(ms, sizeof(ms), "%.0f ms", it->total_ms);
		fprintf(out, "%s%-9s%s  ", color ? ansi[c] : "", ht_class_name(c), color ? "\033[0m" : "");
		put_column(out, t->name, nw);
		put_column(out, t->project, pw);
		fprintf(out, "%4s  %9s  %s\n", code, ms, rep->text + it->reason);
	}
	fprintf(out, "%zu targets: %zu healthy, %zu degraded, %zu down (%.1f s)\n", n,
		count[HT_HEALTHY], count[HT_DEGRADED], count[HT_DOWN], elapsed_s);
}

static cJSON *ms_or_null(double ms)
{
	return ms < 0 ? cJSON_CreateNull() : cJSON_CreateNumber(round(ms * 10.0) / 10.0);
}

static cJSON *item_json(const struct check_report *rep, size_t i)
{
	const struct report_item *r = &rep->items[i];
	const struct ht_target *t = &rep->cfg->targets[i];
	cJSON *o = cJSON_CreateObject(), *ph = cJSON_CreateObject();
	char when[40];

	if (!o || !ph) {
		cJSON_Delete(o);
		cJSON_Delete(ph);
		return NULL;
	}
	cJSON_AddStringToObject(o, "name", t->name);
	cJSON_AddStringToObject(o, "project", t->project);
	cJSON_AddStringToObject(o, "url", t->display_url);
	cJSON_AddStringToObject(o, "status", ht_class_name((enum ht_class)r->cls));
	clock_iso8601(r->checked_at_ms, true, when, sizeof(when));
	cJSON_AddStringToObject(o, "checked_at", when);
	if (r->http_code > 0)
		cJSON_AddNumberToObject(o, "http_code", (double)r->http_code);
	else
		cJSON_AddNullToObject(o, "http_code");
	cJSON_AddItemToObject(o, "response_ms", ms_or_null(r->total_ms));
	cJSON_AddStringToObject(o, "reason", rep->text + r->reason);
	cJSON_AddItemToObject(ph, "dns_ms", ms_or_null(r->dns_ms));
	cJSON_AddItemToObject(ph, "connect_ms", ms_or_null(r->connect_ms));
	cJSON_AddItemToObject(ph, "tls_ms", ms_or_null(r->tls_ms));
	cJSON_AddItemToObject(ph, "ttfb_ms", ms_or_null(r->ttfb_ms));
	cJSON_AddItemToObject(o, "phases", ph);
	if (r->cert_expiry > 0) {
		clock_iso8601(r->cert_expiry * 1000, false, when, sizeof(when));
		cJSON_AddStringToObject(o, "cert_expiry", when);
	} else {
		cJSON_AddNullToObject(o, "cert_expiry");
	}
	return o;
}

int report_json(FILE *out, const struct check_report *rep)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(root, "results");
	char *text;

	if (!root || !arr)
		goto oom;
	for (size_t i = 0; i < rep->n; i++) {
		cJSON *o = item_json(rep, i);
		if (!o)
			goto oom;
		cJSON_AddItemToArray(arr, o);
	}
	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		return -1;
	fprintf(out, "%s\n", text);
	cJSON_free(text);
	return 0;
oom:
	cJSON_Delete(root);
	return -1;
}

int report_exit_code(const struct check_report *rep)
{
	int worst = HT_HEALTHY;

	for (size_t i = 0; i < rep->n; i++)
		if (rep->items[i].cls > worst)
			worst = rep->items[i].cls;
	return worst;
}

#include "autoconfig.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include "healthtop/core/clock.h"
#include "healthtop/cmd/check_report.h"

#define NAME_COL_MAX 32

static const char *const ansi[HT_CLASS_COUNT] = { "\033[32m", "\033[33m", "\033[31;1m" };

/* Characters in s (names are valid UTF-8: config checks them); each takes one column. */
static int chars_of(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static int width_of(const struct report_item *items, size_t n, bool project)
{
	int w = project ? 7 : 4;

	for (size_t i = 0; i < n; i++) {
		int len = chars_of(project ? items[i].target->project : items[i].target->name);
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

void report_table(FILE *out, const struct report_item *items, size_t n, double elapsed_s, bool color)
{
	int nw = width_of(items, n, false), pw = width_of(items, n, true);
	size_t count[HT_CLASS_COUNT] = { 0 };

	fprintf(out, "%-9s  %-*s  %-*s  %4s  %9s  %s\n", "STATUS", nw, "NAME", pw, "PROJECT", "HTTP",
		"TIME", "REASON");
	for (size_t i = 0; i < n; i++) {
		const struct report_item *it = &items[i];
		enum ht_class c = it->verdict.cls;
		char code[24] = "-", ms[32] = "-";

		count[c]++;
		if (it->result.http_code > 0)
			snprintf(code, sizeof(code), "%ld", it->result.http_code);
		if (it->result.total_ms >= 0)
			snprintf(ms, sizeof(ms), "%.0f ms", it->result.total_ms);
		fprintf(out, "%s%-9s%s  ", color ? ansi[c] : "", ht_class_name(c), color ? "\033[0m" : "");
		put_column(out, it->target->name, nw);
		put_column(out, it->target->project, pw);
		fprintf(out, "%4s  %9s  %s\n", code, ms, it->verdict.reason);
	}
	fprintf(out, "%zu targets: %zu healthy, %zu degraded, %zu down (%.1f s)\n", n,
		count[HT_HEALTHY], count[HT_DEGRADED], count[HT_DOWN], elapsed_s);
}

static cJSON *ms_or_null(double ms)
{
	return ms < 0 ? cJSON_CreateNull() : cJSON_CreateNumber(round(ms * 10.0) / 10.0);
}

static cJSON *item_json(const struct report_item *it)
{
	const struct probe_result *r = &it->result;
	cJSON *o = cJSON_CreateObject(), *ph = cJSON_CreateObject();
	char when[40];

	if (!o || !ph) {
		cJSON_Delete(o);
		cJSON_Delete(ph);
		return NULL;
	}
	cJSON_AddStringToObject(o, "name", it->target->name);
	cJSON_AddStringToObject(o, "project", it->target->project);
	cJSON_AddStringToObject(o, "url", it->target->display_url);
	cJSON_AddStringToObject(o, "status", ht_class_name(it->verdict.cls));
	clock_iso8601(r->started_ms, true, when, sizeof(when));
	cJSON_AddStringToObject(o, "checked_at", when);
	if (r->http_code > 0)
		cJSON_AddNumberToObject(o, "http_code", (double)r->http_code);
	else
		cJSON_AddNullToObject(o, "http_code");
	cJSON_AddItemToObject(o, "response_ms", ms_or_null(r->total_ms));
	cJSON_AddStringToObject(o, "reason", it->verdict.reason);
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

int report_json(FILE *out, const struct report_item *items, size_t n)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(root, "results");
	char *text;

	if (!root || !arr)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		cJSON *o = item_json(&items[i]);
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

int report_exit_code(const struct report_item *items, size_t n)
{
	enum ht_class worst = HT_HEALTHY;

	for (size_t i = 0; i < n; i++)
		if (items[i].verdict.cls > worst)
			worst = items[i].verdict.cls;
	return (int)worst;
}

#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/core/classify.h"

#define NOW 1800000000

#define TIMEOUT_MS 5000

static const struct ht_rules rules = {
	.degraded_ms = 1000, .tls_expiry_warn_days = 14, .heartbeat_stale_s = 30,
};

struct row {
	const char *what;
	enum probe_outcome outcome;
	long code;
	double ms;
	const char *body;
	int64_t cert_expiry;
	enum ht_class want;
	const char *reason;   /* substring the reason must hold */
};

/* The table, one line (or more) per row. */
static const struct row table[] = {
	{ "dns failure", PROBE_DNS, 0, 3, NULL, 0, HT_DOWN, "DNS: " },
	{ "refused", PROBE_REFUSED, 0, 1, NULL, 0, HT_DOWN, "connection refused" },
	{ "unreachable", PROBE_UNREACHABLE, 0, 1, NULL, 0, HT_DOWN, "unreachable" },
	{ "tls invalid", PROBE_TLS, 0, 9, NULL, 0, HT_DOWN, "TLS: " },
	{ "redirect loop", PROBE_REDIRECTS, 302, 9, NULL, 0, HT_DOWN, "redirect loop" },
	{ "timeout", PROBE_TIMEOUT, 0, 5000, NULL, 0, HT_DEGRADED, "timeout after 5000 ms" },
	{ "503", PROBE_OK, 503, 5, "", 0, HT_DEGRADED, "HTTP 503" },
	{ "500", PROBE_OK, 500, 5, "", 0, HT_DEGRADED, "HTTP 500" },
	{ "429", PROBE_OK, 429, 5, "", 0, HT_DEGRADED, "HTTP 429" },
	{ "404", PROBE_OK, 404, 5, "", 0, HT_DOWN, "HTTP 404" },
	{ "401", PROBE_OK, 401, 5, "", 0, HT_DOWN, "HTTP 401" },
	{ "301 left over", PROBE_OK, 301, 5, "", 0, HT_DOWN, "HTTP 301" },
	{ "slow 2xx", PROBE_OK, 200, 1500, "", 0, HT_DEGRADED, "slow: 1500 ms > 1000 ms" },
	{ "fast 2xx", PROBE_OK, 204, 999, "", 0, HT_HEALTHY, "HTTP 204" },
	{ "status ok", PROBE_OK, 200, 5, "{\"status\":\"ok\"}", 0, HT_HEALTHY, "" },
	{ "status HEALTHY", PROBE_OK, 200, 5, "{\"status\":\"HEALTHY\"}", 0, HT_HEALTHY, "" },
	{ "status Up", PROBE_OK, 200, 5, "{\"status\":\"Up\"}", 0, HT_HEALTHY, "" },
	{ "status pass", PROBE_OK, 200, 5, "{\"status\":\"pass\"}", 0, HT_HEALTHY, "" },
	{ "status degraded", PROBE_OK, 200, 5, "{\"status\":\"degraded\"}", 0, HT_DEGRADED, "status: degraded" },
	{ "status warn", PROBE_OK, 200, 5, "{\"status\":\"warn\"}", 0, HT_DEGRADED, "status: warn" },
	{ "status warning", PROBE_OK, 200, 5, "{\"status\":\"Warning\"}", 0, HT_DEGRADED, "status: Warning" },
	{ "status OUT_OF_SERVICE", PROBE_OK, 200, 5, "{\"status\":\"OUT_OF_SERVICE\"}", 0, HT_DEGRADED, "OUT_OF_SERVICE" },
	{ "status UNKNOWN", PROBE_OK, 200, 5, "{\"status\":\"UNKNOWN\"}", 0, HT_DEGRADED, "UNKNOWN" },
	{ "status failing", PROBE_OK, 200, 5, "{\"status\":\"failing\"}", 0, HT_DOWN, "status: failing" },
	{ "status fail", PROBE_OK, 200, 5, "{\"status\":\"fail\"}", 0, HT_DOWN, "status: fail" },
	{ "status DOWN", PROBE_OK, 200, 5, "{\"status\":\"DOWN\"}", 0, HT_DOWN, "status: DOWN" },
	{ "status unhealthy", PROBE_OK, 200, 5, "{\"status\":\"unhealthy\"}", 0, HT_DOWN, "unhealthy" },
	{ "status error", PROBE_OK, 200, 5, "{\"status\":\"error\"}", 0, HT_DOWN, "status: error" },
	{ "status critical", PROBE_OK, 200, 5, "{\"status\":\"critical\"}", 0, HT_DOWN, "critical" },
	{ "spring component", PROBE_OK, 200, 5,
	  "{\"status\":\"UP\",\"components\":{\"db\":{\"status\":\"DOWN\"},\"disk\":{\"status\":\"UP\"}}}",
	  0, HT_DEGRADED, "db: DOWN" },
	{ "ietf check", PROBE_OK, 200, 5,
	  "{\"status\":\"pass\",\"checks\":{\"db:responseTime\":[{\"status\":\"pass\"},{\"status\":\"warn\"}]}}",
	  0, HT_DEGRADED, "db:responseTime: warn" },
	{ "top-level status word", PROBE_OK, 200, 5,
	  "{\"status\":\"ok\",\"postgres\":\"ok\",\"redis\":\"error\"}", 0, HT_DEGRADED, "redis: error" },
	{ "worker not ok", PROBE_OK, 200, 5,
	  "{\"status\":\"ok\",\"workers\":[{\"type\":\"ai\",\"status\":\"error\",\"last_heartbeat\":1800000000}]}",
	  0, HT_DEGRADED, "worker ai: error" },
	{ "stale heartbeat", PROBE_OK, 200, 5,
	  "{\"status\":\"ok\",\"workers\":[{\"type\":\"ai\",\"last_heartbeat\":1799999960,\"status\":\"ok\"}]}",
	  0, HT_DEGRADED, "worker ai: heartbeat 40 s old" },
	{ "fresh heartbeat", PROBE_OK, 200, 5,
	  "{\"status\":\"ok\",\"workers\":[{\"type\":\"ai\",\"last_heartbeat\":1799999990,\"status\":\"ok\"}]}",
	  0, HT_HEALTHY, "" },
	{ "cert expires soon", PROBE_OK, 200, 5, "{\"status\":\"ok\"}", NOW + 3 * 86400 + 60, HT_DEGRADED,
	  "cert expires in 3 d" },
	{ "cert far away", PROBE_OK, 200, 5, "{\"status\":\"ok\"}", NOW + 90 * 86400, HT_HEALTHY, "" },
	{ "cert expired", PROBE_OK, 200, 5, "{\"status\":\"ok\"}", NOW - 2 * 86400, HT_DOWN, "cert expired 2 d ago" },
	{ "invalid json, 200", PROBE_OK, 200, 5, "{\"status\": \"down\"", 0, HT_HEALTHY, "HTTP 200" },
	{ "invalid json, 503", PROBE_OK, 503, 5, "<html>oops</html>", 0, HT_DEGRADED, "HTTP 503" },
	{ "503 and body down: worst wins", PROBE_OK, 503, 5, "{\"status\":\"DOWN\"}", 0, HT_DOWN, "status: DOWN; HTTP 503" },
	{ "component stays degraded under body ok", PROBE_OK, 200, 5,
	  "{\"status\":\"ok\",\"storage\":\"down\"}", 0, HT_DEGRADED, "storage: down" },
};

static void run_row(const struct row *r)
{
	struct probe_result res = {
		.outcome = r->outcome, .http_code = r->code, .total_ms = r->ms,
		.body = (char *)r->body, .body_len = r->body ? strlen(r->body) : 0,
		.cert_expiry = r->cert_expiry,
	};
	struct ht_verdict v;

	snprintf(res.error, sizeof(res.error), "%s", "detail from curl");
	classify_result(&res, &rules, TIMEOUT_MS, NOW, &v);
	if (v.cls != r->want || !strstr(v.reason, r->reason))
		fail_msg("%s: got %s \"%s\", want %s \"%s\"", r->what, ht_class_name(v.cls), v.reason,
			 ht_class_name(r->want), r->reason);
}

static void test_classify_every_table_row(void **state)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		run_row(&table[i]);
}

static void test_classify_timeout_reason_uses_the_targets_timeout(void **state)
{
	struct probe_result res = { .outcome = PROBE_TIMEOUT, .total_ms = 2500 };
	struct ht_verdict v;

	classify_result(&res, &rules, 2500, NOW, &v);
	assert_int_equal(v.cls, HT_DEGRADED);
	assert_string_equal(v.reason, "timeout after 2500 ms");
}

static void test_classify_cert_under_a_day_says_hours(void **state)
{
	struct probe_result res = { .outcome = PROBE_OK, .http_code = 200, .total_ms = 3,
				    .cert_expiry = NOW + 5 * 3600 + 10 };
	struct ht_verdict v;

	classify_result(&res, &rules, TIMEOUT_MS, NOW, &v);
	assert_int_equal(v.cls, HT_DEGRADED);
	assert_string_equal(v.reason, "cert expires in 5 h");
}

static void test_classify_reason_lists_worst_first(void **state)
{
	struct probe_result res = { .outcome = PROBE_OK, .http_code = 200, .total_ms = 1200,
				    .body = "{\"status\":\"fail\"}", .body_len = 17 };
	struct ht_verdict v;

	classify_result(&res, &rules, TIMEOUT_MS, NOW, &v);
	assert_int_equal(v.cls, HT_DOWN);
	assert_string_equal(v.reason, "status: fail; slow: 1200 ms > 1000 ms");
}

/* True when s is valid UTF-8 to its last byte (a cut never leaves half a character). */
static bool ends_whole(const char *s)
{
	size_t n = strlen(s), k = n;

	while (k > 0 && n - k < 4 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
		k--;
	if (k == n)
		return k == 0 || (unsigned char)s[k - 1] < 0x80;
	unsigned char lead = (unsigned char)s[k - 1];
	size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
	return n - (k - 1) == want;
}

/* Issue 9 §4: an error of U+FFFD characters (what sanitize makes of raw bytes) cut at the
 * finding's size split the last one; check --format json then printed invalid UTF-8. */
static void test_classify_long_reason_is_cut_between_characters(void **state)
{
	for (size_t shift = 0; shift < 3; shift++) {
		struct probe_result r = { .outcome = PROBE_DNS, .total_ms = 1 };
		struct ht_verdict v;
		size_t o = 0;

		for (; o < shift; o++)
			r.error[o] = 'x';
		while (o + 3 < sizeof(r.error)) {
			memcpy(r.error + o, "\xEF\xBF\xBD", 3);
			o += 3;
		}
		r.error[o] = '\0';
		classify_result(&r, &rules, TIMEOUT_MS, NOW, &v);
		assert_true(strlen(v.reason) > 100);
		assert_true(ends_whole(v.reason));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_every_table_row),
		cmocka_unit_test(test_classify_timeout_reason_uses_the_targets_timeout),
		cmocka_unit_test(test_classify_cert_under_a_day_says_hours),
		cmocka_unit_test(test_classify_reason_lists_worst_first),
		cmocka_unit_test(test_classify_long_reason_is_cut_between_characters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

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


/* The operator's rules, one behaviour each: what each key changes, and what it does not. */
struct rule_row {
	const char *what;
	const char *config;    /* keys of the target */
	enum probe_outcome outcome;
	long code;
	const char *body;
	enum ht_class want;
	const char *reason;    /* the whole reason */
	bool up;
};

static const struct rule_row rule_table[] = {
	{ "timeout: degraded by default", "", PROBE_TIMEOUT, 0, NULL, HT_DEGRADED, "timeout after 5000 ms", false },
	{ "on_timeout down", "\"on_timeout\":\"down\"", PROBE_TIMEOUT, 0, NULL, HT_DOWN, "timeout after 5000 ms", false },
	{ "on_timeout degraded", "\"on_timeout\":\"degraded\"", PROBE_TIMEOUT, 0, NULL, HT_DEGRADED,
	  "timeout after 5000 ms", false },
	{ "503: degraded by default", "", PROBE_OK, 503, "", HT_DEGRADED, "HTTP 503", false },
	{ "on_5xx down", "\"on_5xx\":\"down\"", PROBE_OK, 500, "", HT_DOWN, "HTTP 500", false },
	{ "on_5xx does not touch 429", "\"on_5xx\":\"down\"", PROBE_OK, 429, "", HT_DEGRADED, "HTTP 429", false },
	{ "on_5xx does not touch a timeout", "\"on_5xx\":\"down\"", PROBE_TIMEOUT, 0, NULL, HT_DEGRADED,
	  "timeout after 5000 ms", false },
	{ "5xx is judged first even when accepted", "\"expect_status\":[\"2xx\",503]", PROBE_OK, 503, "",
	  HT_DEGRADED, "HTTP 503", false },
	{ "default: 2xx is up", "", PROBE_OK, 204, "", HT_HEALTHY, "HTTP 204", true },
	{ "default: 404 down", "", PROBE_OK, 404, "", HT_DOWN, "HTTP 404", false },
	{ "expect_status accepts 401", "\"expect_status\":[\"200-299\",401]", PROBE_OK, 401, "", HT_HEALTHY,
	  "HTTP 401", true },
	{ "expect_status: 4xx left out is down", "\"expect_status\":[200]", PROBE_OK, 418, "", HT_DOWN,
	  "HTTP 418 not accepted (expect_status)", false },
	{ "expect_status: 2xx left out is degraded", "\"expect_status\":[200]", PROBE_OK, 204, "", HT_DEGRADED,
	  "HTTP 204 not accepted (expect_status)", false },
	{ "expect_status: 3xx accepted", "\"expect_status\":\"3xx\"", PROBE_OK, 304, "", HT_HEALTHY, "HTTP 304", true },
	{ "expect_json holds", "\"expect_json\":{\"/database/status\":\"up\"}", PROBE_OK, 200,
	  "{\"database\":{\"status\":\"up\"}}", HT_HEALTHY, "HTTP 200", true },
	{ "expect_json fails: degraded with pointer and value", "\"expect_json\":{\"/db/state\":\"ready\"}",
	  PROBE_OK, 200, "{\"db\":{\"state\":\"starting\"}}", HT_DEGRADED,
	  "/db/state is \"starting\", expected \"ready\"", true },
	{ "expect_json on a body that is not JSON", "\"expect_json\":{\"/n\":3}", PROBE_OK, 200, "hello",
	  HT_DEGRADED, "/n: body is not JSON, expected 3", true },
	{ "expect_json is not checked on a failing status", "\"expect_json\":{\"/n\":3}", PROBE_OK, 503, "{}",
	  HT_DEGRADED, "HTTP 503", false },
	{ "a check classed down is not up", "", PROBE_OK, 200, "{\"status\":\"down\"}", HT_DOWN, "status: down", false },
	{ "slow but answered is up", "", PROBE_OK, 200, "", HT_DEGRADED, "slow: 1500 ms > 1000 ms", true },
};

static void run_rule_row(const struct rule_row *r)
{
	char text[512];
	struct ht_config cfg;
	struct ht_err err = { "" };
	bool slow = strstr(r->reason, "slow") != NULL;
	struct probe_result res = {
		.outcome = r->outcome, .http_code = r->code, .total_ms = slow ? 1500 : 5,
		.body = (char *)r->body, .body_len = r->body ? strlen(r->body) : 0,
	};
	struct ht_verdict v;

	snprintf(text, sizeof(text), "{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\"%s%s}]}",
		 r->config[0] ? "," : "", r->config);
	if (config_parse(text, strlen(text), "t.json", NULL, &cfg, &err) < 0)
		fail_msg("%s: %s", r->what, err.msg);
	classify_result(&res, &cfg.targets[0].rules, TIMEOUT_MS, NOW, &v);
	bool up = classify_is_up(&res, &cfg.targets[0].rules, v.cls);
	config_free(&cfg);
	if (v.cls != r->want || strcmp(v.reason, r->reason) != 0 || up != r->up)
		fail_msg("%s: got %s \"%s\" up %d, want %s \"%s\" up %d", r->what, ht_class_name(v.cls), v.reason,
			 up, ht_class_name(r->want), r->reason, r->up);
}

static void test_classify_operator_rules_each_change_the_class_as_documented(void **state)
{
	for (size_t i = 0; i < sizeof(rule_table) / sizeof(rule_table[0]); i++)
		run_rule_row(&rule_table[i]);
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
		cmocka_unit_test(test_classify_operator_rules_each_change_the_class_as_documented),
		cmocka_unit_test(test_classify_timeout_reason_uses_the_targets_timeout),
		cmocka_unit_test(test_classify_cert_under_a_day_says_hours),
		cmocka_unit_test(test_classify_reason_lists_worst_first),
		cmocka_unit_test(test_classify_long_reason_is_cut_between_characters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

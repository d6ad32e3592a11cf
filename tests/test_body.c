#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/core/body.h"

#define NOW 1712345010

static void assess(const char *body, struct body_report *r)
{
	body_assess(body, strlen(body), 30, NOW, r);
}

static void test_body_status_words_any_case(void **state)
{
	assert_int_equal(body_status_word("OK"), BODY_WORD_OK);
	assert_int_equal(body_status_word("pass"), BODY_WORD_OK);
	assert_int_equal(body_status_word("out_of_service"), BODY_WORD_DEGRADED);
	assert_int_equal(body_status_word("Critical"), BODY_WORD_DOWN);
	assert_int_equal(body_status_word("2.0.0"), BODY_WORD_NONE);
	assert_int_equal(body_status_word(NULL), BODY_WORD_NONE);
}

static void test_body_hivesync_deep_all_ok_is_healthy(void **state)
{
	struct body_report r;

	assess("{\"status\":\"ok\",\"postgres\":\"ok\",\"redis\":\"ok\",\"storage\":\"ok\",\"repo_mirrors\":\"ok\"}", &r);
	assert_true(r.parsed);
	assert_int_equal(r.cls, HT_HEALTHY);
	assert_int_equal(r.ncomps, 4);
	assert_string_equal(r.comps[1].name, "redis");
	assert_string_equal(r.comps[1].state, "ok");
}

static void test_body_version_string_is_not_a_component(void **state)
{
	struct body_report r;

	assess("{\"status\":\"ok\",\"version\":\"2.0.0\",\"project\":\"x\",\"uptime\":5}", &r);
	assert_int_equal(r.cls, HT_HEALTHY);
	assert_int_equal(r.ncomps, 0);
}

static void test_body_hivesync_workers_stale_heartbeat(void **state)
{
	struct body_report r;

	assess("{\"status\":\"ok\",\"workers\":["
	       "{\"type\":\"ai\",\"last_heartbeat\":1712345000,\"status\":\"ok\"},"
	       "{\"type\":\"repo_sync\",\"last_heartbeat\":1712344900,\"status\":\"ok\"}]}", &r);
	assert_int_equal(r.cls, HT_DEGRADED);
	assert_string_equal(r.reason, "worker repo_sync: heartbeat 110 s old");
	assert_int_equal(r.ncomps, 2);
	assert_string_equal(r.comps[1].state, "stale");
}

static void test_body_heartbeat_in_milliseconds_is_understood(void **state)
{
	struct body_report r;

	assess("{\"workers\":[{\"id\":\"w1\",\"last_heartbeat\":1712345000000}]}", &r);
	assert_int_equal(r.cls, HT_HEALTHY);
}

static void test_body_seed_checks_object_with_warning(void **state)
{
	struct body_report r;

	assess("{\"timestamp\":\"2025-11-06T15:47:26\",\"status\":\"healthy\",\"checks\":{"
	       "\"memory\":{\"percent_used\":9.4,\"status\":\"ok\"},"
	       "\"disk\":{\"percent_used\":91.9,\"status\":\"warning\"}}}", &r);
	assert_int_equal(r.cls, HT_DEGRADED);
	assert_string_equal(r.reason, "disk: warning");
}

static void test_body_ietf_worst_measurement_speaks(void **state)
{
	struct body_report r;

	assess("{\"status\":\"pass\",\"checks\":{\"cassandra:connections\":["
	       "{\"componentId\":\"a\",\"status\":\"pass\"},{\"componentId\":\"b\",\"status\":\"fail\"}]}}", &r);
	assert_int_equal(r.cls, HT_DEGRADED);
	assert_int_equal(r.ncomps, 1);
	assert_string_equal(r.comps[0].state, "fail");
	assert_int_equal(r.comps[0].cls, HT_DOWN);
}

static void test_body_spring_nested_components(void **state)
{
	struct body_report r;

	assess("{\"status\":\"UP\",\"components\":{\"db\":{\"status\":\"UP\",\"components\":{"
	       "\"primary\":{\"status\":\"UP\"},\"replica\":{\"status\":\"DOWN\"}}}}}", &r);
	assert_int_equal(r.cls, HT_DEGRADED);
	assert_string_equal(r.reason, "db/replica: DOWN");
}

static void test_body_unrecognised_status_is_degraded(void **state)
{
	struct body_report r;

	assess("{\"status\":\"starting\"}", &r);
	assert_int_equal(r.cls, HT_DEGRADED);
	assert_string_equal(r.reason, "status \"starting\" not recognised");
}

static void test_body_not_json_or_not_object_is_skipped(void **state)
{
	struct body_report r;

	assess("OK", &r);
	assert_false(r.parsed);
	assert_int_equal(r.cls, HT_HEALTHY);
	assess("[\"down\"]", &r);
	assert_false(r.parsed);
	assess("{\"status\":\"down\"", &r);
	assert_false(r.parsed);
}

static void test_body_component_names_are_sanitized(void **state)
{
	struct body_report r;

	assess("{\"re\\u001b[2Jdis\":\"error\"}", &r);
	assert_int_equal(r.ncomps, 1);
	assert_null(strchr(r.comps[0].name, 0x1b));
	assert_null(strchr(r.reason, 0x1b));
}

static void test_body_many_components_are_bounded(void **state)
{
	char *body = malloc(64 * 1024);
	size_t o = 0;
	struct body_report r;

	o += (size_t)sprintf(body + o, "{");
	for (int i = 0; i < 1000; i++)
		o += (size_t)sprintf(body + o, "%s\"c%d\":\"down\"", i ? "," : "", i);
	sprintf(body + o, "}");
	assess(body, &r);
	assert_int_equal(r.ncomps, BODY_MAX_COMPONENTS);
	assert_int_equal(r.ncomps_seen, 1000);
	assert_int_equal(r.cls, HT_DEGRADED);
	/* The first components are the ones kept, and the reason lists whole findings only: it
	 * starts with the first and stops before one that would not fit, never in its middle. */
	assert_string_equal(r.comps[0].name, "c0");
	assert_string_equal(r.comps[BODY_MAX_COMPONENTS - 1].name, "c31");
	assert_int_equal(strncmp(r.reason, "c0: down, c1: down", 18), 0);
	size_t len = strlen(r.reason);
	assert_true(len > 6);
	assert_string_equal(r.reason + len - 6, ": down");
	free(body);
}

static void test_body_deep_nesting_does_not_crash(void **state)
{
	size_t depth = 5000;
	char *body = malloc(depth * 24 + 64);
	size_t o = 0;
	struct body_report r;

	o += (size_t)sprintf(body + o, "{\"status\":\"ok\",\"components\":");
	for (size_t i = 0; i < depth; i++)
		o += (size_t)sprintf(body + o, "{\"a\":{\"components\":");
	o += (size_t)sprintf(body + o, "{}");
	for (size_t i = 0; i < depth; i++)
		o += (size_t)sprintf(body + o, "}}");
	sprintf(body + o, "}");
	assess(body, &r);   /* beyond cJSON's nesting limit: treated as not JSON */
	/* Healthy because the body was skipped, not because its "ok" was read: the class alone
	 * would pass either way. */
	assert_false(r.parsed);
	assert_false(r.has_status);
	assert_int_equal(r.ncomps, 0);
	assert_int_equal(r.ncomps_seen, 0);
	assert_int_equal(r.cls, HT_HEALTHY);
	free(body);
}

/* Issue 9 §4: a body over 64 KiB was cut, failed to parse and was judged healthy. */
static void test_body_cut_body_reads_its_status_from_the_kept_part(void **state)
{
	static const char fail[] = "{ \"status\" : \"fail\", \"pad\": \"xxxxxxxx";
	static const char ok[] = "{\"status\":\"UP\",\"components\":{\"db\":{\"sta";
	struct body_report r;

	body_assess_cut(fail, strlen(fail), &r);
	assert_int_equal(r.cls, HT_DOWN);
	assert_string_equal(r.reason, "status: fail");
	body_assess_cut(ok, strlen(ok), &r);
	assert_int_equal(r.cls, HT_HEALTHY);
}

static void test_body_cut_body_without_a_whole_status_is_degraded(void **state)
{
	static const char *const cut[] = { "{\"pad\":\"xxxx", "{\"status\":\"fa", "[1,2,", "<html>",
					   "{\"status\":\"f\\u0061il\"}" };
	struct body_report r;

	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		char big[70000];
		size_t n = strlen(cut[i]);
		memcpy(big, cut[i], n);
		memset(big + n, 'x', 65536 - n);   /* the size probe keeps */
		body_assess_cut(big, 65536, &r);
		assert_int_equal(r.cls, HT_DEGRADED);
		assert_string_equal(r.reason, "body too large to judge (> 64 KiB)");
	}
}

/* A heartbeat far ahead of our clock never went stale: it is clock skew, degraded. */
static void test_body_heartbeat_from_the_future_is_clock_skew(void **state)
{
	struct body_report r;

	assess("{\"workers\":[{\"id\":\"w1\",\"last_heartbeat\":1712346010,\"status\":\"ok\"}]}", &r);
	assert_int_equal(r.cls, HT_DEGRADED);
	assert_string_equal(r.reason, "worker w1: heartbeat 1000 s in the future (clock skew)");
	assess("{\"workers\":[{\"id\":\"w1\",\"last_heartbeat\":1712345200,\"status\":\"ok\"}]}", &r);
	assert_int_equal(r.cls, HT_HEALTHY);   /* within 5 minutes: ordinary clock drift */
	assess("{\"workers\":[{\"id\":\"w1\",\"last_heartbeat\":1e300}]}", &r);
	assert_string_equal(r.reason, "worker w1: heartbeat over 1000000000 s in the future (clock skew)");
}

/* A huge negative heartbeat printed all 300 digits of its age. */
static void test_body_absurd_heartbeat_prints_a_bounded_number(void **state)
{
	struct body_report r;

	assess("{\"workers\":[{\"id\":\"w1\",\"last_heartbeat\":-1e300}]}", &r);
	assert_int_equal(r.cls, HT_DEGRADED);
	assert_string_equal(r.reason, "worker w1: heartbeat over 1000000000 s old");
	assess("{\"workers\":[{\"id\":\"w1\",\"last_heartbeat\":1e999}]}", &r);
	assert_int_equal(r.cls, HT_DEGRADED);
	assert_non_null(strstr(r.reason, "over 1000000000 s"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_status_words_any_case),
		cmocka_unit_test(test_body_hivesync_deep_all_ok_is_healthy),
		cmocka_unit_test(test_body_version_string_is_not_a_component),
		cmocka_unit_test(test_body_hivesync_workers_stale_heartbeat),
		cmocka_unit_test(test_body_heartbeat_in_milliseconds_is_understood),
		cmocka_unit_test(test_body_seed_checks_object_with_warning),
		cmocka_unit_test(test_body_ietf_worst_measurement_speaks),
		cmocka_unit_test(test_body_spring_nested_components),
		cmocka_unit_test(test_body_unrecognised_status_is_degraded),
		cmocka_unit_test(test_body_not_json_or_not_object_is_skipped),
		cmocka_unit_test(test_body_component_names_are_sanitized),
		cmocka_unit_test(test_body_many_components_are_bounded),
		cmocka_unit_test(test_body_deep_nesting_does_not_crash),
		cmocka_unit_test(test_body_cut_body_reads_its_status_from_the_kept_part),
		cmocka_unit_test(test_body_cut_body_without_a_whole_status_is_degraded),
		cmocka_unit_test(test_body_heartbeat_from_the_future_is_clock_skew),
		cmocka_unit_test(test_body_absurd_heartbeat_prints_a_bounded_number),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

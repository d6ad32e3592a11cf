/* Kubernetes' verbose health text becomes components, as a JSON body's would. */
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
#include "healthtop/core/classify.h"

#define NOW 1712345010

static const char readyz_ok[] =
	"[+]ping ok\n[+]log ok\n[+]etcd ok\n[+]poststarthook/start-kube-aggregator-informers ok\n"
	"readyz check passed\n";
static const char readyz_failing[] =
	"[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\n[+]informer-sync ok\n"
	"readyz check failed\n";

static void assess(const char *body, struct body_report *r)
{
	body_assess(body, strlen(body), 30, NOW, r);
}

static void test_text_all_ok_is_healthy_with_every_check_as_a_component(void **state)
{
	struct body_report r;

	assess(readyz_ok, &r);
	assert_int_equal(r.cls, HT_HEALTHY);
	assert_int_equal(r.ncomps, 4);
	assert_string_equal(r.comps[3].name, "poststarthook/start-kube-aggregator-informers");
	assert_string_equal(r.comps[3].state, "ok");
	assert_string_equal(r.reason, "");
}

static void test_text_failed_check_is_degraded_with_name_and_reason(void **state)
{
	struct body_report r;

	assess(readyz_failing, &r);
	assert_int_equal(r.cls, HT_DEGRADED);
	assert_int_equal(r.ncomps, 4);
	assert_string_equal(r.comps[2].name, "etcd");
	assert_string_equal(r.comps[2].state, "failed");
	assert_int_equal(r.comps[2].cls, HT_DEGRADED);
	assert_string_equal(r.reason, "etcd: reason withheld");
}

static void test_text_crlf_and_bare_failed_lines(void **state)
{
	struct body_report r;

	assess("[-]a failed\r\n[-]b failed: disk full\r\n[+]c ok\r\n", &r);
	assert_int_equal(r.cls, HT_DEGRADED);
	assert_int_equal(r.ncomps, 3);
	assert_string_equal(r.comps[0].name, "a");
	assert_string_equal(r.reason, "a: failed, b: disk full");
}

static void test_text_without_marked_lines_is_not_a_format(void **state)
{
	struct body_report r;

	assess("ok\n", &r);
	assert_int_equal(r.cls, HT_HEALTHY);
	assert_int_equal(r.ncomps, 0);
	assess("[x]ping ok\n[+] ok\n", &r);
	assert_int_equal(r.ncomps, 0);
}

static void test_text_names_are_sanitized(void **state)
{
	struct body_report r;

	assess("[-]bad\x1b[2Jname failed: x\x07y\n", &r);
	assert_int_equal(r.ncomps, 1);
	assert_null(strchr(r.comps[0].name, '\x1b'));
	assert_null(strchr(r.reason, '\x07'));
}

static void test_text_many_checks_are_bounded(void **state)
{
	char body[8192];
	size_t used = 0;
	struct body_report r;

	for (int i = 0; i < 100; i++)
		used += (size_t)snprintf(body + used, sizeof(body) - used, "[-]check%d failed: no\n", i);
	assess(body, &r);
	assert_int_equal(r.ncomps, BODY_MAX_COMPONENTS);
	assert_int_equal(r.ncomps_seen, 100);
	assert_int_equal(r.cls, HT_DEGRADED);
	assert_true(strlen(r.reason) < sizeof(r.reason));
}

/* kube-apiserver answers /readyz with 500 when a check fails: degraded, the failed check named. */
static void test_text_http_500_is_degraded_naming_the_failed_checks(void **state)
{
	struct probe_result res = { .outcome = PROBE_OK, .http_code = 500, .total_ms = 5,
				    .body = (char *)readyz_failing, .body_len = strlen(readyz_failing) };
	struct ht_rules rules = { .degraded_ms = 1000, .tls_expiry_warn_days = 14,
				  .heartbeat_stale_s = 30 };
	struct ht_verdict v;

	classify_result(&res, &rules, 5000, NOW, &v);
	assert_int_equal(v.cls, HT_DEGRADED);
	assert_non_null(strstr(v.reason, "etcd: reason withheld"));
	assert_int_equal(v.body.ncomps, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_all_ok_is_healthy_with_every_check_as_a_component),
		cmocka_unit_test(test_text_failed_check_is_degraded_with_name_and_reason),
		cmocka_unit_test(test_text_crlf_and_bare_failed_lines),
		cmocka_unit_test(test_text_without_marked_lines_is_not_a_format),
		cmocka_unit_test(test_text_names_are_sanitized),
		cmocka_unit_test(test_text_many_checks_are_bounded),
		cmocka_unit_test(test_text_http_500_is_degraded_naming_the_failed_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

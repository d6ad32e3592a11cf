/* check's report: what it keeps of each result is what it prints and stores, in about 80 bytes
 * a target instead of the whole result, verdict and observation (4 KiB each). */
#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/cmd/check_report.h"

#define NOW_S 1800000000

static struct ht_target targets[3] = {
	{ .name = "api", .project = "shop", .url = "http://api", .check_url = "http://api/health",
	  .display_url = "http://api/health", .interval_s = 60, .probe = { .timeout_ms = 2000 } },
	{ .name = "db", .project = "shop", .url = "tcp://db:5432", .check_url = "tcp://db:5432",
	  .display_url = "tcp://db:5432", .interval_s = 60, .probe = { .timeout_ms = 2000 } },
	{ .name = "web", .project = "front", .url = "http://web", .check_url = "http://web/health",
	  .display_url = "http://web/health", .interval_s = 60, .probe = { .timeout_ms = 2000 } },
};

static struct probe_result result(long code, enum probe_outcome outcome, const char *error)
{
	struct probe_result r = {
		.started_ms = (int64_t)NOW_S * 1000 - 1500, .outcome = outcome, .http_code = code,
		.total_ms = code ? 12.34 : -1, .dns_ms = code ? 0.5 : -1, .connect_ms = 1.25, .tls_ms = -1,
		.ttfb_ms = code ? 10.0 : -1, .cert_expiry = NOW_S + 86400,
	};
	snprintf(r.error, sizeof(r.error), "%s", error);
	return r;
}

static void assert_rows_equal(const struct store_row *a, const struct store_row *b)
{
	assert_int_equal(a->checked_at_ms, b->checked_at_ms);
	assert_int_equal(a->cls, b->cls);
	assert_int_equal(a->up, b->up);
	assert_int_equal(a->http_code, b->http_code);
	assert_true(a->response_ms == b->response_ms && a->dns_ms == b->dns_ms);
	assert_true(a->connect_ms == b->connect_ms && a->tls_ms == b->tls_ms && a->ttfb_ms == b->ttfb_ms);
	assert_int_equal(a->cert_expiry, b->cert_expiry);
	assert_string_equal(a->reason, b->reason);
	assert_string_equal(a->error ? a->error : "", b->error ? b->error : "");
	assert_string_equal(a->url, b->url);
}

/* The row made from the report is the one observe() made, field for field; the worst class
 * gives the exit code. */
static void test_check_report_keeps_what_observe_said(void **state)
{
	struct ht_config cfg = { .targets = targets, .ntargets = 3 };
	struct probe_result r[3] = { result(200, PROBE_OK, ""), result(0, PROBE_REFUSED, "Connection refused"),
				     result(200, PROBE_OK, "") };
	struct check_report rep;
	struct observation o;
	struct store_row row;

	assert_int_equal(report_init(&rep, &cfg), 0);
	for (size_t i = 0; i < 3; i++) {
		observe(&targets[i], &r[i], NULL, NOW_S, &o);
		assert_int_equal(report_set(&rep, i, &o), 0);
		report_row(&rep, i, &row);
		assert_rows_equal(&row, &o.row);
		assert_string_equal(report_reason(&rep, i), o.verdict.reason);
	}
	assert_int_equal(report_exit_code(&rep), HT_DOWN);
	assert_true(sizeof(struct report_item) <= 80);
	report_fini(&rep);
}

/* Many targets saying the same few things cost a few bytes of text in all. */
static void test_check_report_text_grows_only_with_new_texts(void **state)
{
	struct ht_target many[1000];
	struct ht_config cfg = { .targets = many, .ntargets = 1000 };
	struct probe_result ok = result(200, PROBE_OK, "");
	struct check_report rep;
	struct observation o;

	for (size_t i = 0; i < 1000; i++)
		many[i] = targets[0];
	assert_int_equal(report_init(&rep, &cfg), 0);
	for (size_t i = 0; i < 1000; i++) {
		observe(&many[i], &ok, NULL, NOW_S, &o);
		assert_int_equal(report_set(&rep, i, &o), 0);
	}
	assert_true(rep.text_len < 64);
	report_fini(&rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_report_keeps_what_observe_said),
		cmocka_unit_test(test_check_report_text_grows_only_with_new_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>
#include "healthtop/export/export_format.h"

static const char *cell(const char *in)
{
	static char out[512];
	export_csv_cell(in, out, sizeof(out));
	return out;
}

static void test_export_plain_cells_stay_plain(void **state)
{
	assert_string_equal(cell("api-prod"), "api-prod");
	assert_string_equal(cell(""), "");
}

static void test_export_quotes_commas_and_doubles_quotes(void **state)
{
	assert_string_equal(cell("a,b"), "\"a,b\"");
	assert_string_equal(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
}

static void test_export_formula_starts_are_neutralised(void **state)
{
	assert_string_equal(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
	assert_string_equal(cell("@sum,\"quoted\""), "\"'@sum,\"\"quoted\"\"\"");
	assert_string_equal(cell("+1"), "\"'+1\"");
	assert_string_equal(cell("-1"), "\"'-1\"");
	assert_string_equal(cell("\tx"), "\"' x\"");
	assert_string_equal(cell("\rx"), "\"' x\"");
}

static void test_export_control_characters_never_pass(void **state)
{
	const char *c = cell("a\x1b[31mb\nc");
	for (const char *p = c; *p; p++)
		assert_true((unsigned char)*p >= 0x20);
}

static void test_export_row_has_empty_cells_for_absent_values(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct store_result r = {
		.checked_at_ms = 1795000000123, .project = "p", .name = "n", .url = "http://h/health",
		.cls = HT_DOWN, .http_code = 0, .response_ms = -1, .dns_ms = -1, .connect_ms = -1,
		.tls_ms = -1, .ttfb_ms = -1, .reason = "connection refused",
	};

	export_header(f, EXPORT_CSV);
	assert_int_equal(export_row(f, EXPORT_CSV, &r), 0);
	export_row(f, EXPORT_JSONL, &r);
	fclose(f);
	assert_string_equal(buf,
		"checked_at,project,name,url,status,http_code,response_ms,dns_ms,connect_ms,tls_ms,ttfb_ms,reason\r\n"
		"2026-11-18T11:06:40.123Z,p,n,http://h/health,down,,,,,,,connection refused\r\n"
		"{\"checked_at\":\"2026-11-18T11:06:40.123Z\",\"project\":\"p\",\"name\":\"n\",\"url\":\"http://h/health\","
		"\"status\":\"down\",\"http_code\":null,\"response_ms\":null,\"dns_ms\":null,\"connect_ms\":null,"
		"\"tls_ms\":null,\"ttfb_ms\":null,\"reason\":\"connection refused\"}\n");
	free(buf);
}

/* A latency that is infinite or not a number (a corrupt or foreign row) is written as an absent
 * value, JSON null, as the CSV leaves its cell empty: "inf" or "nan" is not JSON, and a reader's
 * json.loads() would fail on the whole line. */
static void test_export_jsonl_writes_null_for_non_finite_latency(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct store_result r = {
		.checked_at_ms = 1795000000123, .project = "p", .name = "n", .url = "http://h/health",
		.cls = HT_DEGRADED, .http_code = 200, .response_ms = INFINITY, .dns_ms = NAN,
		.connect_ms = -INFINITY, .tls_ms = 1.5, .ttfb_ms = 1e300, .reason = "slow",
	};

	assert_non_null(f);
	assert_int_equal(export_row(f, EXPORT_CSV, &r), 0);
	assert_int_equal(export_row(f, EXPORT_JSONL, &r), 0);
	fclose(f);
	assert_string_equal(buf,
		"2026-11-18T11:06:40.123Z,p,n,http://h/health,degraded,200,,,,1.500,,slow\r\n"
		"{\"checked_at\":\"2026-11-18T11:06:40.123Z\",\"project\":\"p\",\"name\":\"n\",\"url\":\"http://h/health\","
		"\"status\":\"degraded\",\"http_code\":200,\"response_ms\":null,\"dns_ms\":null,\"connect_ms\":null,"
		"\"tls_ms\":1.500,\"ttfb_ms\":null,\"reason\":\"slow\"}\n");
	free(buf);
}

static void test_export_rollup_percentiles_stay_within_min_and_max(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct store_rollup r = {
		.period_start_ms = 1795000000000, .project = "p", .name = "slow", .url = "http://h/",
		.counts = { 20, 0, 0 }, .n_latency = 20, .sum_ms = 20 * 1500.0, .min_ms = 1500, .max_ms = 1500,
	};

	/* every check took 1.50 s: the bucket's middle (about 1.44 s) is not what was measured */
	for (int i = 0; i < 20; i++)
		hist_add(&r.latency, 1500);
	assert_int_equal(export_rollup_row(f, EXPORT_CSV, &r), 0);
	fclose(f);
	assert_non_null(strstr(buf, ",1500.000,1500.000,1500.000,1500.000,1500.000,1500.000\r\n"));
	free(buf);
}

/* uptime_pct is the rollup's up checks over its checks: 15 of 20 healthy-or-degraded checks
 * that were up is 75 %, not the 100 % "not down" would say. */
static void test_export_rollup_uptime_counts_up_checks(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct store_rollup r = {
		.period_start_ms = 1795000000000, .project = "p", .name = "t", .url = "http://h/",
		.counts = { 15, 5, 0 }, .n_up = 15, .n_latency = 0, .min_ms = -1, .max_ms = -1,
	};

	assert_int_equal(export_rollup_row(f, EXPORT_CSV, &r), 0);
	fclose(f);
	assert_non_null(strstr(buf, ",15,5,0,75.000,"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_plain_cells_stay_plain),
		cmocka_unit_test(test_export_quotes_commas_and_doubles_quotes),
		cmocka_unit_test(test_export_formula_starts_are_neutralised),
		cmocka_unit_test(test_export_control_characters_never_pass),
		cmocka_unit_test(test_export_row_has_empty_cells_for_absent_values),
		cmocka_unit_test(test_export_jsonl_writes_null_for_non_finite_latency),
		cmocka_unit_test(test_export_rollup_percentiles_stay_within_min_and_max),
		cmocka_unit_test(test_export_rollup_uptime_counts_up_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/serve/metrics_text.h"

static struct metrics_target target(const char *name, int cls)
{
	struct metrics_target t = { .name = name, .project = "shop", .cls = cls,
				    .phase_s = { 0.001, 0.002, -1, 0.010 } };
	return t;
}

static void test_up_is_2_1_0_for_healthy_degraded_down(void **state)
{
	struct metrics_target t[4] = { target("a", 0), target("b", 1), target("c", 2), target("d", -1) };
	struct metrics_process p = { .store_errors = 3, .dropped_results = 4, .last_sweep_ms = 1795514400000LL };
	size_t len;
	char *text = metrics_render(t, 4, &p, &len);

	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_non_null(strstr(text, "healthtop_up{name=\"a\",project=\"shop\"} 2\n"));
	assert_non_null(strstr(text, "healthtop_up{name=\"b\",project=\"shop\"} 1\n"));
	assert_non_null(strstr(text, "healthtop_up{name=\"c\",project=\"shop\"} 0\n"));
	assert_null(strstr(text, "healthtop_up{name=\"d\""));   /* never checked: no sample */
	/* the HELP says what alert rules get: the displayed class, not the last raw check */
	assert_non_null(strstr(text, "# HELP healthtop_up 2 healthy, 1 degraded, 0 down, as displayed (after anti-flap).\n"));
	assert_non_null(strstr(text, "healthtop_phase_seconds{name=\"a\",project=\"shop\",phase=\"ttfb\"} 0.010000\n"));
	assert_null(strstr(text, "phase=\"tls\""));
	assert_non_null(strstr(text, "healthtop_store_errors_total 3\n"));
	assert_non_null(strstr(text, "healthtop_dropped_results_total 4\n"));
	assert_non_null(strstr(text, "healthtop_last_sweep_timestamp_seconds 1795514400.000\n"));
	free(text);
}

static void test_labels_are_escaped_and_control_bytes_dropped(void **state)
{
	char out[64];

	metrics_escape_label("a\"b\\c\nd\x1b[31m", out, sizeof(out));
	assert_string_equal(out, "a\\\"b\\\\c\\nd[31m");
}

static void test_histogram_is_cumulative_and_agrees_with_count(void **state)
{
	struct metrics_target t = target("a", 0);
	size_t len;
	struct metrics_process p = { 0 };

	metrics_observe_latency(&t, 0.05);     /* under the first bound (0.1 ms) */
	metrics_observe_latency(&t, 1500);     /* 1.5 s */
	metrics_observe_latency(&t, -1);       /* nothing answered: not a latency */
	assert_int_equal(t.latency_count, 2);
	assert_int_equal(t.le_counts[0], 1);
	assert_int_equal(t.le_counts[METRICS_LE_COUNT - 1], 2);
	for (int i = 1; i < METRICS_LE_COUNT; i++) {
		assert_true(t.le_counts[i] >= t.le_counts[i - 1]);
		assert_true(metrics_le_bound(i) > metrics_le_bound(i - 1));
	}
	char *text = metrics_render(&t, 1, &p, &len);
	assert_non_null(strstr(text, "healthtop_check_duration_seconds_bucket{name=\"a\",project=\"shop\",le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(text, "healthtop_check_duration_seconds_count{name=\"a\",project=\"shop\"} 2\n"));
	free(text);
}

/* The process-wide start lag: cumulative buckets, a +Inf that equals the count, and the 1 s
 * bound an operator's alert on "checks start late" reads. */
static void test_start_lag_histogram_counts_every_check_once(void **state)
{
	struct metrics_process p = { 0 };
	size_t len;

	metrics_observe_lag(&p.lag, 0.0004);   /* within a millisecond */
	metrics_observe_lag(&p.lag, 0.7);
	metrics_observe_lag(&p.lag, 1.0);      /* on the bound: counts as within it */
	metrics_observe_lag(&p.lag, 3.0);
	metrics_observe_lag(&p.lag, 600);      /* later than every bound: only +Inf */
	metrics_observe_lag(&p.lag, -0.001);   /* ms clocks round: never a negative lag */
	assert_int_equal(p.lag.count, 6);
	for (int i = 1; i < METRICS_LAG_LE_COUNT; i++) {
		assert_true(p.lag.le_counts[i] >= p.lag.le_counts[i - 1]);
		assert_true(metrics_lag_bound(i) > metrics_lag_bound(i - 1));
	}
	char *text = metrics_render(NULL, 0, &p, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "# TYPE healthtop_check_start_lag_seconds histogram\n"));
	assert_non_null(strstr(text, "healthtop_check_start_lag_seconds_bucket{le=\"0.001\"} 2\n"));
	assert_non_null(strstr(text, "healthtop_check_start_lag_seconds_bucket{le=\"0.5\"} 2\n"));
	assert_non_null(strstr(text, "healthtop_check_start_lag_seconds_bucket{le=\"1\"} 4\n"));
	assert_non_null(strstr(text, "healthtop_check_start_lag_seconds_bucket{le=\"60\"} 5\n"));
	assert_non_null(strstr(text, "healthtop_check_start_lag_seconds_bucket{le=\"+Inf\"} 6\n"));
	assert_non_null(strstr(text, "healthtop_check_start_lag_seconds_sum 604.700400\n"));
	assert_non_null(strstr(text, "healthtop_check_start_lag_seconds_count 6\n"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_up_is_2_1_0_for_healthy_degraded_down),
		cmocka_unit_test(test_labels_are_escaped_and_control_bytes_dropped),
		cmocka_unit_test(test_histogram_is_cumulative_and_agrees_with_count),
		cmocka_unit_test(test_start_lag_histogram_counts_every_check_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

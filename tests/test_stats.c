#include "autoconfig.h"
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/core/history_stats.h"

#define MIN 60000LL

static struct stats_target fresh(uint32_t h, uint32_t d, uint32_t down)
{
	struct stats_target t;
	memset(&t, 0, sizeof(t));
	t.counts[0] = h;
	t.counts[1] = d;
	t.counts[2] = down;
	return t;
}

static void test_stats_longest_outage_and_changes(void **state)
{
	/* up, down at 10 for 5 min, up, down at 30 for 12 min, up */
	const struct stats_change c[] = {
		{ 10 * MIN, HT_HEALTHY, HT_DOWN }, { 15 * MIN, HT_DOWN, HT_HEALTHY },
		{ 30 * MIN, HT_HEALTHY, HT_DOWN }, { 42 * MIN, HT_DOWN, HT_DEGRADED },
		{ 50 * MIN, HT_DEGRADED, HT_HEALTHY },
	};
	struct stats_target t = fresh(40, 8, 12);

	t.up = 48;
	stats_walk(&t, c, 5, 0, 60 * MIN, 1, 60 * MIN);
	assert_int_equal(t.changes, 5);
	assert_int_equal(t.longest_outage_ms, 12 * MIN);
	assert_false(t.outage_ongoing);
	assert_true(fabs(stats_uptime(&t) - 80.0) < 1e-9);
}

/* Uptime is the share of checks that were up, not of those that were not down: a target that
 * times out on every check (degraded by default) has 0 % uptime. */
static void test_stats_uptime_counts_up_checks_not_classes(void **state)
{
	struct stats_target t = fresh(0, 10, 0);

	t.up = 0;
	assert_true(fabs(stats_uptime(&t) - 0.0) < 1e-9);
	t = fresh(6, 4, 0);
	t.up = 6;
	assert_true(fabs(stats_uptime(&t) - 60.0) < 1e-9);
}

static void test_stats_outage_still_going_counts_until_now(void **state)
{
	const struct stats_change c[] = { { 10 * MIN, HT_HEALTHY, HT_DOWN } };
	struct stats_target t = fresh(10, 0, 50);

	stats_walk(&t, c, 1, 0, INT64_MAX, 1, 70 * MIN);
	assert_int_equal(t.longest_outage_ms, 60 * MIN);
	assert_true(t.outage_ongoing);
}

static void test_stats_range_starting_mid_outage_is_clamped(void **state)
{
	const struct stats_change c[] = { { 10 * MIN, HT_HEALTHY, HT_DOWN }, { 40 * MIN, HT_DOWN, HT_HEALTHY } };
	struct stats_target t = fresh(5, 0, 5);

	stats_walk(&t, c, 2, 30 * MIN, 60 * MIN, 1, 60 * MIN);
	assert_int_equal(t.changes, 1);                  /* only the one inside the range */
	assert_int_equal(t.longest_outage_ms, 10 * MIN); /* from the range's start */
}

static void test_stats_always_down_without_changes(void **state)
{
	struct stats_target t = fresh(0, 0, 30);

	stats_walk(&t, NULL, 0, 0, INT64_MAX, 20 * MIN, 50 * MIN);
	assert_int_equal(t.longest_outage_ms, 30 * MIN);   /* since it was first seen */
	assert_true(t.outage_ongoing);
	struct stats_target up = fresh(30, 0, 0);
	stats_walk(&up, NULL, 0, 0, INT64_MAX, 20 * MIN, 50 * MIN);
	assert_int_equal(up.longest_outage_ms, 0);
	assert_int_equal(up.changes, 0);
}

static void test_stats_quantiles_never_leave_the_observed_range(void **state)
{
	struct hist h;

	memset(&h, 0, sizeof(h));
	for (int i = 0; i < 100; i++)
		hist_add(&h, 1500);
	/* the bucket's middle lies below 1.50 s: unclamped p95 would read below the minimum */
	assert_true(hist_quantile(&h, 0.95) < 1500);
	assert_true(stats_quantile(&h, 0.95, 1500, 1500) == 1500);
	assert_true(stats_quantile(&h, 0.50, 1500, 1500) == 1500);
	memset(&h, 0, sizeof(h));
	for (int i = 0; i < 100; i++)
		hist_add(&h, 0.99);
	assert_true(hist_quantile(&h, 0.99) > 0.99);   /* and above the maximum here */
	assert_true(stats_quantile(&h, 0.99, 0.9, 0.99) == 0.99);
	assert_true(stats_quantile(&h, 0.99, -1, -1) == hist_quantile(&h, 0.99));   /* bounds unknown */
	memset(&h, 0, sizeof(h));
	assert_true(stats_quantile(&h, 0.5, 1, 2) < 0);   /* nothing measured */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_longest_outage_and_changes),
		cmocka_unit_test(test_stats_uptime_counts_up_checks_not_classes),
		cmocka_unit_test(test_stats_outage_still_going_counts_until_now),
		cmocka_unit_test(test_stats_range_starting_mid_outage_is_clamped),
		cmocka_unit_test(test_stats_always_down_without_changes),
		cmocka_unit_test(test_stats_quantiles_never_leave_the_observed_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

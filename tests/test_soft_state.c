#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "healthtop/core/soft_state.h"

/* Feeds a sequence of raw classes; returns how many displayed changes it announced. */
static int feed(struct soft_state *s, const struct soft_rules *r, const enum ht_class *seq, int n)
{
	int changes = 0, from;

	for (int i = 0; i < n; i++)
		changes += soft_state_step(s, r, seq[i], &from) ? 1 : 0;
	return changes;
}

static void test_first_result_is_shown_at_once(void **state)
{
	struct soft_rules r = { 3, 2 };
	struct soft_state s;
	int from;

	soft_state_init(&s);
	assert_true(soft_state_step(&s, &r, HT_DOWN, &from));
	assert_int_equal(from, SOFT_STATE_UNKNOWN);
	assert_int_equal(s.shown, HT_DOWN);
}

static void test_defaults_change_on_every_result(void **state)
{
	struct soft_rules r = { 1, 1 };
	struct soft_state s;
	enum ht_class seq[] = { HT_HEALTHY, HT_DOWN, HT_HEALTHY, HT_DEGRADED };

	soft_state_init(&s);
	assert_int_equal(feed(&s, &r, seq, 4), 4);
}

static void test_blips_never_change_what_is_shown(void **state)
{
	struct soft_rules r = { 3, 2 };
	struct soft_state s;
	enum ht_class seq[] = { HT_HEALTHY, HT_DOWN, HT_HEALTHY, HT_DOWN, HT_DOWN, HT_HEALTHY,
				HT_DOWN, HT_HEALTHY };

	soft_state_init(&s);
	assert_int_equal(feed(&s, &r, seq, 8), 1);   /* only the first result */
	assert_int_equal(s.shown, HT_HEALTHY);
}

static void test_outage_confirmed_after_n_failures_and_recovery_after_m(void **state)
{
	struct soft_rules r = { 3, 2 };
	struct soft_state s;
	enum ht_class to;
	int from, count, needed;

	soft_state_init(&s);
	soft_state_step(&s, &r, HT_HEALTHY, &from);
	assert_false(soft_state_step(&s, &r, HT_DOWN, &from));
	assert_false(soft_state_step(&s, &r, HT_DEGRADED, &from));   /* worse either way: continues */
	assert_true(soft_state_pending(&s, &r, &to, &count, &needed));
	assert_int_equal(to, HT_DEGRADED);
	assert_int_equal(count, 2);
	assert_int_equal(needed, 3);
	assert_true(soft_state_step(&s, &r, HT_DOWN, &from));
	assert_int_equal(from, HT_HEALTHY);
	assert_int_equal(s.shown, HT_DOWN);
	assert_false(soft_state_pending(&s, &r, &to, &count, &needed));
	assert_false(soft_state_step(&s, &r, HT_HEALTHY, &from));
	assert_true(soft_state_step(&s, &r, HT_HEALTHY, &from));
	assert_int_equal(from, HT_DOWN);
	assert_int_equal(s.shown, HT_HEALTHY);
}

static void test_a_result_on_the_other_side_restarts_the_streak(void **state)
{
	struct soft_rules r = { 2, 2 };
	struct soft_state s;
	enum ht_class seq[] = { HT_DEGRADED, HT_DOWN, HT_HEALTHY, HT_DOWN, HT_HEALTHY };

	soft_state_init(&s);
	assert_int_equal(feed(&s, &r, seq, 5), 1);
	assert_int_equal(s.shown, HT_DEGRADED);
}

static void test_flapping_ok_500_under_3_2_announces_nothing_after_the_first(void **state)
{
	struct soft_rules r = { 3, 2 };
	struct soft_state s;
	int changes = 0, from;

	soft_state_init(&s);
	for (int i = 0; i < 200; i++)
		changes += soft_state_step(&s, &r, i % 2 ? HT_DEGRADED : HT_HEALTHY, &from);
	assert_int_equal(changes, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_result_is_shown_at_once),
		cmocka_unit_test(test_defaults_change_on_every_result),
		cmocka_unit_test(test_blips_never_change_what_is_shown),
		cmocka_unit_test(test_outage_confirmed_after_n_failures_and_recovery_after_m),
		cmocka_unit_test(test_a_result_on_the_other_side_restarts_the_streak),
		cmocka_unit_test(test_flapping_ok_500_under_3_2_announces_nothing_after_the_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "autoconfig.h"
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/core/target_state.h"

static void test_state_ring_keeps_newest_first_across_wraparound(void **state)
{
	struct target_state s;

	state_init(&s);
	for (int i = 0; i < STATE_RING + 10; i++)
		state_add_sample(&s, i * 1000, i, HT_HEALTHY);
	assert_int_equal(s.ring_n, STATE_RING);
	assert_int_equal(state_sample_at(&s, 0)->at_ms, (STATE_RING + 9) * 1000);
	assert_int_equal(state_sample_at(&s, STATE_RING - 1)->at_ms, 10 * 1000);
	assert_null(state_sample_at(&s, STATE_RING));
	state_fini(&s);
}

static void test_state_records_changes_with_times(void **state)
{
	struct target_state s;

	state_init(&s);
	assert_false(state_add_sample(&s, 1000, 5, HT_HEALTHY));
	assert_false(state_add_sample(&s, 2000, 5, HT_HEALTHY));
	assert_true(state_add_sample(&s, 3000, -1, HT_DOWN));
	assert_true(state_add_sample(&s, 4000, 5, HT_HEALTHY));
	assert_int_equal(s.changes_n, 2);
	const struct state_change *c = state_change_at(&s, 0);
	assert_int_equal(c->at_ms, 4000);
	assert_int_equal(c->from, HT_DOWN);
	assert_int_equal(c->to, HT_HEALTHY);
	assert_int_equal(state_change_at(&s, 1)->at_ms, 3000);
	assert_null(state_change_at(&s, 2));
	state_fini(&s);
}

/* A degraded check that timed out is downtime too: uptime counts the checks that were up. */
static void test_state_uptime_counts_checks_that_were_up(void **state)
{
	struct target_state s;

	state_init(&s);
	assert_true(state_uptime(&s) < 0);
	state_window_add(&s, HT_HEALTHY, hist_bucket(10), 97);
	state_window_add(&s, HT_DEGRADED, hist_bucket(2000), 1);
	state_window_add(&s, HT_DOWN, -1, 2);
	state_window_add(&s, STATE_WINDOW_UP, -1, 97);
	assert_true(fabs(state_uptime(&s) - 97.0) < 1e-9);
	state_window_add_check(&s, HT_DEGRADED, -1, false);   /* a timeout: degraded, not up */
	state_window_add_check(&s, HT_HEALTHY, hist_bucket(10), true);
	assert_true(fabs(state_uptime(&s) - 9800.0 / 102) < 1e-9);
	assert_true(fabs(state_p95(&s) - 10) < 0.5);
	state_window_reset(&s);
	assert_true(state_uptime(&s) < 0);
	state_fini(&s);
}

static void test_state_last_copies_components(void **state)
{
	struct target_state s;
	struct state_last last = { .at_ms = 5, .cls = HT_DEGRADED, .http_code = 200 };
	struct body_component comps[2] = { { "db", "DOWN", HT_DOWN }, { "disk", "UP", HT_HEALTHY } };

	state_init(&s);
	snprintf(last.reason, sizeof(last.reason), "db: DOWN");
	assert_int_equal(state_set_last(&s, &last, comps, 2), 0);
	comps[0].name[0] = 'X';
	assert_true(s.checked);
	assert_int_equal(s.last.ncomps, 2);
	assert_string_equal(s.last.comps[0].name, "db");
	assert_string_equal(s.last.reason, "db: DOWN");
	state_fini(&s);
}

/* After a restart the screen shows the newest stored class as displayed, before any check. */
static void test_state_history_gives_the_displayed_class(void **state)
{
	struct target_state s;
	struct state_last last = { .at_ms = 5, .cls = HT_DOWN };

	state_init(&s);
	assert_int_equal(s.soft.shown, SOFT_STATE_UNKNOWN);
	assert_int_equal(state_set_last(&s, &last, NULL, 0), 0);
	assert_int_equal(s.soft.shown, HT_DOWN);
	last.cls = HT_HEALTHY;   /* later details do not override what anti-flap displays */
	assert_int_equal(state_set_last(&s, &last, NULL, 0), 0);
	assert_int_equal(s.soft.shown, HT_DOWN);
	state_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_ring_keeps_newest_first_across_wraparound),
		cmocka_unit_test(test_state_records_changes_with_times),
		cmocka_unit_test(test_state_uptime_counts_checks_that_were_up),
		cmocka_unit_test(test_state_history_gives_the_displayed_class),
		cmocka_unit_test(test_state_last_copies_components),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "autoconfig.h"
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <stdlib.h>
#include "healthtop/core/sample_pack.h"
#include "healthtop/core/target_state.h"

static void test_state_ring_keeps_newest_first_across_wraparound(void **state)
{
	struct target_state s;

	state_init(&s);
	for (int i = 0; i < STATE_RING + 10; i++)
		state_add_sample(&s, i * 1000, i, HT_HEALTHY);
	struct state_sample smp;
	assert_int_equal(s.ring_n, STATE_RING);
	assert_true(state_sample_get(&s, 0, &smp));
	assert_int_equal(smp.at_ms, (STATE_RING + 9) * 1000);
	assert_true(state_sample_get(&s, STATE_RING - 1, &smp));
	assert_int_equal(smp.at_ms, 10 * 1000);
	assert_false(state_sample_get(&s, STATE_RING, &smp));
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

/* The packed ring: the newest sample exactly; older latencies within 1/4096 (exact to the µs
 * below 2 ms), times within 0.5 s for checks a minute apart (never adding up over the ring),
 * exact for checks seconds apart; classes exactly; across wraparound. */
static void test_state_packed_ring_round_trips_within_its_precision(void **state)
{
	struct target_state s;
	struct state_sample smp;
	const int64_t t0 = 1795000000123;   /* 2026, in ms */
	const int n = STATE_RING * 2 + 7;
	int64_t at[STATE_RING * 2 + 7];
	double ms[STATE_RING * 2 + 7];

	state_init(&s);
	for (int i = 0; i < n; i++) {
		at[i] = t0 + (int64_t)i * 60000 + (i * 7919) % 997;   /* a minute apart, jittered */
		ms[i] = i % 5 == 0 ? -1 : i % 7 == 0 ? 0.001 * i : 0.5 + i * 12.3456789;
		state_add_sample(&s, at[i], ms[i], (enum ht_class)(i % 3));
	}
	for (unsigned k = 0; k < STATE_RING; k++) {
		int i = n - 1 - (int)k;
		assert_true(state_sample_get(&s, k, &smp));
		assert_int_equal(smp.cls, i % 3);
		if (k == 0) {
			assert_int_equal(smp.at_ms, at[i]);
			assert_true(smp.ms == (float)ms[i]);
			continue;
		}
		assert_true(llabs(smp.at_ms - at[i]) <= 500);
		if (ms[i] < 0)
			assert_true(smp.ms == -1.0f);
		else if (ms[i] < 2.048)
			assert_true(fabs(smp.ms - ms[i]) <= 0.0005 + 1e-6);
		else
			assert_true(fabs(smp.ms - ms[i]) <= ms[i] / 4096 + 0.0005 + 1e-4);
	}
	assert_false(state_sample_get(&s, STATE_RING, &smp));
	state_init(&s);
	for (int i = 0; i < STATE_RING + 3; i++)   /* checks seconds apart: times to the ms */
		state_add_sample(&s, t0 + i * 3001, 1, HT_HEALTHY);
	for (unsigned k = 0; k < STATE_RING; k++) {
		assert_true(state_sample_get(&s, k, &smp));
		assert_int_equal(smp.at_ms, t0 + (STATE_RING + 2 - (int)k) * 3001);
	}
	state_fini(&s);
}

/* A restart after a month: the old samples keep their times within half an hour and the
 * next checks are back within 0.5 s. A clock set back gives the previous sample's time. */
static void test_state_packed_ring_long_gaps_and_clock_steps(void **state)
{
	struct target_state s;
	struct state_sample smp;
	const int64_t day = 86400000, t0 = 1795000000123;

	state_init(&s);
	state_add_sample(&s, t0, 5, HT_HEALTHY);
	state_add_sample(&s, t0 + 60000, 6, HT_HEALTHY);
	state_add_sample(&s, t0 + 30 * day + 12345, 7, HT_DOWN);
	state_add_sample(&s, t0 + 30 * day + 72777, 8, HT_HEALTHY);
	state_add_sample(&s, t0 + 30 * day + 72000, 9, HT_HEALTHY);   /* the clock stepped back */
	assert_true(state_sample_get(&s, 0, &smp));
	assert_int_equal(smp.at_ms, t0 + 30 * day + 72000);
	assert_true(state_sample_get(&s, 1, &smp));
	assert_true(llabs(smp.at_ms - (t0 + 30 * day + 72777)) <= 500);
	assert_true(state_sample_get(&s, 2, &smp));
	assert_true(llabs(smp.at_ms - (t0 + 30 * day + 12345)) <= 1800000);
	assert_int_equal(smp.cls, HT_DOWN);
	assert_true(state_sample_get(&s, 3, &smp));
	assert_int_equal(smp.at_ms, t0 + 60000);
	assert_true(state_sample_get(&s, 4, &smp));
	assert_int_equal(smp.at_ms, t0);
	assert_true(smp.ms == 5.0f);
	state_fini(&s);
}

/* The codes themselves: latencies within 1/4096 over the whole range, exact to the µs below
 * 2.048 ms, none stays none, the largest is kept as the bound; gaps in their four units. */
static void test_sample_pack_latency_and_gap_codes(void **state)
{
	for (double ms = 0; ms < SAMPLE_MS_MAX * 1.5; ms = ms * 1.001 + 0.0007) {
		float back = sample_unpack_ms(sample_pack_ms(ms));
		double want = ms > SAMPLE_MS_MAX ? SAMPLE_MS_MAX : ms;
		if (want < 2.048)
			assert_true(fabs(back - want) <= 0.0005 + 1e-7);
		else
			assert_true(fabs(back - want) <= want / 4096 + 0.0005);
		assert_true(sample_pack_ms(ms) != SAMPLE_NO_MS);
	}
	assert_true(sample_unpack_ms(sample_pack_ms(-1)) == -1.0f);
	assert_true(sample_unpack_ms(sample_pack_ms(NAN)) == -1.0f);
	assert_true(sample_unpack_ms(sample_pack_ms(0)) == 0.0f);
	assert_true(sample_unpack_ms(sample_pack_ms(1.234)) == 1.234f);
	assert_int_equal(sample_unpack_gap(sample_pack_gap(-5)), 0);
	assert_int_equal(sample_unpack_gap(sample_pack_gap(16383)), 16383);
	assert_int_equal(sample_unpack_gap(sample_pack_gap(60499)), 60000);
	assert_int_equal(sample_unpack_gap(sample_pack_gap(60500)), 61000);
	assert_int_equal(sample_unpack_gap(sample_pack_gap(5 * 3600000 + 29999)), 5 * 3600000);
	assert_int_equal(sample_unpack_gap(sample_pack_gap(20LL * 86400000 + 1800000)), 20LL * 86400000 + 3600000);
	assert_int_equal(sample_unpack_gap(sample_pack_gap(INT64_MAX / 2)), 16383LL * 3600000);
}

/* The reason is kept at its own length, in a buffer reused while the next one fits. */
static void test_state_last_reason_buffer_is_reused(void **state)
{
	struct target_state s;
	struct state_last last = { .at_ms = 5, .cls = HT_DEGRADED, .http_code = 503 };

	state_init(&s);
	assert_string_equal(s.last.reason, "");
	snprintf(last.reason, sizeof(last.reason), "HTTP 503 Service Unavailable");
	assert_int_equal(state_set_last(&s, &last, NULL, 0), 0);
	const char *buf = s.last.reason;
	assert_string_equal(buf, "HTTP 503 Service Unavailable");
	assert_true(s.reason_cap >= 29 && s.reason_cap < 48);
	snprintf(last.reason, sizeof(last.reason), "HTTP 200");
	assert_int_equal(state_set_last(&s, &last, NULL, 0), 0);
	assert_ptr_equal(s.last.reason, buf);
	assert_string_equal(s.last.reason, "HTTP 200");
	memset(last.reason, 'x', sizeof(last.reason) - 1);
	last.reason[sizeof(last.reason) - 1] = '\0';
	assert_int_equal(state_set_last(&s, &last, NULL, 0), 0);
	assert_int_equal(strlen(s.last.reason), sizeof(last.reason) - 1);
	last.reason[0] = '\0';
	assert_int_equal(state_set_last(&s, &last, NULL, 0), 0);
	assert_string_equal(s.last.reason, "");
	state_fini(&s);
}

/* The window's p95 after a reset and refill is the same as a full histogram's. */
static void test_state_window_p95_survives_reset_and_refill(void **state)
{
	struct target_state s;
	struct hist full;

	state_init(&s);
	state_window_add(&s, HT_HEALTHY, hist_bucket(3), 5);
	state_window_reset(&s);
	memset(&full, 0, sizeof(full));
	for (int i = 1; i <= 200; i++) {
		double ms = 1000.0 / i;
		state_window_add_check(&s, HT_HEALTHY, hist_bucket(ms), true);
		hist_add(&full, ms);
	}
	assert_true(state_p95(&s) == hist_quantile(&full, 0.95));
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
		cmocka_unit_test(test_state_packed_ring_round_trips_within_its_precision),
		cmocka_unit_test(test_state_packed_ring_long_gaps_and_clock_steps),
		cmocka_unit_test(test_sample_pack_latency_and_gap_codes),
		cmocka_unit_test(test_state_last_reason_buffer_is_reused),
		cmocka_unit_test(test_state_window_p95_survives_reset_and_refill),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

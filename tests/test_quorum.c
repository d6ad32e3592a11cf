/* The quorum across locations (core/quorum.c): one location's trouble is no outage; enough
 * locations agreeing is; locations whose pollers are gone do not hide an outage. */
#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/core/quorum.h"

#define MIN_MS 60000
#define FRESH 1000
#define MAX_AGE (QUORUM_STALE_INTERVALS * MIN_MS)

static void test_one_location_down_below_quorum_is_degraded(void **state)
{
	struct quorum_vote v[] = { { "eu-west", HT_DOWN, FRESH }, { "us-east", HT_HEALTHY, FRESH },
				   { "ap-south", HT_HEALTHY, FRESH } };
	struct quorum_verdict out;

	assert_int_equal(quorum_combine(v, 3, 2, MAX_AGE, &out), 0);
	assert_int_equal(out.cls, HT_DEGRADED);
	assert_int_equal(out.down, 1);
	assert_int_equal(out.needed, 2);
	assert_string_equal(out.reason, "down from eu-west (1 of 3 locations, quorum 2)");
}

static void test_quorum_reached_is_down(void **state)
{
	struct quorum_vote v[] = { { "a", HT_DOWN, FRESH }, { "b", HT_DOWN, FRESH }, { "c", HT_HEALTHY, FRESH } };
	struct quorum_verdict out;

	assert_int_equal(quorum_combine(v, 3, 2, MAX_AGE, &out), 0);
	assert_int_equal(out.cls, HT_DOWN);
	assert_string_equal(out.reason, "down from a, b (2 of 3 locations, quorum 2)");
}

static void test_default_quorum_one_location_is_enough(void **state)
{
	struct quorum_vote v[] = { { "a", HT_HEALTHY, FRESH }, { "b", HT_DOWN, FRESH } };
	struct quorum_verdict out;

	assert_int_equal(quorum_combine(v, 2, 1, MAX_AGE, &out), 0);
	assert_int_equal(out.cls, HT_DOWN);
}

static void test_all_healthy_has_no_reason(void **state)
{
	struct quorum_vote v[] = { { "a", HT_HEALTHY, FRESH }, { "b", HT_HEALTHY, FRESH } };
	struct quorum_verdict out;

	assert_int_equal(quorum_combine(v, 2, 2, MAX_AGE, &out), 0);
	assert_int_equal(out.cls, HT_HEALTHY);
	assert_string_equal(out.reason, "");
}

static void test_degraded_location_makes_degraded(void **state)
{
	struct quorum_vote v[] = { { "a", HT_HEALTHY, FRESH }, { "b", HT_DEGRADED, FRESH } };
	struct quorum_verdict out;

	assert_int_equal(quorum_combine(v, 2, 2, MAX_AGE, &out), 0);
	assert_int_equal(out.cls, HT_DEGRADED);
	assert_string_equal(out.reason, "degraded from b (1 of 2 locations, quorum 2)");
}

/* b and c's pollers died: their last word (healthy) is stale, and a alone still reports the
 * outage, saying the quorum fell. */
static void test_stale_locations_lower_the_quorum(void **state)
{
	struct quorum_vote v[] = { { "a", HT_DOWN, FRESH }, { "b", HT_HEALTHY, MAX_AGE + 1 },
				   { "c", HT_HEALTHY, 10 * MAX_AGE } };
	struct quorum_verdict out;

	assert_int_equal(quorum_combine(v, 3, 2, MAX_AGE, &out), 0);
	assert_int_equal(out.cls, HT_DOWN);
	assert_int_equal(out.counted, 1);
	assert_int_equal(out.needed, 1);
	assert_string_equal(out.reason, "down from a (1 of 1 locations still reporting, quorum 2 lowered to 1)");
}

/* A stale down does not count either: a dead location's last outage is not today's. */
static void test_stale_down_does_not_count(void **state)
{
	struct quorum_vote v[] = { { "a", HT_DOWN, MAX_AGE + 1 }, { "b", HT_HEALTHY, FRESH } };
	struct quorum_verdict out;

	assert_int_equal(quorum_combine(v, 2, 1, MAX_AGE, &out), 0);
	assert_int_equal(out.cls, HT_HEALTHY);
}

static void test_nothing_counted_says_nothing(void **state)
{
	struct quorum_vote v[] = { { "a", -1, FRESH }, { "b", HT_DOWN, MAX_AGE + 1 } };
	struct quorum_verdict out;

	assert_int_equal(quorum_combine(v, 2, 2, MAX_AGE, &out), -1);
	assert_int_equal(quorum_combine(NULL, 0, 2, MAX_AGE, &out), -1);
}

/* Results without a location (no --location, SQLite) are one location. */
static void test_no_location_is_one_location(void **state)
{
	struct quorum_vote v[] = { { "", HT_DOWN, FRESH } };
	struct quorum_verdict out;

	assert_int_equal(quorum_combine(v, 1, 1, MAX_AGE, &out), 0);
	assert_int_equal(out.cls, HT_DOWN);
	assert_string_equal(out.reason, "down from (no location) (1 of 1 locations, quorum 1)");
}

/* Many long names: the reason is cut between names, never overflows. */
static void test_long_names_are_cut(void **state)
{
	char name[QUORUM_MAX][80];
	struct quorum_vote v[QUORUM_MAX];
	struct quorum_verdict out;

	for (int i = 0; i < QUORUM_MAX; i++) {
		memset(name[i], 'x', 70);
		snprintf(name[i] + 70, 10, "%d", i);
		v[i] = (struct quorum_vote){ name[i], HT_DOWN, FRESH };
	}
	assert_int_equal(quorum_combine(v, QUORUM_MAX, QUORUM_MAX, MAX_AGE, &out), 0);
	assert_int_equal(out.cls, HT_DOWN);
	assert_true(strlen(out.reason) < sizeof(out.reason));
	assert_non_null(strstr(out.reason, ", ..."));
	assert_non_null(strstr(out.reason, "(64 of 64 locations, quorum 64)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_location_down_below_quorum_is_degraded),
		cmocka_unit_test(test_quorum_reached_is_down),
		cmocka_unit_test(test_default_quorum_one_location_is_enough),
		cmocka_unit_test(test_all_healthy_has_no_reason),
		cmocka_unit_test(test_degraded_location_makes_degraded),
		cmocka_unit_test(test_stale_locations_lower_the_quorum),
		cmocka_unit_test(test_stale_down_does_not_count),
		cmocka_unit_test(test_nothing_counted_says_nothing),
		cmocka_unit_test(test_no_location_is_one_location),
		cmocka_unit_test(test_long_names_are_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

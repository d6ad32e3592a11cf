#include "autoconfig.h"
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/core/histogram.h"

static void test_hist_buckets_are_monotonic_and_cover_ten_minutes(void **state)
{
	int prev = 0;
	for (double ms = 0.01; ms < 700000; ms *= 1.01) {
		int b = hist_bucket(ms);
		assert_true(b >= prev);
		prev = b;
	}
	assert_true(hist_bucket(600000) < HIST_BUCKETS);
	assert_int_equal(hist_bucket(1e12), HIST_BUCKETS - 1);
	assert_int_equal(hist_bucket(-1), 0);
	assert_int_equal(hist_bucket(NAN), 0);
}

static void test_hist_bucket_value_is_within_five_percent(void **state)
{
	for (double ms = 0.1; ms < 600000; ms *= 1.003) {
		double v = hist_bucket_value(hist_bucket(ms));
		if (fabs(v - ms) / ms > 0.049)
			fail_msg("%.4f ms reported as %.4f", ms, v);
	}
}

static void test_hist_quantiles_of_a_known_distribution(void **state)
{
	struct hist h;

	memset(&h, 0, sizeof(h));
	for (int i = 1; i <= 1000; i++)
		hist_add(&h, (double)i);   /* 1..1000 ms */
	assert_int_equal(h.total, 1000);
	double p50 = hist_quantile(&h, 0.50), p95 = hist_quantile(&h, 0.95), p99 = hist_quantile(&h, 0.99);
	assert_true(fabs(p50 - 500) / 500 < 0.05);
	assert_true(fabs(p95 - 950) / 950 < 0.05);
	assert_true(fabs(p99 - 990) / 990 < 0.05);
}

static void test_hist_empty_and_negative(void **state)
{
	struct hist h;

	memset(&h, 0, sizeof(h));
	assert_true(hist_quantile(&h, 0.95) < 0);
	hist_add(&h, -1);   /* absent latency */
	assert_int_equal(h.total, 0);
}

static void test_hist_merge_adds_counts(void **state)
{
	struct hist a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	hist_add(&a, 10);
	hist_add(&b, 1000);
	hist_add(&b, 1000);
	hist_merge(&a, &b);
	assert_int_equal(a.total, 3);
	assert_true(fabs(hist_quantile(&a, 0.9) - 1000) < 50);
}

static void test_hist_blob_round_trips_and_rejects_garbage(void **state)
{
	struct hist a, b;
	unsigned char blob[HIST_BLOB_MAX];

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	for (int i = 0; i < 300; i++)
		hist_add(&a, i * 7.5);
	size_t n = hist_encode(&a, blob, sizeof(blob));
	assert_true(n > 0 && n % 5 == 0);
	assert_int_equal(hist_decode_add(&b, blob, n), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(hist_decode_add(&b, blob, n - 1), -1);   /* cut short */
	blob[0] = HIST_BUCKETS;                                   /* no such bucket */
	assert_int_equal(hist_decode_add(&b, blob, n), -1);
	assert_int_equal(b.total, 300);                           /* unchanged by bad blobs */
	assert_int_equal(hist_decode_add(&b, blob, 0), 0);
}

/* The span keeps only the run of buckets it saw and answers every quantile as the full
 * histogram does, whichever order buckets arrive in (a new low, a new high, inside). */
static void test_hist_span_quantiles_equal_the_full_histogram(void **state)
{
	struct hist full;
	struct hist_span span = { 0 };
	const double ms[] = { 40, 12, 12.5, 300, 0.05, 7, 7, 7, 12000, 41, 0.2, 900000 };

	memset(&full, 0, sizeof(full));
	assert_true(hist_span_quantile(&span, 0.5) < 0);
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		hist_add(&full, ms[i]);
		assert_int_equal(hist_span_add(&span, hist_bucket(ms[i]), 1), 0);
		for (double q = 0; q <= 1.0; q += 0.05)
			assert_true(hist_span_quantile(&span, q) == hist_quantile(&full, q));
	}
	assert_int_equal(span.lo, 0);
	assert_int_equal(span.n, HIST_BUCKETS);
	assert_int_equal(hist_span_add(&span, -1, 1), 0);   /* out of range: ignored */
	assert_int_equal(hist_span_add(&span, HIST_BUCKETS, 1), 0);
	assert_int_equal(span.total, full.total);
	hist_span_clear(&span);
	assert_true(hist_span_quantile(&span, 0.5) < 0);
	hist_span_fini(&span);
}

/* A target whose latencies stay in a narrow band holds only those buckets. */
static void test_hist_span_holds_only_the_buckets_between_low_and_high(void **state)
{
	struct hist_span span = { 0 };

	for (int i = 0; i < 1000; i++)
		assert_int_equal(hist_span_add(&span, hist_bucket(10.0 + (i % 10)), 1), 0);
	assert_int_equal(span.lo, hist_bucket(10.0));
	assert_int_equal(span.n, hist_bucket(19.0) - hist_bucket(10.0) + 1);
	assert_true(span.n <= 8);
	hist_span_fini(&span);
}

/* Checks that leave a window are taken back; taking more than a bucket holds says so and
 * leaves it empty, never wrapped around to 4 billion. */
static void test_hist_span_sub_takes_back_and_tells_drift(void **state)
{
	struct hist_span span = { 0 };

	assert_int_equal(hist_span_add(&span, 10, 3), 0);
	assert_int_equal(hist_span_add(&span, 20, 2), 0);
	assert_true(hist_span_sub(&span, 10, 2));
	assert_int_equal(span.total, 3);
	assert_true(hist_span_quantile(&span, 1.0) == hist_bucket_value(20));
	assert_true(hist_span_sub(&span, 20, 2));
	assert_true(hist_span_quantile(&span, 1.0) == hist_bucket_value(10));
	assert_false(hist_span_sub(&span, 10, 5));
	assert_int_equal(span.total, 0);
	assert_false(hist_span_sub(&span, 30, 1));   /* a bucket it never held */
	assert_true(hist_span_sub(&span, -1, 1));    /* no latency: nothing to take */
	hist_span_fini(&span);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_buckets_are_monotonic_and_cover_ten_minutes),
		cmocka_unit_test(test_hist_bucket_value_is_within_five_percent),
		cmocka_unit_test(test_hist_quantiles_of_a_known_distribution),
		cmocka_unit_test(test_hist_empty_and_negative),
		cmocka_unit_test(test_hist_merge_adds_counts),
		cmocka_unit_test(test_hist_blob_round_trips_and_rejects_garbage),
		cmocka_unit_test(test_hist_span_quantiles_equal_the_full_histogram),
		cmocka_unit_test(test_hist_span_sub_takes_back_and_tells_drift),
		cmocka_unit_test(test_hist_span_holds_only_the_buckets_between_low_and_high),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

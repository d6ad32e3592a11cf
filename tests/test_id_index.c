#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "healthtop/core/id_index.h"

#define N 100000

static int64_t nth(const void *ctx, size_t i)
{
	return ((const int64_t *)ctx)[i];
}

/* Ids in a shuffled order, as `stats` lists targets (by project and name, not by id). */
static int64_t *shuffled_ids(size_t n)
{
	int64_t *v = malloc(n * sizeof(*v));
	uint64_t x = 88172645463325252ULL;

	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		v[i] = (int64_t)(3 * i + 1);   /* gaps, as deleted targets leave */
	for (size_t i = n - 1; i > 0; i--) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		size_t j = (size_t)(x % (i + 1));
		int64_t t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
	return v;
}

/* Rows handed over by target in id order, a few per target: about 2 compares per target
 * (a walk of the list per row: 5e9 at 100 000 targets). */
static void test_id_index_rows_in_id_order_cost_a_compare_or_two(void **state)
{
	int64_t *ids = shuffled_ids(N);
	struct id_index ix;

	assert_int_equal(id_index_init(&ix, N, nth, ids), 0);
	for (size_t i = 0; i < N; i++)
		for (int rows = 0; rows < 3; rows++) {
			size_t at = id_index_find(&ix, (int64_t)(3 * i + 1));
			assert_true(at < N && ids[at] == (int64_t)(3 * i + 1));
		}
	assert_true(ix.compares <= 4 * (uint64_t)N);
	id_index_fini(&ix);
	free(ids);
}

static void test_id_index_any_order_is_a_binary_search(void **state)
{
	int64_t *ids = shuffled_ids(N);
	struct id_index ix;

	assert_int_equal(id_index_init(&ix, N, nth, ids), 0);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(id_index_find(&ix, ids[i]), i);
	assert_true(ix.compares <= 20 * (uint64_t)N);   /* 2 tries + log2(100 000) = 17 */
	assert_int_equal(id_index_find(&ix, 2), SIZE_MAX);
	assert_int_equal(id_index_find(&ix, 0), SIZE_MAX);
	assert_int_equal(id_index_find(&ix, 3 * N + 1), SIZE_MAX);
	id_index_fini(&ix);
	assert_int_equal(id_index_init(&ix, 0, nth, ids), 0);
	assert_int_equal(id_index_find(&ix, 1), SIZE_MAX);
	id_index_fini(&ix);
	free(ids);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_index_rows_in_id_order_cost_a_compare_or_two),
		cmocka_unit_test(test_id_index_any_order_is_a_binary_search),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

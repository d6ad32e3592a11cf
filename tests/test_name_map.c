#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/core/name_map.h"

static const char *nth(const void *ctx, size_t i)
{
	return ((char *const *)ctx)[i];
}

static char **names(size_t n, const char *prefix)
{
	char **v = calloc(n, sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		v[i] = malloc(32);
		assert_non_null(v[i]);
		snprintf(v[i], 32, "%s%zu", prefix, i);
	}
	return v;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Matching 100 000 names against 100 000 takes about one comparison each (a list walk: 5e9). */
static void test_name_map_finds_each_name_with_about_one_compare(void **state)
{
	const size_t n = 100000;
	char **v = names(n, "api-");
	struct name_map nm;

	assert_int_equal(name_map_init(&nm, n, nth, v), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(name_map_find(&nm, v[i]), i);
	assert_true(nm.compares <= n + n / 100);
	name_map_fini(&nm);
	free_names(v, n);
}

static void test_name_map_absent_names_are_not_found(void **state)
{
	const size_t n = 1000;
	char **v = names(n, "t"), **other = names(n, "u");
	struct name_map nm;

	assert_int_equal(name_map_init(&nm, n, nth, v), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(name_map_find(&nm, other[i]), SIZE_MAX);
	assert_true(nm.compares <= n / 100);   /* the stored hash half rules out nearly all */
	name_map_fini(&nm);
	free_names(v, n);
	free_names(other, n);
}

static void test_name_map_a_name_twice_gives_its_first_place(void **state)
{
	const char *v[] = { "a", "b", "a", "" };
	struct name_map nm;

	assert_int_equal(name_map_init(&nm, 4, nth, v), 0);
	assert_int_equal(name_map_find(&nm, "a"), 0);
	assert_int_equal(name_map_find(&nm, "b"), 1);
	assert_int_equal(name_map_find(&nm, ""), 3);
	name_map_fini(&nm);
	assert_int_equal(name_map_init(&nm, 0, nth, v), 0);
	assert_int_equal(name_map_find(&nm, "a"), SIZE_MAX);
	name_map_fini(&nm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_map_finds_each_name_with_about_one_compare),
		cmocka_unit_test(test_name_map_absent_names_are_not_found),
		cmocka_unit_test(test_name_map_a_name_twice_gives_its_first_place),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/core/json_position.h"

static const char doc[] =
	"{\n"
	"  \"a\": 1,\n"
	"  \"list\": [\n"
	"    {\"x\": \"}]\\\"{\"},\n"
	"    {\"x\": 2,\n"
	"     \"y\": {\"z\": [10,\n 20]}}\n"
	"  ]\n"
	"}\n";

static int line_of(const char *path)
{
	return jsonpos_line(doc, strlen(doc), path);
}

static void test_jsonpos_finds_nested_paths(void **state)
{
	assert_int_equal(line_of(""), 1);
	assert_int_equal(line_of("a"), 2);
	assert_int_equal(line_of("list"), 3);
	assert_int_equal(line_of("list[0].x"), 4);
	assert_int_equal(line_of("list[1].y.z"), 6);
}

static void test_jsonpos_skips_brackets_inside_strings(void **state)
{
	assert_int_equal(line_of("list[1].x"), 5);
}

static void test_jsonpos_missing_path_is_zero(void **state)
{
	assert_int_equal(line_of("nope"), 0);
	assert_int_equal(line_of("list[7]"), 0);
	assert_int_equal(line_of("a.b"), 0);
}

static void test_jsonpos_offset_counts_lines_and_columns(void **state)
{
	int line, col;

	jsonpos_offset(doc, strlen(doc), 4, &line, &col);
	assert_int_equal(line, 2);
	assert_int_equal(col, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jsonpos_finds_nested_paths),
		cmocka_unit_test(test_jsonpos_skips_brackets_inside_strings),
		cmocka_unit_test(test_jsonpos_missing_path_is_zero),
		cmocka_unit_test(test_jsonpos_offset_counts_lines_and_columns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

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

/* cJSON takes a form feed for a space; the walker used to stop on it and spin forever. */
static void test_jsonpos_walks_over_control_bytes_as_cjson_does(void **state)
{
	static const char t[] = "{\"targets\":[\f{\"name\":\"a\",\"url\":\"http://h\"}],\v\n\"bogus\":1}";

	assert_int_equal(jsonpos_line(t, strlen(t), "bogus"), 2);
	assert_int_equal(jsonpos_line(t, strlen(t), "targets[0].url"), 1);
}

/* Text the walker does not understand ends the walk: it never loops. */
static void test_jsonpos_gives_up_on_text_it_cannot_follow(void **state)
{
	static const char *const bad[] = { "{\"a\":[}]}", "{\"a\":[:]}", "{\"a\":{\"b\" 1}}",
					   "[[[[", "{\"a\":}", "{\"a\":[1,}" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(jsonpos_line(bad[i], strlen(bad[i]), "z"), 0);
}

static void test_jsonpos_finds_control_bytes_outside_strings_only(void **state)
{
	static const char ok[] = "{\"a\":\t\"x\fy\\\"\x01\",\r\n\"b\":1}";
	static const char bad[] = "{\"a\":\"\\\"\" \x1b}";

	assert_int_equal(jsonpos_stray_control(ok, strlen(ok)), strlen(ok));
	assert_int_equal(jsonpos_stray_control(bad, strlen(bad)), 10);
}

/* cJSON decodes escapes in key names; the path holds the decoded key, the text the escaped one. */
static void test_jsonpos_matches_keys_written_with_escapes(void **state)
{
	static const char t[] = "{\"a\":1,\n\"\\u001b]0;x\":2,\n\"caf\\u00e9\\n\":3,\n\"\\ud83d\\ude00\":4}";

	assert_int_equal(jsonpos_line(t, strlen(t), "\x1b]0;x"), 2);
	assert_int_equal(jsonpos_line(t, strlen(t), "caf\xC3\xA9\n"), 3);
	assert_int_equal(jsonpos_line(t, strlen(t), "\xF0\x9F\x98\x80"), 4);
	assert_int_equal(jsonpos_line(t, strlen(t), "\x1b]0;"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jsonpos_finds_nested_paths),
		cmocka_unit_test(test_jsonpos_skips_brackets_inside_strings),
		cmocka_unit_test(test_jsonpos_missing_path_is_zero),
		cmocka_unit_test(test_jsonpos_offset_counts_lines_and_columns),
		cmocka_unit_test(test_jsonpos_walks_over_control_bytes_as_cjson_does),
		cmocka_unit_test(test_jsonpos_gives_up_on_text_it_cannot_follow),
		cmocka_unit_test(test_jsonpos_finds_control_bytes_outside_strings_only),
		cmocka_unit_test(test_jsonpos_matches_keys_written_with_escapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

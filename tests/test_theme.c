#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/ui/theme.h"

static int parse(const char *text, struct theme *t, struct ht_err *err)
{
	return theme_parse(text, strlen(text), "x.theme", t, err);
}

static void test_theme_parses_colours_and_attributes(void **state)
{
	struct theme t;
	struct ht_err err = { "" };

	assert_int_equal(parse("# comment\n\ndown = bright-red black bold underline\nhealthy = 34\n", &t, &err), 0);
	assert_int_equal(t.roles[ROLE_DOWN].fg, 9);
	assert_int_equal(t.roles[ROLE_DOWN].bg, 0);
	assert_int_equal(t.roles[ROLE_DOWN].attrs, THEME_BOLD | THEME_UNDERLINE);
	assert_int_equal(t.roles[ROLE_HEALTHY].fg, 34);
	assert_int_equal(t.roles[ROLE_HEALTHY].bg, -1);
	/* roles the file leaves out keep the default theme's values */
	struct theme def;
	theme_default(&def);
	assert_memory_equal(&t.roles[ROLE_HEADER], &def.roles[ROLE_HEADER], sizeof(def.roles[0]));
}

static void test_theme_errors_name_file_and_line(void **state)
{
	struct theme t;
	struct ht_err err = { "" };

	assert_int_equal(parse("down = red\nhelthy = green\n", &t, &err), -1);
	assert_non_null(strstr(err.msg, "x.theme:2: unknown role \"helthy\""));
	assert_int_equal(parse("\n\ndown = reddish\n", &t, &err), -1);
	assert_string_equal(err.msg, "x.theme:3: down: \"reddish\" is not a colour or an attribute");
	assert_int_equal(parse("down red\n", &t, &err), -1);
	assert_non_null(strstr(err.msg, "x.theme:1: expected"));
	assert_int_equal(parse("down = 256\n", &t, &err), -1);
}

/* A theme saved on Windows (CRLF line ends) loads like the same file with LF ends. */
static void test_theme_accepts_crlf_line_ends(void **state)
{
	struct theme t, lf;
	struct ht_err err = { "" };

	assert_int_equal(parse("dim = 244 default dim\r\nselected = black, cyan, reverse\r\n", &t, &err), 0);
	assert_int_equal(parse("dim = 244 default dim\nselected = black, cyan, reverse\n", &lf, &err), 0);
	assert_memory_equal(&t, &lf, sizeof(t));
	assert_int_equal(t.roles[ROLE_DIM].fg, 244);
	assert_int_equal(t.roles[ROLE_DIM].attrs, THEME_DIM);
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* The message goes to the terminal: a control byte from the file is never quoted raw. */
static void test_theme_error_quotes_no_control_byte(void **state)
{
	struct theme t;
	struct ht_err err = { "" };

	assert_int_equal(parse("down = red\x1b[2Jx\n", &t, &err), -1);
	assert_non_null(strstr(err.msg, "x.theme:1: down:"));
	assert_false(has_control(err.msg));
	assert_int_equal(parse("do\x1bwn = red\n", &t, &err), -1);
	assert_non_null(strstr(err.msg, "x.theme:1: unknown role"));
	assert_false(has_control(err.msg));
	assert_int_equal(parse("down = red \x1b]0;title\x07\x7f\n", &t, &err), -1);
	assert_false(has_control(err.msg));
}

static void test_theme_shipped_files_parse(void **state)
{
	const char *dir = getenv("HT_TESTDIR");
	const char *names[] = { "default", "mono", "light", "high-contrast" };
	char path[1024];

	for (size_t i = 0; i < 4; i++) {
		struct theme t;
		struct ht_err err = { "" };
		snprintf(path, sizeof(path), "%s/../themes/%s.theme", dir ? dir : "tests", names[i]);
		if (theme_load(path, &t, &err) < 0)
			fail_msg("%s: %s", names[i], err.msg);
	}
}

static void test_theme_default_file_matches_builtin(void **state)
{
	const char *dir = getenv("HT_TESTDIR");
	char path[1024];
	struct theme file, builtin;
	struct ht_err err = { "" };

	snprintf(path, sizeof(path), "%s/../themes/default.theme", dir ? dir : "tests");
	assert_int_equal(theme_load(path, &file, &err), 0);
	theme_default(&builtin);
	assert_memory_equal(&file, &builtin, sizeof(file));
}

static void test_theme_unknown_name_is_an_error(void **state)
{
	struct theme t;
	struct ht_err err = { "" };

	assert_int_equal(theme_load("no-such-theme", &t, &err), -1);
	assert_non_null(strstr(err.msg, "theme \"no-such-theme\" not found"));
	assert_int_equal(theme_load("mono", &t, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_theme_parses_colours_and_attributes),
		cmocka_unit_test(test_theme_errors_name_file_and_line),
		cmocka_unit_test(test_theme_accepts_crlf_line_ends),
		cmocka_unit_test(test_theme_error_quotes_no_control_byte),
		cmocka_unit_test(test_theme_shipped_files_parse),
		cmocka_unit_test(test_theme_default_file_matches_builtin),
		cmocka_unit_test(test_theme_unknown_name_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/core/sanitize.h"

#define FFFD "\xEF\xBF\xBD"

static const char *clean(const char *in, size_t len, bool ascii)
{
	static char out[256];
	sanitize_text(in, len, out, sizeof(out), ascii);
	return out;
}

static void test_sanitize_keeps_plain_text_and_utf8(void **state)
{
	assert_string_equal(clean("redis: error", 12, false), "redis: error");
	assert_string_equal(clean("caf\xC3\xA9 \xE2\x96\x81", 9, false), "caf\xC3\xA9 \xE2\x96\x81");
}

static void test_sanitize_replaces_escape_sequences(void **state)
{
	assert_string_equal(clean("\x1b[2J\x1b]0;pwn\x07", 12, false), FFFD "[2J" FFFD "]0;pwn" FFFD);
}

static void test_sanitize_replaces_del_and_c1(void **state)
{
	/* U+009B is CSI on terminals that honour 8-bit controls */
	assert_string_equal(clean("a\x7f" "b\xC2\x9B" "c", 6, false), "a" FFFD "b" FFFD "c");
}

static void test_sanitize_replaces_invalid_utf8(void **state)
{
	assert_string_equal(clean("\xC0\xAF", 2, false), FFFD FFFD);          /* overlong '/' */
	assert_string_equal(clean("\xED\xA0\x80", 3, false), FFFD FFFD FFFD); /* surrogate */
	assert_string_equal(clean("\xF4\x90\x80\x80", 4, false), FFFD FFFD FFFD FFFD);
	assert_string_equal(clean("ab\xE2\x96", 4, false), "ab" FFFD FFFD);    /* cut short */
	assert_string_equal(clean("\xFF", 1, false), FFFD);
}

static void test_sanitize_replaces_nul_and_bidi_overrides(void **state)
{
	assert_string_equal(clean("a\0b", 3, false), "a" FFFD "b");
	assert_string_equal(clean("x\xE2\x80\xAEy", 5, false), "x" FFFD "y");   /* U+202E */
}

static void test_sanitize_turns_whitespace_controls_into_spaces(void **state)
{
	assert_string_equal(clean("a\tb\r\nc", 6, false), "a b  c");
}

static void test_sanitize_ascii_mode(void **state)
{
	assert_string_equal(clean("caf\xC3\xA9\x1b", 6, true), "caf??");
}

static void test_sanitize_never_splits_a_character(void **state)
{
	char out[5];
	/* "é" is two bytes: three of them do not fit in 4 bytes + NUL */
	assert_int_equal(sanitize_text("\xC3\xA9\xC3\xA9\xC3\xA9", 6, out, sizeof(out), false), 4);
	assert_string_equal(out, "\xC3\xA9\xC3\xA9");
}

static void test_sanitize_is_clean(void **state)
{
	assert_true(sanitize_is_clean("api-prod \xC3\xA9"));
	assert_false(sanitize_is_clean("a\x1b"));
	assert_false(sanitize_is_clean("\xC3"));
}

static void test_sanitize_cut_keeps_whole_characters(void **state)
{
	static const char s[] = "ab\xC3\xA9\xE2\x96\x81";   /* a b é ▁ */

	assert_int_equal(sanitize_cut(s, 7, 3), 2);
	assert_int_equal(sanitize_cut(s, 7, 4), 4);
	assert_int_equal(sanitize_cut(s, 7, 6), 4);
	assert_int_equal(sanitize_cut(s, 7, 9), 7);
}

static void test_sanitize_trim_cut_drops_a_half_character(void **state)
{
	char a[] = "caf\xC3", b[] = "x\xE2\x96", c[] = "caf\xC3\xA9", d[] = "plain";

	sanitize_trim_cut(a);
	sanitize_trim_cut(b);
	sanitize_trim_cut(c);
	sanitize_trim_cut(d);
	assert_string_equal(a, "caf");
	assert_string_equal(b, "x");
	assert_string_equal(c, "caf\xC3\xA9");
	assert_string_equal(d, "plain");
}

static void test_sanitize_url_escapes_raw_bytes(void **state)
{
	char out[64];

	sanitize_url("http://h/\xEE\x1b[2J x\"", out, sizeof(out));
	assert_string_equal(out, "http://h/%EE%1B[2J%20x%22");
	sanitize_url("http://h/\xEE", out, 11);   /* no room for the whole escape: none of it */
	assert_string_equal(out, "http://h/");
}

static void test_sanitize_masks_url_password(void **state)
{
	char out[128];

	sanitize_mask_password("http://user:s3cret@host:8080/x?a=b@c", out, sizeof(out));
	assert_string_equal(out, "http://user:***@host:8080/x?a=b@c");
	sanitize_mask_password("http://user:p@ss@ho st/", out, sizeof(out));
	assert_string_equal(out, "http://user:***@ho st/");
	sanitize_mask_password("user:pw@host", out, sizeof(out));
	assert_string_equal(out, "user:***@host");
	sanitize_mask_password("http://user@host/a:b@c", out, sizeof(out));
	assert_string_equal(out, "http://user@host/a:b@c");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize_keeps_plain_text_and_utf8),
		cmocka_unit_test(test_sanitize_replaces_escape_sequences),
		cmocka_unit_test(test_sanitize_replaces_del_and_c1),
		cmocka_unit_test(test_sanitize_replaces_invalid_utf8),
		cmocka_unit_test(test_sanitize_replaces_nul_and_bidi_overrides),
		cmocka_unit_test(test_sanitize_turns_whitespace_controls_into_spaces),
		cmocka_unit_test(test_sanitize_ascii_mode),
		cmocka_unit_test(test_sanitize_never_splits_a_character),
		cmocka_unit_test(test_sanitize_is_clean),
		cmocka_unit_test(test_sanitize_cut_keeps_whole_characters),
		cmocka_unit_test(test_sanitize_trim_cut_drops_a_half_character),
		cmocka_unit_test(test_sanitize_url_escapes_raw_bytes),
		cmocka_unit_test(test_sanitize_masks_url_password),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

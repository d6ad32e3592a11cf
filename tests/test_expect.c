#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <cmocka.h>
#include "healthtop/core/expect.h"

static void test_status_forms(void **state)
{
	struct status_range r;

	assert_int_equal(expect_status_parse("204", &r), 0);
	assert_int_equal(r.lo, 204);
	assert_int_equal(r.hi, 204);
	assert_int_equal(expect_status_parse("200-399", &r), 0);
	assert_int_equal(r.lo, 200);
	assert_int_equal(r.hi, 399);
	assert_int_equal(expect_status_parse("4xx", &r), 0);
	assert_int_equal(r.lo, 400);
	assert_int_equal(r.hi, 499);
	const char *bad[] = { "", "20", "2000", "299-200", "600", "099", "200-", "-200", "2xy", "200 ", "abc" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(expect_status_parse(bad[i], &r), -1);
}

static void test_status_default_is_2xx(void **state)
{
	struct expect_status e = { .n = 0 };

	assert_true(expect_status_accepts(&e, 200));
	assert_true(expect_status_accepts(&e, 299));
	assert_false(expect_status_accepts(&e, 301));
	assert_false(expect_status_accepts(&e, 503));
}

static void test_status_list_accepts_only_its_codes(void **state)
{
	struct expect_status e = { .r = { { 200, 200 }, { 401, 401 } }, .n = 2 };

	assert_true(expect_status_accepts(&e, 401));
	assert_false(expect_status_accepts(&e, 204));
}

static void test_pointer_lookup(void **state)
{
	cJSON *root = cJSON_Parse("{\"database\":{\"status\":\"up\"},\"a/b\":1,\"m~n\":2,\"list\":[10,20]}");

	assert_string_equal(cJSON_GetStringValue(expect_json_lookup(root, "/database/status")), "up");
	assert_int_equal(cJSON_GetNumberValue(expect_json_lookup(root, "/a~1b")), 1);
	assert_int_equal(cJSON_GetNumberValue(expect_json_lookup(root, "/m~0n")), 2);
	assert_int_equal(cJSON_GetNumberValue(expect_json_lookup(root, "/list/1")), 20);
	assert_null(expect_json_lookup(root, "/list/01"));
	assert_null(expect_json_lookup(root, "/list/2"));
	assert_null(expect_json_lookup(root, "/database/status/x"));
	assert_ptr_equal(expect_json_lookup(root, ""), root);
	assert_int_equal(expect_json_pointer_valid("/a/b"), 0);
	assert_int_equal(expect_json_pointer_valid("a/b"), -1);
	assert_int_equal(expect_json_pointer_valid("/a~2"), -1);
	cJSON_Delete(root);
}

/* Found by fuzz/fuzz_expect.c (fuzz/regressions/expect/long-key-cut-to-another): a key longer
 * than 255 bytes was cut to 255, so the pointer missed its key or found another one. */
static void test_pointer_lookup_long_keys_whole(void **state)
{
	char key[301], shorter[256], text[700], ptr[303];
	cJSON *root;

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	memcpy(shorter, key, sizeof(shorter) - 1);
	shorter[sizeof(shorter) - 1] = '\0';
	snprintf(text, sizeof(text), "{\"%s\":1,\"%s\":2}", shorter, key);
	root = cJSON_Parse(text);
	assert_non_null(root);
	snprintf(ptr, sizeof(ptr), "/%s", key);
	assert_int_equal(cJSON_GetNumberValue(expect_json_lookup(root, ptr)), 2);
	snprintf(ptr, sizeof(ptr), "/%s", shorter);
	assert_int_equal(cJSON_GetNumberValue(expect_json_lookup(root, ptr)), 1);
	cJSON_Delete(root);
}

/* Found by fuzz/fuzz_expect.c (fuzz/regressions/expect/tilde-at-end-reads-past-pointer): a '~'
 * at the end stepped over the pointer's terminator and went on reading what lay after it. */
static void test_pointer_lookup_stops_at_a_trailing_tilde(void **state)
{
	static const char after[] = "/a~\0/x";   /* "/a~", then bytes that are not the pointer */
	cJSON *root = cJSON_Parse("{\"a~\":{\"x\":1}}");

	assert_non_null(root);
	assert_ptr_equal(expect_json_lookup(root, after), cJSON_GetObjectItem(root, "a~"));
	cJSON_Delete(root);
}

static void test_json_assertion_names_pointer_and_values(void **state)
{
	cJSON *body = cJSON_Parse("{\"database\":{\"status\":\"down\"}}");
	struct expect_json e = { "/database/status", cJSON_CreateString("up") };
	char why[160];

	assert_false(expect_json_holds(body, &e, 1, why, sizeof(why)));
	assert_string_equal(why, "/database/status is \"down\", expected \"up\"");
	assert_false(expect_json_holds(NULL, &e, 1, why, sizeof(why)));
	assert_string_equal(why, "/database/status: body is not JSON, expected \"up\"");
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(body, "database"), "status", cJSON_CreateString("up"));
	assert_true(expect_json_holds(body, &e, 1, why, sizeof(why)));
	cJSON_Delete(e.want);
	cJSON_Delete(body);
}

static void test_json_assertion_keeps_control_bytes_off_the_reason(void **state)
{
	cJSON *body = cJSON_Parse("{\"s\":\"\\u001b[31mred\"}");
	struct expect_json e = { "/s", cJSON_CreateString("ok") };
	char why[160];

	assert_false(expect_json_holds(body, &e, 1, why, sizeof(why)));
	for (const char *p = why; *p; p++)
		assert_true((unsigned char)*p >= 0x20);
	cJSON_Delete(e.want);
	cJSON_Delete(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_forms),
		cmocka_unit_test(test_status_default_is_2xx),
		cmocka_unit_test(test_status_list_accepts_only_its_codes),
		cmocka_unit_test(test_pointer_lookup),
		cmocka_unit_test(test_pointer_lookup_long_keys_whole),
		cmocka_unit_test(test_pointer_lookup_stops_at_a_trailing_tilde),
		cmocka_unit_test(test_json_assertion_names_pointer_and_values),
		cmocka_unit_test(test_json_assertion_keeps_control_bytes_off_the_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

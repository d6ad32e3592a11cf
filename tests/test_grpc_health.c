/* The gRPC health messages, byte for byte as protoc-generated code writes and reads them. */
#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/core/grpc_health.h"

static void test_encode_empty_service_is_an_empty_message(void **state)
{
	unsigned char out[16];
	const unsigned char want[] = { 0, 0, 0, 0, 0 };

	assert_int_equal(grpc_health_encode("", out, sizeof(out)), 5);
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(grpc_health_encode(NULL, out, sizeof(out)), 5);
}

static void test_encode_named_service(void **state)
{
	unsigned char out[32];
	const unsigned char want[] = { 0, 0, 0, 0, 5, 0x0a, 3, 'f', 'o', 'o' };

	assert_int_equal(grpc_health_encode("foo", out, sizeof(out)), (int)sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
}

static void test_encode_long_name_uses_a_two_byte_length(void **state)
{
	char name[201];
	unsigned char out[300];

	memset(name, 's', 200);
	name[200] = '\0';
	assert_int_equal(grpc_health_encode(name, out, sizeof(out)), 5 + 1 + 2 + 200);
	assert_int_equal(out[4], 203);
	assert_int_equal(out[6], 0xc8);   /* 200 = 0x48 | continuation, then 1 */
	assert_int_equal(out[7], 0x01);
}

static void test_encode_refuses_what_does_not_fit(void **state)
{
	char name[GRPC_SERVICE_MAX + 2];
	unsigned char out[600];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(grpc_health_encode(name, out, sizeof(out)), -1);
	assert_int_equal(grpc_health_encode("foo", out, 9), -1);
}

static long decode_ok(const unsigned char *b, size_t n)
{
	long status = -99;
	char why[80] = "";

	assert_int_equal(grpc_health_decode(b, n, &status, why, sizeof(why)), 0);
	return status;
}

static void test_decode_serving_and_not_serving(void **state)
{
	const unsigned char serving[] = { 0, 0, 0, 0, 2, 0x08, 1 };
	const unsigned char not_serving[] = { 0, 0, 0, 0, 2, 0x08, 2 };
	const unsigned char unknown_service[] = { 0, 0, 0, 0, 2, 0x08, 3 };

	assert_int_equal(decode_ok(serving, sizeof(serving)), GRPC_SERVING_SERVING);
	assert_int_equal(decode_ok(not_serving, sizeof(not_serving)), GRPC_SERVING_NOT_SERVING);
	assert_int_equal(decode_ok(unknown_service, sizeof(unknown_service)),
			 GRPC_SERVING_SERVICE_UNKNOWN);
}

static void test_decode_empty_message_is_unknown(void **state)
{
	const unsigned char empty[] = { 0, 0, 0, 0, 0 };

	assert_int_equal(decode_ok(empty, sizeof(empty)), GRPC_SERVING_UNKNOWN);
}

static void test_decode_skips_fields_it_does_not_know(void **state)
{
	/* field 2 string "hi", field 3 fixed32, field 4 fixed64, field 5 varint, then status */
	const unsigned char b[] = { 0, 0, 0, 0, 23, 0x12, 2, 'h', 'i', 0x1d, 1, 2, 3, 4,
				    0x21, 1, 2, 3, 4, 5, 6, 7, 8, 0x28, 0x96, 0x01, 0x08, 1 };

	assert_int_equal(decode_ok(b, sizeof(b)), GRPC_SERVING_SERVING);
}

static void assert_malformed(const unsigned char *b, size_t n, const char *why_part)
{
	long status = 0;
	char why[80] = "";

	assert_int_equal(grpc_health_decode(b, n, &status, why, sizeof(why)), -1);
	assert_non_null(strstr(why, why_part));
}

static void test_decode_rejects_malformed_input(void **state)
{
	const unsigned char short_prefix[] = { 0, 0, 0 };
	const unsigned char compressed[] = { 1, 0, 0, 0, 2, 0x08, 1 };
	const unsigned char overlong[] = { 0, 0, 0, 0, 9, 0x08, 1 };
	const unsigned char huge[] = { 0, 0xff, 0xff, 0xff, 0xff, 0x08, 1 };
	const unsigned char cut_varint[] = { 0, 0, 0, 0, 2, 0x08, 0x81 };
	const unsigned char group[] = { 0, 0, 0, 0, 2, 0x0b, 1 };
	const unsigned char field0[] = { 0, 0, 0, 0, 2, 0x00, 1 };
	const unsigned char cut_string[] = { 0, 0, 0, 0, 3, 0x12, 9, 'a' };
	const unsigned char endless[] = { 0, 0, 0, 0, 12, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
					  0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	assert_malformed(NULL, 0, "no health response");
	assert_malformed(short_prefix, sizeof(short_prefix), "no health response");
	assert_malformed(compressed, sizeof(compressed), "compressed");
	assert_malformed(overlong, sizeof(overlong), "cut short");
	assert_malformed(huge, sizeof(huge), "cut short");
	assert_malformed(cut_varint, sizeof(cut_varint), "bad status");
	assert_malformed(group, sizeof(group), "bad field");
	assert_malformed(field0, sizeof(field0), "field 0");
	assert_malformed(cut_string, sizeof(cut_string), "bad field");
	assert_malformed(endless, sizeof(endless), "bad status");
}

static void test_round_trip_of_request_bytes_is_not_a_response(void **state)
{
	/* A request echoed back (field 1 as a string) must not pass for a status. */
	unsigned char b[32];
	int n = grpc_health_encode("x", b, sizeof(b));

	assert_true(n > 0);
	assert_int_equal(decode_ok(b, (size_t)n), GRPC_SERVING_UNKNOWN);
}

static void test_names(void **state)
{
	char buf[32];

	assert_string_equal(grpc_serving_name(1, buf, sizeof(buf)), "SERVING");
	assert_string_equal(grpc_serving_name(3, buf, sizeof(buf)), "SERVICE_UNKNOWN");
	assert_string_equal(grpc_serving_name(7, buf, sizeof(buf)), "status 7");
	assert_string_equal(grpc_code_name(5, buf, sizeof(buf)), "NOT_FOUND");
	assert_string_equal(grpc_code_name(14, buf, sizeof(buf)), "UNAVAILABLE");
	assert_string_equal(grpc_code_name(16, buf, sizeof(buf)), "UNAUTHENTICATED");
	assert_string_equal(grpc_code_name(42, buf, sizeof(buf)), "CODE_42");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_empty_service_is_an_empty_message),
		cmocka_unit_test(test_encode_named_service),
		cmocka_unit_test(test_encode_long_name_uses_a_two_byte_length),
		cmocka_unit_test(test_encode_refuses_what_does_not_fit),
		cmocka_unit_test(test_decode_serving_and_not_serving),
		cmocka_unit_test(test_decode_empty_message_is_unknown),
		cmocka_unit_test(test_decode_skips_fields_it_does_not_know),
		cmocka_unit_test(test_decode_rejects_malformed_input),
		cmocka_unit_test(test_round_trip_of_request_bytes_is_not_a_response),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "healthtop/core/timeparse.h"

#define NOW 1795000000000LL   /* 2026-11-18T11:06:40Z */

static int64_t parse(const char *s)
{
	int64_t t = -42;
	if (timeparse(s, NOW, &t) < 0)
		return -1;
	return t;
}

static void test_timeparse_iso_dates_and_times(void **state)
{
	assert_int_equal(parse("2026-11-23"), 1795392000000LL);
	assert_int_equal(parse("2026-11-23T10:00:00Z"), 1795428000000LL);
	assert_int_equal(parse("2026-11-23T10:00Z"), 1795428000000LL);
	assert_int_equal(parse("2026-11-23 10:00:00"), 1795428000000LL);
	assert_int_equal(parse("2026-11-23T10:00:00.250Z"), 1795428000250LL);
	assert_int_equal(parse("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(parse("2024-02-29"), 1709164800000LL);
}

static void test_timeparse_offsets(void **state)
{
	assert_int_equal(parse("2026-11-23T12:00:00+02:00"), 1795428000000LL);
	assert_int_equal(parse("2026-11-23T05:30:00-0430"), 1795428000000LL);
}

static void test_timeparse_relative(void **state)
{
	assert_int_equal(parse("24h"), NOW - 86400000LL);
	assert_int_equal(parse("7d"), NOW - 7 * 86400000LL);
	assert_int_equal(parse("30m"), NOW - 1800000LL);
	assert_int_equal(parse("90s"), NOW - 90000LL);
	assert_int_equal(parse("2w"), NOW - 14 * 86400000LL);
}

static void test_timeparse_rejects_nonsense(void **state)
{
	const char *bad[] = { "", "yesterday", "24", "24x", "-5h", "2026-13-01", "2026-02-30",
			      "2025-02-29", "2026-11-23T25:00Z", "2026-11-23T10:00:00+2", "2026-11-23X",
			      "h", "7dd" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i]) != -1)
			fail_msg("\"%s\" was accepted", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeparse_iso_dates_and_times),
		cmocka_unit_test(test_timeparse_offsets),
		cmocka_unit_test(test_timeparse_relative),
		cmocka_unit_test(test_timeparse_rejects_nonsense),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

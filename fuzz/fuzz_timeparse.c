/* timeparse(): any string is either refused or turned into a time in range; an ISO time prints
 * back (clock_iso8601) to the same instant, and a relative time lies before now. */
#include "autoconfig.h"
#include "fuzz_util.h"
#include "healthtop/core/clock.h"
#include "healthtop/core/timeparse.h"

#define NOW_MS INT64_C(1795000000000)                 /* 2026-11-18 */
#define YEAR_10000_MS INT64_C(253402300800000)
#define MAX_RELATIVE_MS (INT64_C(1000000) * 7 * 86400 * 1000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	char *s = fuzz_take_string(&in);
	int64_t t = 0;

	if (timeparse(s, NOW_MS, &t) == 0) {
		bool iso = strlen(s) >= 10 && s[4] == '-';
		if (iso) {
			/* Four-digit years, a zone of at most 23:59: 0000-01-01 .. 9999-12-31. */
			FUZZ_CHECK(t > INT64_C(-62167219200000) - 86400000);
			FUZZ_CHECK(t < YEAR_10000_MS + 86400000);
		} else {
			FUZZ_CHECK(t <= NOW_MS && t >= NOW_MS - MAX_RELATIVE_MS);
		}
		if (t >= 0 && t < YEAR_10000_MS) {
			char shown[64];
			int64_t back = -1;
			clock_iso8601(t, true, shown, sizeof(shown));
			FUZZ_CHECK(timeparse(shown, NOW_MS, &back) == 0);
			FUZZ_CHECK(back == t);
		}
	}
	free(s);
	return 0;
}

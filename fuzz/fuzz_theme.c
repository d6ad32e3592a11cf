/* theme_parse(): any file either loads into in-range colours and attributes or is refused with a
 * message naming the file, never both, never a crash. */
#include "autoconfig.h"
#include "fuzz_util.h"
#include "healthtop/ui/theme.h"

#define ALL_ATTRS (THEME_BOLD | THEME_DIM | THEME_UNDERLINE | THEME_REVERSE)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct theme t;
	struct ht_err err = { { 0 } };
	int rc = theme_parse((const char *)data, size, "fuzz.theme", &t, &err);

	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc < 0) {
		FUZZ_CHECK(fuzz_terminated(err.msg, sizeof(err.msg)));
		FUZZ_CHECK(strncmp(err.msg, "fuzz.theme:", 11) == 0);
		/* The message goes to the terminal: no byte of the file may steer it.
		 * PENDING fuzz/regressions-pending/theme/crlf-line-end: a CR (or ESC) inside a word is
		 * quoted raw, and a CRLF theme file is refused. */
#ifdef FUZZ_STRICT
		FUZZ_CHECK(!fuzz_has_control(err.msg, strlen(err.msg)));
#endif
		return 0;
	}
	for (int r = 0; r < ROLE_COUNT; r++) {
		FUZZ_CHECK(t.roles[r].fg >= -1 && t.roles[r].fg <= 255);
		FUZZ_CHECK(t.roles[r].bg >= -1 && t.roles[r].bg <= 255);
		FUZZ_CHECK((t.roles[r].attrs & ~(unsigned)ALL_ATTRS) == 0);
	}
	return 0;
}

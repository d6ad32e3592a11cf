/* theme_parse(): any file either loads into in-range colours and attributes or is refused with a
 * message naming the file, never both, never a crash. */
#include "autoconfig.h"
#include "fuzz_util.h"
#include "healthtop/ui/theme.h"

#define ALL_ATTRS (THEME_BOLD | THEME_DIM | THEME_UNDERLINE | THEME_REVERSE)

/* The same file saved with CRLF line ends loads the same theme, or is refused only because a
 * line grew past the parser's line room. */
static void check_crlf(const uint8_t *data, size_t size, const struct theme *lf)
{
	char *crlf = malloc(2 * size + 1);
	size_t n = 0;
	struct theme t;
	struct ht_err err = { { 0 } };

	FUZZ_CHECK(crlf != NULL);
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\n')
			crlf[n++] = '\r';
		crlf[n++] = (char)data[i];
	}
	if (theme_parse(crlf, n, "fuzz.theme", &t, &err) == 0)
		FUZZ_CHECK(memcmp(&t, lf, sizeof(t)) == 0);
	else
		FUZZ_CHECK(strstr(err.msg, "line too long") != NULL);
	free(crlf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct theme t;
	struct ht_err err = { { 0 } };
	int rc = theme_parse((const char *)data, size, "fuzz.theme", &t, &err);

	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc < 0) {
		FUZZ_CHECK(fuzz_terminated(err.msg, sizeof(err.msg)));
		FUZZ_CHECK(strncmp(err.msg, "fuzz.theme:", 11) == 0);
		/* The message goes to the terminal: no byte of the file may steer it
		 * (fuzz/regressions/theme/crlf-line-end). */
		FUZZ_CHECK(!fuzz_has_control(err.msg, strlen(err.msg)));
		return 0;
	}
	for (int r = 0; r < ROLE_COUNT; r++) {
		FUZZ_CHECK(t.roles[r].fg >= -1 && t.roles[r].fg <= 255);
		FUZZ_CHECK(t.roles[r].bg >= -1 && t.roles[r].bg <= 255);
		FUZZ_CHECK((t.roles[r].attrs & ~(unsigned)ALL_ATTRS) == 0);
	}
	if (!memchr(data, '\r', size))
		check_crlf(data, size, &t);
	return 0;
}

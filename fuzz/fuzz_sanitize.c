/* sanitize_text(): whatever the bytes and whatever the room, the result fits, is terminated,
 * is clean by sanitize_is_clean(), and sanitizing it again changes nothing. */
#include "autoconfig.h"
#include "fuzz_util.h"
#include "healthtop/core/sanitize.h"

#define BIG_OUT 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* First byte: bit 0 ascii_only, the rest an output room of 1..127 bytes (0: a big one). */
	bool ascii = data[0] & 1;
	size_t outsize = (size_t)(data[0] >> 1) ? (size_t)(data[0] >> 1) : BIG_OUT;
	const char *in = (const char *)data + 1;
	size_t inlen = size - 1;
	/* Exactly outsize bytes, so ASan sees one byte too many. */
	char *out = malloc(outsize), *again = malloc(BIG_OUT);

	FUZZ_CHECK(out && again);
	FUZZ_CHECK(sanitize_text(in, inlen, NULL, 0, ascii) == 0);
	size_t n = sanitize_text(in, inlen, out, outsize, ascii);
	FUZZ_CHECK(n < outsize);
	FUZZ_CHECK(strlen(out) == n);
	FUZZ_CHECK(sanitize_is_clean(out));
	FUZZ_CHECK(!fuzz_has_control(out, n));
	for (size_t i = 0; ascii && i < n; i++)
		FUZZ_CHECK((unsigned char)out[i] < 0x80);
	/* Plain printable ASCII that fits is copied unchanged. */
	bool plain = inlen < outsize;
	for (size_t i = 0; plain && i < inlen; i++)
		plain = (unsigned char)in[i] >= 0x20 && (unsigned char)in[i] < 0x7F;
	if (plain)
		FUZZ_CHECK(n == inlen && memcmp(out, in, n) == 0);
	/* Idempotent: clean text is its own sanitized form. */
	size_t m = sanitize_text(out, n, again, BIG_OUT, ascii);
	FUZZ_CHECK(m == n && memcmp(again, out, n) == 0);
	free(again);
	free(out);
	return 0;
}

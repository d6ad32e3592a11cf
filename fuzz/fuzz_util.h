/* What every harness shares: the libFuzzer entry point, a property check that libFuzzer sees as a
 * crash (so it saves the input), and a reader that cuts one fuzz input into fields. */
#ifndef HEALTHTOP_FUZZ_UTIL_H
#define HEALTHTOP_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Known bugs not yet fixed on main are stepped around, each in a block marked PENDING that names
 * its input in fuzz/regressions-pending/, so a short run still looks past them. -DFUZZ_STRICT
 * ('make fuzz FUZZ_CFLAGS=-DFUZZ_STRICT') holds every harness to the full contract. Delete a
 * PENDING block when its fix lands. */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() rather than assert(): the check must stay on in every build, NDEBUG or not. */
#define FUZZ_CHECK(cond)                                                                   \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                    \
			abort();                                                           \
		}                                                                          \
	} while (0)

struct fuzz_input {
	const uint8_t *p;
	size_t n;
};

/* Up to `bytes` bytes from the front as a little-endian number; missing bytes read as 0. */
static inline uint64_t fuzz_take_u64(struct fuzz_input *in, size_t bytes)
{
	uint64_t v = 0;

	for (size_t i = 0; i < bytes && in->n > 0; i++, in->p++, in->n--)
		v |= (uint64_t)in->p[0] << (8 * i);
	return v;
}

static inline double fuzz_take_double(struct fuzz_input *in)
{
	uint64_t bits = fuzz_take_u64(in, 8);
	double d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

/* The bytes up to the next NUL (or the end) as a new NUL-terminated string: C strings cannot
 * hold a NUL, so it is the natural field separator. */
static inline char *fuzz_take_string(struct fuzz_input *in)
{
	const uint8_t *nul = memchr(in->p, '\0', in->n);
	size_t len = nul ? (size_t)(nul - in->p) : in->n;
	char *s = malloc(len + 1);

	if (!s)
		abort();
	if (len)
		memcpy(s, in->p, len);
	s[len] = '\0';
	in->p += len + (nul ? 1 : 0);
	in->n -= len + (nul ? 1 : 0);
	return s;
}

/* A byte the terminal would act on: C0 controls and DEL. */
static inline bool fuzz_has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
			return true;
	return false;
}

/* True when `s` is NUL-terminated within `size` bytes. */
static inline bool fuzz_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

#endif

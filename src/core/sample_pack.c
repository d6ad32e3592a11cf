#include "autoconfig.h"
#include <math.h>
#include "healthtop/core/sample_pack.h"

#define MANT_BITS 11
#define MANT (1u << MANT_BITS)   /* 2048 */

/* code = e << 11 | m: e == 0 holds m µs (0..2047); e >= 1 holds (2048 + m) << (e - 1) µs. */
static uint64_t code_us(uint16_t code)
{
	unsigned e = code >> MANT_BITS, m = code & (MANT - 1);

	return e == 0 ? m : (uint64_t)(MANT + m) << (e - 1);
}

uint16_t sample_pack_ms(double ms)
{
	uint64_t us;
	unsigned e = 1;

	if (!(ms >= 0))   /* negative, or NaN */
		return SAMPLE_NO_MS;
	us = (uint64_t)llround((ms > SAMPLE_MS_MAX ? SAMPLE_MS_MAX : ms) * 1000.0);
	if (us < MANT)
		return (uint16_t)us;
	while ((us >> (e - 1)) >= 2 * MANT)
		e++;
	/* round to the nearest step of 2^(e-1) µs; a carry moves to the next exponent */
	uint64_t half = e > 1 ? (uint64_t)1 << (e - 2) : 0, m = (us + half) >> (e - 1);
	if (m >= 2 * MANT) {
		m >>= 1;
		e++;
	}
	return (uint16_t)(e << MANT_BITS | (unsigned)(m - MANT));
}

float sample_unpack_ms(uint16_t code)
{
	if (code == SAMPLE_NO_MS)
		return -1.0f;
	return (float)((double)code_us(code) / 1000.0);
}

#define GAP_BITS 14
#define GAP_MAX ((1 << GAP_BITS) - 1)

static const int64_t gap_unit_ms[4] = { 1, 1000, 60000, 3600000 };

uint16_t sample_pack_gap(int64_t gap_ms)
{
	if (gap_ms <= 0)
		return 0;
	for (unsigned u = 0; u < 4; u++) {
		int64_t v = (gap_ms + gap_unit_ms[u] / 2) / gap_unit_ms[u];
		if (v <= GAP_MAX)
			return (uint16_t)(u << GAP_BITS | (unsigned)v);
	}
	return (uint16_t)(3u << GAP_BITS | GAP_MAX);
}

int64_t sample_unpack_gap(uint16_t code)
{
	return (int64_t)(code & GAP_MAX) * gap_unit_ms[code >> GAP_BITS];
}

/* The sample ring's 16-bit codes (pure): a latency and the gap between two checks, each in two
 * bytes, so that a target's 120 samples take 4 bytes and 2 bits each. */
#ifndef HEALTHTOP_CORE_SAMPLE_PACK_H
#define HEALTHTOP_CORE_SAMPLE_PACK_H

#include <stdint.h>

/* Latency: microseconds as a float with an 11-bit mantissa. To the microsecond below 2.048 ms,
 * within 1/4096 (0.025 %) of the value and 0.5 µs above, up to 1 000 s (more is kept as that).
 * Negative (no latency) is SAMPLE_NO_MS and comes back as -1. */
#define SAMPLE_NO_MS 0xFFFFu
#define SAMPLE_MS_MAX 1000000.0
uint16_t sample_pack_ms(double ms);
float sample_unpack_ms(uint16_t code);

/* The gap from one check to the next, in ms: 14 bits in one of four units (1 ms up to 16.4 s,
 * 1 s up to 4.5 h, 1 min up to 11 days, 1 h up to 1.9 years), rounded to the nearest; a
 * negative gap (the clock set back) is 0, a longer one the largest. */
uint16_t sample_pack_gap(int64_t gap_ms);
int64_t sample_unpack_gap(uint16_t code);

#endif

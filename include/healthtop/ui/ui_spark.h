/* Sparklines (pure): recent results as eight-level bars coloured by class. */
#ifndef HEALTHTOP_UI_SPARK_H
#define HEALTHTOP_UI_SPARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct spark_cell {
	bool empty;       /* no sample this far back */
	uint8_t level;    /* 0..7 */
	uint8_t cls;      /* enum ht_class */
};

extern const char *const spark_glyphs_utf8[8];
extern const char spark_glyphs_ascii[8];

/* ms[] and cls[] run oldest to newest; the newest lands in the last cell. Heights are relative
 * to the slowest shown sample; a check with no latency (nothing answered) is a full bar. */
void spark_render(const float *ms, const uint8_t *cls, size_t n, int width, struct spark_cell *out);

#endif

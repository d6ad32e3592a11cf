#include "autoconfig.h"
#include <math.h>
#include "healthtop/ui/ui_spark.h"

const char *const spark_glyphs_utf8[8] = {
	"\xE2\x96\x81", "\xE2\x96\x82", "\xE2\x96\x83", "\xE2\x96\x84",
	"\xE2\x96\x85", "\xE2\x96\x86", "\xE2\x96\x87", "\xE2\x96\x88",
};
const char spark_glyphs_ascii[8] = { '_', '.', ',', '-', '=', '+', '*', '#' };

void spark_render(const float *ms, const uint8_t *cls, size_t n, int width, struct spark_cell *out)
{
	size_t shown = n < (size_t)width ? n : (size_t)width;
	size_t first = n - shown;
	int pad = width - (int)shown;
	float max = 0;

	for (size_t i = first; i < n; i++)
		if (ms[i] > max)
			max = ms[i];
	for (int c = 0; c < pad; c++)
		out[c] = (struct spark_cell){ .empty = true };
	for (size_t i = 0; i < shown; i++) {
		float v = ms[first + i];
		int level = 7;
		if (v >= 0 && max > 0) {
			level = (int)ceilf(v / max * 8.0f) - 1;
			level = level < 0 ? 0 : level > 7 ? 7 : level;
		} else if (v >= 0) {
			level = 0;
		}
		out[pad + (int)i] = (struct spark_cell){ .empty = false, .level = (uint8_t)level, .cls = cls[first + i] };
	}
}

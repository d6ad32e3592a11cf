/* Layout math for the dashboard (pure): which columns fit a width, and text cut to columns. */
#ifndef HEALTHTOP_UI_LAYOUT_H
#define HEALTHTOP_UI_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum layout_col { COL_STATUS, COL_NAME, COL_LAST, COL_P95, COL_UPTIME, COL_AGO, COL_SPARK, COL_COUNT };

struct layout {
	bool shown[COL_COUNT];
	int x[COL_COUNT];
	int w[COL_COUNT];
};

extern const char *const layout_titles[COL_COUNT];

/* Columns drop as the width shrinks: p95 first, then uptime, then "ago"; status, name, last
 * latency and a sparkline of at least 8 cells stay down to 40 columns. */
void layout_columns(int width, struct layout *out);

/* s cut or padded to exactly `width` display columns (wide characters count two); a cut is
 * marked with "…" (UTF-8) or "~". out gets at most size-1 bytes. Returns bytes written. */
size_t layout_fit(const char *s, int width, bool utf8, char *out, size_t size);

/* Display width of a UTF-8 string. */
int layout_width(const char *s);

/* What the header says: counts of the whole fleet, the last result's time, the window and the
 * clock. glyph[] and n[] are healthy, degraded, down, pending. */
struct layout_header_info {
	size_t n[4];
	const char *glyph[4];
	const char *last;      /* "12:34:56" or "-" */
	const char *window;    /* "1h" */
	const char *clock;     /* "12:34" */
};

/* The header in exactly `width` columns, the clock at the right end: the longest wording that
 * fits ("2 healthy", then "+2 healthy", then "+2"), cut only when even the shortest does not. */
void layout_header(const struct layout_header_info *h, int width, bool utf8, char *out, size_t size);

/* "3ms", "250ms", "1.4s", "12s", "-" for none. */
void layout_latency(double ms, char *buf, size_t size);
/* "now" (< 5 s), "10s ago" (5 s steps), "5m ago", "3h ago", "2d ago"; "never" for 0. */
void layout_ago(int64_t then_ms, int64_t now_ms, char *buf, size_t size);

#endif

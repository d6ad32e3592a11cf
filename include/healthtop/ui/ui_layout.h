/* Layout math for the dashboard (pure): which columns fit a width, and text cut to columns. */
#ifndef HEALTHTOP_UI_LAYOUT_H
#define HEALTHTOP_UI_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* In screen order, left to right. REASON is last: it is the one column of free text. */
enum layout_col {
	COL_STATUS, COL_NAME, COL_FOR, COL_LAST, COL_P95, COL_UPTIME, COL_AGO, COL_SPARK, COL_REASON,
	COL_COUNT
};

struct layout {
	bool shown[COL_COUNT];
	int x[COL_COUNT];
	int w[COL_COUNT];
};

extern const char *const layout_titles[COL_COUNT];

/* Columns drop as the width shrinks: REASON first, then FOR (both only once the name has a
 * comfortable width: 80 columns show neither, 120 both), then p95, uptime and "ago"; status,
 * name, last latency and a sparkline of at least 8 cells stay down to 40 columns. Spare width
 * goes to the status cell (room for "▲ degraded 2/3"), the sparkline, the name, then REASON. */
void layout_columns(int width, struct layout *out);

/* s cut or padded to exactly `width` display columns (wide characters count two); a cut is
 * marked with "…" (UTF-8) or "~". out gets at most size-1 bytes. Returns bytes written. */
size_t layout_fit(const char *s, int width, bool utf8, char *out, size_t size);

/* Untrusted text (a reason, a name) made printable (sanitize_text: no escape reaches the
 * terminal) and then fitted like layout_fit: cut on a character boundary, marked with "…". */
size_t layout_cell(const char *text, int width, bool utf8, char *out, size_t size);

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

/* A span of time in its largest unit: "45s", "12m", "3h", "2d". round_up for time left (a
 * mute with 29m59s to go says "30m"), else rounded down (time spent). */
void layout_span(int64_t ms, bool round_up, char *buf, size_t size);

/* The status cell of a displayed change not yet confirmed, in at most width columns:
 * "▲ degraded 2/3", else "▲ 2/3". glyph and word are the class it moves toward. */
void layout_pending(const char *glyph, const char *word, int count, int needed, int width, char *buf,
		    size_t size);

/* The name cell with a marker at its right end ("api-prod      muted 45m"), exactly width
 * columns: the name is cut first, but keeps at least half the cell; the marker is cut last.
 * mark may be NULL or "" (the name alone). Returns the column the marker starts at. */
int layout_name_mark(const char *name, const char *mark, int width, bool utf8, char *out, size_t size);

#endif

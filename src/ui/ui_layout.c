#include "autoconfig.h"
#include <stdio.h>
#include <string.h>
#include <wchar.h>
#include "healthtop/core/sanitize.h"
#include "healthtop/ui/ui_layout.h"

const char *const layout_titles[COL_COUNT] = {
	"STATUS", "NAME", "FOR", "LAST", "P95", "UPTIME", "CHECKED", "HISTORY", "REASON",
};

struct col_rule {
	enum layout_col col;
	int min;
};

/* The columns every screen tries to show, in the order they are given space. */
static const struct col_rule priority[] = {
	{ COL_STATUS, 10 }, { COL_NAME, 10 }, { COL_LAST, 6 }, { COL_SPARK, 8 },
	{ COL_AGO, 8 }, { COL_UPTIME, 7 }, { COL_P95, 6 },
};

/* Shown only with spare width, once the name is comfortable: "degraded 12m" and a reason that
 * says something ("timeout after 3000 ms" needs more than a dozen columns). */
static const struct col_rule extras[] = { { COL_FOR, 12 }, { COL_REASON, 16 } };

#define NAME_COMFORT 24
#define NAME_MAX_W 32
#define STATUS_ROOMY 16   /* "▲ degraded 10/10" */
#define SPARK_BESIDE_REASON 30
#define SPARK_MAX_W 60
#define REASON_MAX_W 100

static int grow(int *w, int to, int *spare)
{
	int add = to - *w;

	if (add <= 0)
		return 0;
	if (add > *spare)
		add = *spare;
	*w += add;
	*spare -= add;
	return add;
}

/* Adds rules in order while they fit; stops at the first that does not (later ones matter less). */
static void add_columns(const struct col_rule *rules, size_t n, int *spare, struct layout *out)
{
	for (size_t i = 0; i < n; i++) {
		int need = rules[i].min + 1;   /* and the gap before it */
		if (need > *spare)
			return;
		out->shown[rules[i].col] = true;
		out->w[rules[i].col] = rules[i].min;
		*spare -= need;
	}
}

void layout_columns(int width, struct layout *out)
{
	int spare = width + 1;   /* no gap before the first column */

	memset(out, 0, sizeof(*out));
	add_columns(priority, sizeof(priority) / sizeof(priority[0]), &spare, out);
	grow(&out->w[COL_NAME], NAME_COMFORT, &spare);
	if (out->w[COL_NAME] >= NAME_COMFORT)
		add_columns(extras, sizeof(extras) / sizeof(extras[0]), &spare, out);
	if (out->shown[COL_STATUS])
		grow(&out->w[COL_STATUS], STATUS_ROOMY, &spare);
	if (out->shown[COL_SPARK])
		grow(&out->w[COL_SPARK], out->shown[COL_REASON] ? SPARK_BESIDE_REASON : SPARK_MAX_W, &spare);
	grow(&out->w[COL_NAME], NAME_MAX_W, &spare);
	if (out->shown[COL_REASON])
		grow(&out->w[COL_REASON], REASON_MAX_W, &spare);
	if (out->shown[COL_SPARK])
		grow(&out->w[COL_SPARK], SPARK_MAX_W, &spare);
	int x = 0;
	for (int c = 0; c < COL_COUNT; c++) {
		if (!out->shown[c])
			continue;
		out->x[c] = x;
		x += out->w[c] + 1;
	}
}

/* Width of the character at s (1 or 2; 0 for combining), its length in *len. */
static int char_width(const char *s, size_t *len)
{
	mbstate_t st;
	wchar_t wc;
	size_t n;

	if ((unsigned char)*s < 0x80) {   /* most text: no conversion needed */
		*len = 1;
		return 1;
	}
	memset(&st, 0, sizeof(st));
	n = mbrtowc(&wc, s, strlen(s), &st);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		*len = 1;
		return 1;
	}
	*len = n;
	int w = wcwidth(wc);
	return w < 0 ? 1 : w;
}

int layout_width(const char *s)
{
	int w = 0;

	while (*s) {
		size_t len;
		w += char_width(s, &len);
		s += len;
	}
	return w;
}

size_t layout_fit(const char *s, int width, bool utf8, char *out, size_t size)
{
	const char *mark = utf8 ? "\xE2\x80\xA6" : "~";
	size_t o = 0;
	int used = 0;
	bool cut = layout_width(s) > width;
	int room = cut ? width - 1 : width;

	if (size == 0)
		return 0;
	while (*s && o + 5 < size) {
		size_t len;
		int w = char_width(s, &len);
		if (used + w > room)
			break;
		memcpy(out + o, s, len);
		o += len;
		used += w;
		s += len;
	}
	if (cut && width > 0 && o + strlen(mark) < size) {
		memcpy(out + o, mark, strlen(mark));
		o += strlen(mark);
		used++;
	}
	while (used < width && o + 1 < size) {
		out[o++] = ' ';
		used++;
	}
	out[o] = '\0';
	return o;
}

void layout_latency(double ms, char *buf, size_t size)
{
	if (ms < 0)
		snprintf(buf, size, "-");
	else if (ms < 0.5)
		snprintf(buf, size, "<1ms");
	else if (ms < 1000)
		snprintf(buf, size, "%.0fms", ms);
	else if (ms < 10000)
		snprintf(buf, size, "%.1fs", ms / 1000);
	else
		snprintf(buf, size, "%.0fs", ms / 1000);
}

void layout_ago(int64_t then_ms, int64_t now_ms, char *buf, size_t size)
{
	int64_t s = (now_ms - then_ms) / 1000;

	if (then_ms <= 0)
		snprintf(buf, size, "never");
	else if (s < 10)
		snprintf(buf, size, "now");
	else if (s < 60)   /* 10 s steps: each step repaints every row on screen (issue 12's bytes) */
		snprintf(buf, size, "%llds ago", (long long)(s / 10 * 10));
	else if (s < 3600)
		snprintf(buf, size, "%lldm ago", (long long)(s / 60));
	else if (s < 86400)
		snprintf(buf, size, "%lldh ago", (long long)(s / 3600));
	else
		snprintf(buf, size, "%lldd ago", (long long)(s / 86400));
}

static void header_left(const struct layout_header_info *h, int level, char *buf, size_t size)
{
	static const char *const words[4] = { "healthy", "degraded", "down", "pending" };
	const char *gap = level == 0 ? "  " : " ";
	size_t o = (size_t)snprintf(buf, size, " healthtop%s", gap);

	for (int c = 0; c < 4 && o < size; c++) {
		if (c == 3 && h->n[3] == 0)
			continue;   /* "pending" only while there is some */
		if (level == 0)
			o += (size_t)snprintf(buf + o, size - o, "%s %zu %s  ", h->glyph[c], h->n[c], words[c]);
		else if (level == 1)
			o += (size_t)snprintf(buf + o, size - o, "%s%zu %s ", h->glyph[c], h->n[c], words[c]);
		else
			o += (size_t)snprintf(buf + o, size - o, "%s%zu ", h->glyph[c], h->n[c]);
	}
	if (o >= size)
		return;
	if (level == 0)
		snprintf(buf + o, size - o, "last result %s  window %s", h->last, h->window);
	else if (level <= 2)
		snprintf(buf + o, size - o, " last %s  %s", h->last, h->window);
	else
		snprintf(buf + o, size - o, " %s", h->window);
}

void layout_header(const struct layout_header_info *h, int width, bool utf8, char *out, size_t size)
{
	char left[512], fit[1024];
	int cw = layout_width(h->clock) + 1;   /* the clock and a space after it */
	int room = width - cw - 1;
	int level = 0;

	if (size == 0)
		return;
	if (room < 1) {   /* a screen narrower than the clock: the clock alone */
		layout_fit(h->clock, width, utf8, out, size);
		return;
	}
	for (; level < 4; level++) {
		header_left(h, level, left, sizeof(left));
		if (layout_width(left) <= room)
			break;
	}
	layout_fit(left, room, utf8, fit, sizeof(fit));
	snprintf(out, size, "%s %s ", fit, h->clock);
}

size_t layout_cell(const char *text, int width, bool utf8, char *out, size_t size)
{
	char clean[1024];

	sanitize_text(text, strlen(text), clean, sizeof(clean), !utf8);
	return layout_fit(clean, width, utf8, out, size);
}

void layout_span(int64_t ms, bool round_up, char *buf, size_t size)
{
	static const struct { int64_t ms; const char *unit; } units[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" },
	};
	size_t u = 0;

	if (ms < 0)
		ms = 0;
	while (u + 1 < sizeof(units) / sizeof(units[0]) && ms < units[u].ms)
		u++;   /* the largest unit of which there is one whole */
	int64_t n = round_up ? (ms + units[u].ms - 1) / units[u].ms : ms / units[u].ms;
	if (u > 0 && n * units[u].ms == units[u - 1].ms) {   /* rounded up to a whole larger unit: "1h" */
		u--;
		n = 1;
	}
	snprintf(buf, size, "%lld%s", (long long)n, units[u].unit);
}

void layout_pending(const char *glyph, const char *word, int count, int needed, int width, char *buf,
		    size_t size)
{
	snprintf(buf, size, "%s %s %d/%d", glyph, word, count, needed);
	if (layout_width(buf) > width)
		snprintf(buf, size, "%s %d/%d", glyph, count, needed);
}

int layout_name_mark(const char *name, const char *mark, int width, bool utf8, char *out, size_t size)
{
	char cut[512], tail[128];
	int mw = mark && mark[0] ? layout_width(mark) : 0;
	int nw = layout_width(name);

	if (mw == 0 || width < 2) {
		layout_cell(name, width, utf8, out, size);
		return width;
	}
	int room = width - mw - 1;   /* the name's share, a space before the marker */
	if (room < (width + 1) / 2)
		room = (width + 1) / 2;
	if (room > nw)
		room = nw;
	layout_cell(name, room, utf8, cut, sizeof(cut));
	int tw = width - room - 1 < mw ? width - room - 1 : mw;
	layout_fit(mark, tw, utf8, tail, sizeof(tail));
	int pad = width - room - 1 - layout_width(tail);
	snprintf(out, size, "%s%*s%s", cut, pad + 1, "", tail);
	return width - layout_width(tail);
}

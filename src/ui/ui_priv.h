/* Shared by the files that draw the dashboard's parts; not a public interface.
 * Calls go one way: ui.c (the loop) -> ui_header/list/status/detail/help.c (one screen part
 * each) -> ui_paint.c (text, glyphs, colours), ui_keys.c, and the pure view/layout/spark. */
#ifndef HEALTHTOP_UI_PRIV_H
#define HEALTHTOP_UI_PRIV_H

#include <curses.h>
#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include "healthtop/core/config.h"
#include "healthtop/core/target_state.h"
#include "healthtop/monitor/monitor.h"
#include "healthtop/monitor/monitor_quorum.h"
#include "healthtop/ui/theme.h"
#include "healthtop/ui/ui_layout.h"

#define UI_LOCATIONS_MAX 8   /* lines the detail view gives a target's locations */
#include "healthtop/ui/ui_view.h"

struct export_job;

struct ui {
	struct ev_loop *loop;
	struct monitor *m;
	struct view view;
	struct view_item *items;
	size_t nitems;
	attr_t role_attr[ROLE_COUNT];
	bool utf8;
	const char *detail_poller;   /* who checked the target in the detail view (NULL: unknown) */
	struct monitor_location detail_locs[UI_LOCATIONS_MAX];   /* its locations, when several */
	size_t detail_nlocs;
	char detail_quorum[192];     /* why they combine to the class shown ("" healthy) */
	bool dirty;          /* redraw everything on the next loop turn */
	bool rebuild;        /* rows need re-filtering/sorting first */
	bool refresh_all;    /* every item from the monitor's state first (else results refresh theirs) */
	int rows, cols;
	int list_y;          /* first screen row of the list */
	struct layout layout;
	char message[256];
	int64_t now_ms;
	ev_tstamp drawn_at;  /* the last frame (loop time) */
	ev_io input;
	ev_signal winch, sigterm, sigint, sighup;
	ev_prepare prepare;
	ev_timer tick;
	ev_timer settle;     /* results repaint at most once per RESULT_REDRAW_S */
	struct export_job *export;   /* an 'e' in progress, or NULL */
};

/* ui_paint.c: text at (y, x), sanitized for the terminal and cut or padded to exactly width
 * columns; class glyphs, words and colours; the theme as curses attributes. */
void ui_put(struct ui *ui, int y, int x, int width, const char *text, attr_t attr);
attr_t ui_class_attr(const struct ui *ui, int cls);
const char *ui_glyph(const struct ui *ui, int cls);
const char *ui_class_word(int cls);
void ui_apply_theme(struct ui *ui, const struct theme *t, bool color);

/* One screen part each. */
void ui_draw_header(struct ui *ui);
void ui_draw_statusline(struct ui *ui);
void ui_draw_list(struct ui *ui);
void ui_draw_detail(struct ui *ui);
void ui_draw_help(struct ui *ui);

/* The detail of one target from what is passed in (no monitor): the tests draw it too. */
/* The status line while the store refuses writes: "store unreachable since 12:03, 4 213
 * results waiting: <why>" (local time; why may be NULL). */
void ui_storage_text(int64_t since_ms, size_t waiting, const char *why, char *out, size_t size);
void ui_detail_draw(struct ui *ui, const struct ht_target *tg, const struct target_state *s, bool busy);

#endif

#include "autoconfig.h"
#include <errno.h>
#include <langinfo.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "healthtop/core/clock.h"
#include "healthtop/core/health_class.h"
#include "healthtop/export/export_format.h"
#include "healthtop/core/sanitize.h"
#include "healthtop/ui/ui.h"
#include "ui/ui_priv.h"

static const char *const glyphs_utf8[] = { "\xE2\x97\x8F", "\xE2\x96\xB2", "\xE2\x9C\x96", "\xE2\x97\x8B" };
static const char *const glyphs_ascii[] = { "+", "!", "X", "?" };
static const char *const class_words[] = { "healthy", "degraded", "down", "pending" };

/* Results arrive all the time on a large fleet; the screen need not follow each one. */
#define RESULT_REDRAW_S 1.0

static int cls_slot(int cls)
{
	return (cls < 0 || cls >= HT_CLASS_COUNT) ? 3 : cls;
}

const char *ui_glyph(const struct ui *ui, int cls)
{
	return (ui->utf8 ? glyphs_utf8 : glyphs_ascii)[cls_slot(cls)];
}

const char *ui_class_word(int cls)
{
	return class_words[cls_slot(cls)];
}

attr_t ui_class_attr(const struct ui *ui, int cls)
{
	static const enum theme_role roles[] = { ROLE_HEALTHY, ROLE_DEGRADED, ROLE_DOWN, ROLE_PENDING };
	return ui->role_attr[roles[cls_slot(cls)]];
}

void ui_put(struct ui *ui, int y, int x, int width, const char *text, attr_t attr)
{
	char clean[1024], fit[2048];

	if (width <= 0 || y < 0 || y >= ui->rows || x >= ui->cols)
		return;
	if (x + width > ui->cols)
		width = ui->cols - x;
	sanitize_text(text, strlen(text), clean, sizeof(clean), !ui->utf8);
	layout_fit(clean, width, ui->utf8, fit, sizeof(fit));
	attrset(attr);
	mvaddstr(y, x, fit);
	attrset(A_NORMAL);
}

static attr_t style_attr(const struct theme_style *st, short pair, bool color)
{
	attr_t a = A_NORMAL;

	if (st->attrs & THEME_BOLD)
		a |= A_BOLD;
	if (st->attrs & THEME_DIM)
		a |= A_DIM;
	if (st->attrs & THEME_UNDERLINE)
		a |= A_UNDERLINE;
	if (st->attrs & THEME_REVERSE)
		a |= A_REVERSE;
	return color ? a | COLOR_PAIR(pair) : a;
}

static short fit_colour(short c)
{
	if (c < 0)
		return -1;
	return c < COLORS ? c : (short)(c % 8);   /* a 256-colour theme on an 8-colour terminal */
}

static void apply_theme(struct ui *ui, const struct theme *t, bool color)
{
	for (int r = 0; r < ROLE_COUNT; r++) {
		if (color)
			init_pair((short)(r + 1), fit_colour(t->roles[r].fg), fit_colour(t->roles[r].bg));
		ui->role_attr[r] = style_attr(&t->roles[r], (short)(r + 1), color);
	}
}

/* The items the view sorts and filters, refreshed from the monitor's state. */
static void refresh_items(struct ui *ui)
{
	for (size_t i = 0; i < ui->nitems; i++) {
		const struct target_state *s = monitor_state(ui->m, i);
		ui->items[i].cls = s->checked ? (int)s->last.cls : -1;
		const struct state_sample *newest = state_sample_at(s, 0);
		ui->items[i].latency_ms = newest ? newest->ms : -1;   /* -1: nothing answered */
	}
}

static void relayout(struct ui *ui)
{
	getmaxyx(stdscr, ui->rows, ui->cols);
	ui->list_y = 2;
	layout_columns(ui->cols, &ui->layout);
	view_set_page(&ui->view, ui->rows - ui->list_y - 1);
}

static void draw_all(struct ui *ui)
{
	ui->now_ms = clock_wall_ms();
	refresh_items(ui);
	if (ui->rebuild) {
		view_rebuild(&ui->view, ui->items, ui->nitems);
		ui->rebuild = false;
	}
	erase();
	ui_draw_header(ui);
	if (ui->view.mode == VIEW_DETAIL)
		ui_draw_detail(ui);
	else
		ui_draw_list(ui);
	if (ui->view.mode == VIEW_HELP)
		ui_draw_help(ui);
	ui_draw_statusline(ui);
	wnoutrefresh(stdscr);
	doupdate();
	ui->dirty = false;
}

/* One redraw per loop turn, after every event of that turn is handled (tmux's model). */
static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct ui *ui = w->data;

	if (ui->dirty)
		draw_all(ui);
}

static void on_tick(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct ui *ui = t->data;

	if (ui->dirty || ui->view.mode != VIEW_LIST)
		return;   /* a full redraw is coming, or the list is not on screen */
	ui->now_ms = clock_wall_ms();
	ui_draw_ago(ui);
	ui_draw_header(ui);   /* its clock shows minutes: curses sends nothing when unchanged */
	wnoutrefresh(stdscr);
	doupdate();
}

static void say(struct ui *ui, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct ui *ui, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ui->message, sizeof(ui->message), fmt, ap);
	va_end(ap);
	ui->dirty = true;
}

/* An export of the current view, written a slice per loop turn from a read-only connection of
 * its own: the checks and the screen never wait for it. */
struct ui_export {
	struct ui *ui;
	struct store *reader;
	struct store_cursor *cursor;
	FILE *f;
	const char **names;
	char path[128];
	size_t rows, targets;
	ev_idle idle;
};

#define EXPORT_SLICE_ROWS 2000

static int export_one(void *user, const struct store_result *row)
{
	struct ui_export *x = user;

	if (export_row(x->f, EXPORT_CSV, row) < 0)
		return -1;
	x->rows++;
	return 0;
}

static void export_finish(struct ui_export *x, bool complete)
{
	struct ui *ui = x->ui;

	ev_idle_stop(ui->loop, &x->idle);
	store_export_end(x->cursor);
	store_close(x->reader);
	if (x->f && fclose(x->f) != 0 && complete) {
		say(ui, "export to %s failed: %s", x->path, strerror(errno));
		complete = false;
	}
	if (!complete)
		unlink(x->path);   /* no half file left looking like a whole one */
	free(x->names);
	free(x);
	ui->export = NULL;
}

static void on_export_slice(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct ui_export *x = w->data;
	struct ht_err err = { "" };
	int rc = store_export_step(x->cursor, EXPORT_SLICE_ROWS, export_one, x, &err);

	if (rc == 1) {
		say(x->ui, "exporting to %s: %zu results so far", x->path, x->rows);
		return;
	}
	if (rc == 0)
		say(x->ui, "exported %zu results (%s, %zu targets) to %s", x->rows,
		    view_windows[x->ui->view.window].label, x->targets, x->path);
	else
		say(x->ui, "export to %s failed: %s", x->path, rc > 0 ? strerror(errno) : err.msg);
	export_finish(x, rc == 0);
}

static int export_open(struct ui *ui, struct ui_export *x, struct ht_err *err)
{
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];

	for (size_t i = 0; i < ui->nitems; i++)
		if (view_matches(&ui->view, &ui->items[i]))
			x->names[x->targets++] = ui->items[i].name;
	monitor_flush(ui->m);   /* the newest results too */
	if (store_open_readonly(monitor_db_path(ui->m), &x->reader, err) < 0)
		return -1;
	struct store_query q = { clock_wall_ms() - view_windows[ui->view.window].seconds * 1000, INT64_MAX, x->names, NULL };
	if (!(x->cursor = store_export_begin(x->reader, &q, err)))
		return -1;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(x->path, sizeof(x->path), "healthtop-%s.csv", stamp);
	if (!(x->f = fopen(x->path, "wx"))) {
		ht_err_set(err, "%s: %s", x->path, strerror(errno));
		x->path[0] = '\0';
		return -1;
	}
	export_header(x->f, EXPORT_CSV);
	return 0;
}

/* The current view: the targets the filter shows, over the chosen window. */
static void export_view(struct ui *ui)
{
	struct ht_err err = { "" };
	struct ui_export *x;

	if (ui->export) {
		say(ui, "an export is already running (%s)", ui->export->path);
		return;
	}
	x = calloc(1, sizeof(*x));
	if (!x || !(x->names = calloc(ui->nitems + 1, sizeof(*x->names)))) {
		say(ui, "export failed: out of memory");
		free(x);
		return;
	}
	x->ui = ui;
	ui->export = x;
	ev_idle_init(&x->idle, on_export_slice);
	x->idle.data = x;
	if (export_open(ui, x, &err) < 0) {
		say(ui, "export failed: %s", err.msg);
		export_finish(x, x->path[0] == '\0');
		return;
	}
	ev_idle_start(ui->loop, &x->idle);
	say(ui, "exporting to %s", x->path);
}

static void act(struct ui *ui, enum view_action a)
{
	struct ht_err err = { "" };
	size_t t;

	switch (a) {
	case ACT_NONE:
		return;
	case ACT_QUIT:
		ev_break(ui->loop, EVBREAK_ALL);
		return;
	case ACT_REBUILD:
		ui->rebuild = true;
		break;
	case ACT_FORCE:
		if (view_selected(&ui->view, &t))
			say(ui, monitor_force(ui->m, t) == 1 ? "%s: a check is already running" : "checking %s now",
			    ui->items[t].name);
		break;
	case ACT_FORCE_ALL:
		monitor_force_all(ui->m);
		say(ui, "checking all %zu targets now", ui->nitems);
		break;
	case ACT_EXPORT:
		export_view(ui);
		break;
	case ACT_WINDOW:
		if (monitor_set_window(ui->m, view_windows[ui->view.window].seconds, &err) < 0)
			say(ui, "window %s: %s", view_windows[ui->view.window].label, err.msg);
		break;
	case ACT_REDRAW:
	default:
		break;
	}
	ui->dirty = true;
}

/* From SIGWINCH: resizeterm() queues a KEY_RESIZE, whose handler (on_resized) only re-lays out. */
static void resize(struct ui *ui)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	relayout(ui);
	clearok(curscr, TRUE);
	ui->dirty = true;
}

static void on_resized(struct ui *ui)
{
	relayout(ui);
	clearok(curscr, TRUE);   /* repaint everything: the terminal may hold garbage after a resize */
	ui->dirty = true;
}

static void on_mouse(struct ui *ui)
{
	MEVENT ev;

	if (getmouse(&ev) != OK || ui->view.mode != VIEW_LIST)
		return;
	if (ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED)) {
		if (view_click(&ui->view, ev.y - ui->list_y)) {
			if (ev.bstate & BUTTON1_DOUBLE_CLICKED)
				ui->view.mode = VIEW_DETAIL;
			ui->dirty = true;
		}
	}
}

static void on_input(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ui *ui = w->data;
	int ch;

	while ((ch = getch()) != ERR) {
		if (ch == KEY_RESIZE)
			on_resized(ui);
		else if (ch == KEY_MOUSE)
			on_mouse(ui);
		else {
			if (ui->message[0] && ui->view.mode != VIEW_FILTER) {
				ui->message[0] = '\0';
				ui->dirty = true;
			}
			act(ui, view_key(&ui->view, ch));
		}
	}
}

static void on_winch(struct ev_loop *loop, ev_signal *w, int revents)
{
	resize(w->data);
}

static void on_quit_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

static void on_settled(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct ui *ui = t->data;

	ui->dirty = true;
}

static void on_result(void *user, size_t idx, bool changed, enum ht_class from)
{
	struct ui *ui = user;

	/* Only a new class (or a new latency, when sorted by it) can move a row. */
	if (changed || !monitor_state(ui->m, idx)->checked || ui->view.sort == SORT_LATENCY ||
	    ui->items[idx].cls < 0)
		ui->rebuild = true;
	if (!ev_is_active(&ui->settle))
		ev_timer_start(ui->loop, &ui->settle);
}

static void on_storage(void *user, const char *msg)
{
	struct ui *ui = user;

	if (msg)
		say(ui, "storage error (results kept, retrying): %s", msg);
	else
		say(ui, "storage recovered");
}

static int start_curses(struct ui *ui, const struct theme *theme, bool color, struct ht_err *err)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		ht_err_set(err, "the dashboard needs a terminal; use 'healthtop check' or 'healthtop daemon'");
		return -1;
	}
	if (!newterm(NULL, stdout, stdin)) {
		const char *term = getenv("TERM");
		ht_err_set(err, "cannot use the terminal (TERM=%s)", term ? term : "unset");
		return -1;
	}
	ui->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED, NULL);
	mouseinterval(0);
	color = color && has_colors();
	if (color) {
		start_color();
		use_default_colors();
	}
	apply_theme(ui, theme, color);
	return 0;
}

static void watch(struct ui *ui)
{
	ev_io_init(&ui->input, on_input, STDIN_FILENO, EV_READ);
	ev_signal_init(&ui->winch, on_winch, SIGWINCH);
	ev_signal_init(&ui->sigterm, on_quit_signal, SIGTERM);
	ev_signal_init(&ui->sigint, on_quit_signal, SIGINT);
	ev_signal_init(&ui->sighup, on_quit_signal, SIGHUP);   /* the terminal went away */
	ev_prepare_init(&ui->prepare, on_prepare);
	ev_timer_init(&ui->tick, on_tick, 1.0, 1.0);
	ev_timer_init(&ui->settle, on_settled, RESULT_REDRAW_S, 0.0);
	ui->input.data = ui->winch.data = ui->prepare.data = ui->tick.data = ui->settle.data = ui;
	ev_io_start(ui->loop, &ui->input);
	ev_signal_start(ui->loop, &ui->winch);
	ev_signal_start(ui->loop, &ui->sigterm);
	ev_signal_start(ui->loop, &ui->sigint);
	ev_signal_start(ui->loop, &ui->sighup);
	ev_prepare_start(ui->loop, &ui->prepare);
	ev_timer_start(ui->loop, &ui->tick);
}

static void unwatch(struct ui *ui)
{
	ev_io_stop(ui->loop, &ui->input);
	ev_signal_stop(ui->loop, &ui->winch);
	ev_signal_stop(ui->loop, &ui->sigterm);
	ev_signal_stop(ui->loop, &ui->sigint);
	ev_signal_stop(ui->loop, &ui->sighup);
	ev_prepare_stop(ui->loop, &ui->prepare);
	ev_timer_stop(ui->loop, &ui->tick);
	ev_timer_stop(ui->loop, &ui->settle);
}

int ui_run(struct ev_loop *loop, struct monitor *m, const struct theme *theme, bool color,
	   struct ht_err *err)
{
	struct ui ui = { .loop = loop, .m = m };
	struct monitor_hooks hooks = { on_result, on_storage, &ui };

	ui.nitems = monitor_count(m);
	ui.items = calloc(ui.nitems ? ui.nitems : 1, sizeof(*ui.items));
	if (!ui.items) {
		ht_err_set(err, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < ui.nitems; i++) {
		ui.items[i].name = monitor_target(m, i)->name;
		ui.items[i].project = monitor_target(m, i)->project;
	}
	if (start_curses(&ui, theme, color, err) < 0) {
		free(ui.items);
		return -1;
	}
	view_init(&ui.view);
	monitor_set_hooks(m, &hooks);
	relayout(&ui);
	ui.rebuild = ui.dirty = true;
	watch(&ui);
	monitor_start(m);
	ev_run(loop, 0);
	unwatch(&ui);
	if (ui.export)
		export_finish(ui.export, false);
	monitor_set_hooks(m, NULL);
	endwin();
	view_fini(&ui.view);
	free(ui.items);
	return 0;
}

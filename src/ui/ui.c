#include "autoconfig.h"
#include <langinfo.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "healthtop/core/clock.h"
#include "healthtop/core/health_class.h"
#include "healthtop/export/export_job.h"
#include "healthtop/ui/ui.h"
#include "healthtop/ui/ui_cells.h"
#include "ui/ui_priv.h"
#include <term.h>   /* setupterm, tigetstr: after curses.h */

/* Results arrive all the time on a large fleet; the screen need not follow each one. */
#define RESULT_REDRAW_S 1.0
#define TICK_S 1.0

/* Item i (what the view sorts and filters) from the monitor's state of target i. */
static void refresh_item(struct ui *ui, size_t i)
{
	const struct target_state *s = monitor_state(ui->m, i);
	struct state_sample newest;

	ui->items[i].cls = cells_shown_class(s);
	ui->items[i].latency_ms = state_sample_get(s, 0, &newest) ? newest.ms : -1;   /* -1: nothing answered */
}

/* Every item: at start and when history has been read back. Otherwise each result refreshes
 * its own (100 000 states touched on every frame were 20-30 ms of cache misses). */
static void refresh_items(struct ui *ui)
{
	for (size_t i = 0; i < ui->nitems; i++)
		refresh_item(ui, i);
	ui->refresh_all = false;
}

static void relayout(struct ui *ui)
{
	getmaxyx(stdscr, ui->rows, ui->cols);
	ui->list_y = 2;
	layout_columns(ui->cols, &ui->layout);
	view_set_page(&ui->view, ui->rows - ui->list_y - 1);
}

/* A sweep: every target checked once, the slowest interval plus its timeout. A group's new
 * worst class must last longer than that before the group moves. */
static int64_t sweep_ms(const struct monitor *m)
{
	int64_t longest = 0;

	for (size_t i = 0; i < monitor_count(m); i++) {
		const struct ht_target *t = monitor_target(m, i);
		int64_t one = (int64_t)t->interval_s * 1000 + t->probe.timeout_ms;
		longest = one > longest ? one : longest;
	}
	return longest;
}

static void draw_all(struct ui *ui)
{
	ui->now_ms = clock_wall_ms();
	if (ui->refresh_all)
		refresh_items(ui);
	view_set_time(&ui->view, ui->now_ms, ui->view.hold_ms);
	if (ui->rebuild || view_regroup_due(&ui->view)) {
		view_rebuild(&ui->view, ui->items, ui->nitems);
		ui->rebuild = false;
	}
	erase();
	ui_draw_header(ui);
	if (ui->view.mode == VIEW_DETAIL || (ui->view.mode == VIEW_PROMPT && ui->view.before_prompt == VIEW_DETAIL))
		ui_draw_detail(ui);
	else
		ui_draw_list(ui);
	if (ui->view.mode == VIEW_HELP)
		ui_draw_help(ui);
	ui_draw_statusline(ui);
	wnoutrefresh(stdscr);
	doupdate();
	ui->dirty = false;
	ui->drawn_at = ev_now(ui->loop);
}

/* One redraw per loop turn, after every event of that turn is handled (tmux's model). */
static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct ui *ui = w->data;

	if (ui->dirty)
		draw_all(ui);
}

/* The clock and the "checked ... ago" cells move: mark dirty, the redraw comes at the end of
 * the loop turn (curses sends only what changed). Not when a frame was drawn less than a tick
 * ago: results' redraws come once a second too, on a timer of their own, and two frames a
 * second doubled the idle dashboard's drawing (issue 12). */
static void on_tick(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct ui *ui = t->data;

	if (ev_now(loop) - ui->drawn_at >= TICK_S * 0.9)
		ui->dirty = true;
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

static void on_export(void *user, const char *msg, bool finished)
{
	struct ui *ui = user;

	say(ui, "%s", msg);
	if (finished)
		ui->export = NULL;
}

/* The current view: the targets the filter shows, over the chosen window, written by a job of
 * its own (export_job.c) a slice per loop turn. */
static void export_view(struct ui *ui)
{
	struct ht_err err = { "" };
	const char **names;
	size_t n = 0;

	if (ui->export) {
		say(ui, "an export is already running (%s)", export_job_path(ui->export));
		return;
	}
	if (!(names = calloc(ui->nitems + 1, sizeof(*names)))) {
		say(ui, "export failed: out of memory");
		return;
	}
	for (size_t i = 0; i < ui->nitems; i++)
		if (view_matches(&ui->view, &ui->items[i]))
			names[n++] = ui->items[i].name;
	bool stale = monitor_flush(ui->m) < 0;   /* the newest results too, if storage lets us */
	struct export_job_spec spec = {
		.db_path = monitor_db_path(ui->m),
		.query = { clock_wall_ms() - view_windows[ui->view.window].seconds * 1000, INT64_MAX, names, NULL },
		.ntargets = n,
		.label = view_windows[ui->view.window].label,
	};
	if (export_job_start(ui->loop, &spec, on_export, ui, &ui->export, &err) < 0)
		say(ui, "export failed: %s", err.msg);
	else
		say(ui, "exporting to %s%s", export_job_path(ui->export),
		    stale ? " (without the newest results: storage is failing)" : "");
	free(names);
}

/* The mute prompt was answered: mute (or unmute) the target or project it was opened on, and
 * say how it went. */
static void mute(struct ui *ui)
{
	const struct view *v = &ui->view;
	const struct view_item *it = &ui->items[v->prompt_target];
	struct ht_err err = { "" };
	char scope[320], what[320], span[32];
	int64_t ms;

	if (view_parse_duration(v->prompt, &ms) < 0) {
		say(ui, "not a duration: \"%s\" (30m, 2h, 1d; 0 or off unmutes)", v->prompt);
		return;
	}
	snprintf(scope, sizeof(scope), "%s%s", v->prompt_project ? "project:" : "", v->prompt_project ? it->project : it->name);
	snprintf(what, sizeof(what), "%s%s", v->prompt_project ? "project " : "", v->prompt_project ? it->project : it->name);
	int n = monitor_mute(ui->m, scope, ms ? clock_wall_ms() + ms : 0, &err);
	layout_span(ms, true, span, sizeof(span));
	if (n < 0)
		say(ui, "mute failed: %s", err.msg);
	else if (ms == 0)
		say(ui, "unmuted %s (%d target%s)", what, n, n == 1 ? "" : "s");
	else
		say(ui, "muted %s for %s (%d target%s): still checked, notifying nobody", what, span, n, n == 1 ? "" : "s");
	ui->rebuild = true;
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
	case ACT_MUTE:
		mute(ui);
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
			if (ui->message[0] && ui->view.mode != VIEW_FILTER && ui->view.mode != VIEW_PROMPT) {
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

	/* Only a new shown class (or a new latency, when sorted by it) can move a row. */
	if (changed || cells_shown_class(monitor_state(ui->m, idx)) != ui->items[idx].cls ||
	    ui->view.sort == SORT_LATENCY || ui->items[idx].cls < 0)
		ui->rebuild = true;
	if (idx < ui->nitems)
		refresh_item(ui, idx);
	if (!ev_is_active(&ui->settle))
		ev_timer_start(ui->loop, &ui->settle);
}

/* A large fleet's history arrives in slices: the screen follows once a second, like results,
 * and at once when the last slice is in. */
static void on_history(void *user, bool done)
{
	struct ui *ui = user;

	ui->rebuild = ui->refresh_all = true;
	if (done)
		ui->dirty = true;
	else if (!ev_is_active(&ui->settle))
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

/* Notification trouble (retries, give-ups) and mutes picked up from the database: on the
 * status line, never on the terminal under curses. */
static void on_alert_log(void *user, const char *line)
{
	say(user, "%s", line);
}

/* Looked up before curses takes the screen, so nothing is drawn on a terminal that cannot show
 * the dashboard: TERM=dumb has an entry but cannot move the cursor, and gets the same refusal as
 * an unknown TERM. */
static bool usable_terminal(struct ht_err *err)
{
	const char *term = getenv("TERM");
	int status = 0;
	bool ok;

	if (setupterm(NULL, STDOUT_FILENO, &status) != OK)
		return false;
	const char *cup = tigetstr("cup");
	ok = cup && cup != (char *)-1;
	del_curterm(cur_term);
	if (!ok)
		ht_err_set(err, "cannot use the terminal (TERM=%s): it cannot move the cursor", term ? term : "unset");
	return ok;
}

int ui_check_terminal(struct ht_err *err)
{
	const char *term = getenv("TERM");

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		ht_err_set(err, "the dashboard needs a terminal; use 'healthtop check' or 'healthtop daemon'");
		return -1;
	}
	if (!usable_terminal(err)) {
		if (!err->msg[0])
			ht_err_set(err, "cannot use the terminal (TERM=%s)", term ? term : "unset");
		return -1;
	}
	return 0;
}

static int start_curses(struct ui *ui, const struct theme *theme, bool color, struct ht_err *err)
{
	if (ui_check_terminal(err) < 0)
		return -1;
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
	leaveok(stdscr, TRUE);   /* the cursor is hidden: no move back to it after every frame */
	mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED, NULL);
	mouseinterval(0);
	color = color && has_colors();
	if (color) {
		start_color();
		use_default_colors();
	}
	ui_apply_theme(ui, theme, color);
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
	ev_timer_init(&ui->tick, on_tick, TICK_S, TICK_S);
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
	view_set_time(&ui.view, clock_wall_ms(), sweep_ms(m));
	monitor_set_hooks(m, &hooks);
	monitor_set_alert_log(m, on_alert_log, &ui);
	monitor_set_history_hook(m, on_history, &ui);
	relayout(&ui);
	ui.rebuild = ui.dirty = ui.refresh_all = true;
	watch(&ui);
	monitor_start(m);
	ev_run(loop, 0);
	unwatch(&ui);
	export_job_cancel(ui.export);   /* quitting: no half file is left behind */
	monitor_set_hooks(m, NULL);
	monitor_set_alert_log(m, NULL, NULL);
	monitor_set_history_hook(m, NULL, NULL);
	endwin();
	view_fini(&ui.view);
	free(ui.items);
	return 0;
}

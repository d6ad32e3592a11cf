/* The dashboard's pure parts: layout at several widths, text fitting, sparklines, keys. */
#include "autoconfig.h"
#include <curses.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>
#include <cmocka.h>
#include "healthtop/ui/ui_layout.h"
#include "healthtop/ui/ui_spark.h"
#include "healthtop/ui/ui_cells.h"
#include "healthtop/ui/ui_keys.h"
#include "healthtop/ui/ui_view.h"
#include "ui/ui_priv.h"

static int total_width(const struct layout *l)
{
	int end = 0;
	for (int c = 0; c < COL_COUNT; c++)
		if (l->shown[c] && l->x[c] + l->w[c] > end)
			end = l->x[c] + l->w[c];
	return end;
}

static void test_layout_keeps_essentials_at_40_columns(void **state)
{
	struct layout l;

	layout_columns(40, &l);
	assert_true(l.shown[COL_STATUS] && l.shown[COL_NAME] && l.shown[COL_LAST] && l.shown[COL_SPARK]);
	assert_false(l.shown[COL_P95]);
	assert_false(l.shown[COL_UPTIME]);
	assert_true(l.w[COL_SPARK] >= 8);
	assert_true(total_width(&l) <= 40);
}

static void test_layout_drops_p95_before_uptime_before_ago(void **state)
{
	struct layout l;
	int drop_p95 = 0, drop_up = 0, drop_ago = 0;

	for (int w = 120; w >= 40; w--) {
		layout_columns(w, &l);
		assert_true(total_width(&l) <= w);
		if (!l.shown[COL_P95] && !drop_p95)
			drop_p95 = w;
		if (!l.shown[COL_UPTIME] && !drop_up)
			drop_up = w;
		if (!l.shown[COL_AGO] && !drop_ago)
			drop_ago = w;
	}
	assert_true(drop_p95 > drop_up);
	assert_true(drop_up > drop_ago);
	layout_columns(80, &l);
	for (int c = 0; c < COL_COUNT; c++)
		assert_true(l.shown[c] == (c != COL_FOR && c != COL_REASON));
}

/* REASON and FOR come with spare width only: none at 80 columns (the name keeps its 24), both
 * at 120, and at 200 the reason has room to say something; the status cell grows to hold a
 * pending change, and REASON, the free text, is the rightmost column. */
static void test_layout_reason_and_for_only_with_spare_width(void **state)
{
	struct layout l;

	layout_columns(80, &l);
	assert_false(l.shown[COL_REASON]);
	assert_false(l.shown[COL_FOR]);
	assert_int_equal(l.w[COL_NAME], 24);
	assert_true(l.w[COL_STATUS] >= layout_width("\xE2\x96\xB2 degraded 2/3"));
	assert_true(total_width(&l) <= 80);
	layout_columns(120, &l);
	assert_true(l.shown[COL_REASON] && l.shown[COL_FOR] && l.shown[COL_P95]);
	assert_true(l.w[COL_FOR] >= layout_width("degraded 12m"));
	assert_true(l.w[COL_REASON] >= 16);
	assert_true(total_width(&l) <= 120);
	layout_columns(200, &l);
	assert_true(l.shown[COL_REASON] && l.shown[COL_FOR]);
	assert_true(l.w[COL_REASON] >= 60);
	assert_int_equal(l.w[COL_STATUS], 16);
	assert_int_equal(l.w[COL_NAME], 32);
	for (int c = 0; c < COL_REASON; c++)
		assert_true(l.x[c] < l.x[COL_REASON]);
	assert_true(total_width(&l) <= 200);
	for (int w = 40; w <= 400; w++) {   /* the reason never comes at the other columns' cost */
		layout_columns(w, &l);
		if (l.shown[COL_REASON] || l.shown[COL_FOR])
			assert_true(l.shown[COL_P95] && l.w[COL_NAME] >= 24);
		assert_true(total_width(&l) <= w);
	}
}

/* A reason is untrusted text: escapes never reach the terminal, and a cut lands on a character
 * boundary with "…" (or "~" without UTF-8). */
static void test_layout_cell_sanitizes_and_cuts_reason(void **state)
{
	char out[128];
	wchar_t w[64];

	layout_cell("\x1b[2Jbody: caf\xC3\xA9 \xC3\xA9tat=down", 12, true, out, sizeof(out));
	assert_null(strchr(out, '\x1b'));
	assert_int_equal(layout_width(out), 12);
	assert_string_equal(out + strlen(out) - 3, "\xE2\x80\xA6");
	layout_cell("caf\xC3\xA9-api down", 5, true, out, sizeof(out));
	assert_string_equal(out, "caf\xC3\xA9\xE2\x80\xA6");   /* é kept whole, then the mark */
	layout_cell("caf\xC3\xA9 timeout\n", 7, false, out, sizeof(out));
	assert_string_equal(out, "caf? t~");   /* ASCII only: ? for é, ~ for the cut */
	layout_cell("HTTP 503", 12, true, out, sizeof(out));
	assert_string_equal(out, "HTTP 503    ");
	for (int width = 1; width < 30; width++) {   /* every cut is valid UTF-8 */
		layout_cell("\xE6\x9D\xB1\xE4\xBA\xAC \xC3\xA9tat: \xE2\x9C\x96 timeout after 3000 ms", width, true, out,
			    sizeof(out));
		assert_int_not_equal(mbstowcs(w, out, 64), (size_t)-1);
		assert_int_equal(layout_width(out), width);
	}
}

static void test_layout_span_rounds_time_spent_down_and_time_left_up(void **state)
{
	char b[32];

	layout_span(45000, false, b, sizeof(b));
	assert_string_equal(b, "45s");
	layout_span(12 * 60000 + 59000, false, b, sizeof(b));
	assert_string_equal(b, "12m");
	layout_span(29 * 60000 + 59000, true, b, sizeof(b));
	assert_string_equal(b, "30m");   /* a 30 m mute just set */
	layout_span(3600000 - 1, true, b, sizeof(b));
	assert_string_equal(b, "1h");    /* not "60m" */
	layout_span(3 * 3600000 + 1, false, b, sizeof(b));
	assert_string_equal(b, "3h");
	layout_span(2 * 86400000LL, false, b, sizeof(b));
	assert_string_equal(b, "2d");
	layout_span(-5, false, b, sizeof(b));
	assert_string_equal(b, "0s");
}

static void test_layout_columns_never_overlap(void **state)
{
	struct layout l;

	for (int w = 40; w <= 300; w += 7) {
		layout_columns(w, &l);
		int end = -1;
		for (int c = 0; c < COL_COUNT; c++) {
			if (!l.shown[c])
				continue;
			assert_true(l.x[c] > end);
			end = l.x[c] + l.w[c];
		}
	}
}

static void test_layout_fit_cuts_by_display_width(void **state)
{
	char out[64];

	layout_fit("api-prod", 5, true, out, sizeof(out));
	assert_string_equal(out, "api-\xE2\x80\xA6");
	layout_fit("api", 5, false, out, sizeof(out));
	assert_string_equal(out, "api  ");
	/* two wide CJK characters take four columns */
	layout_fit("\xE6\x9D\xB1\xE4\xBA\xAC", 4, true, out, sizeof(out));
	assert_string_equal(out, "\xE6\x9D\xB1\xE4\xBA\xAC");
	layout_fit("\xE6\x9D\xB1\xE4\xBA\xAC", 3, true, out, sizeof(out));
	assert_int_equal(layout_width(out), 3);
}

static void test_layout_latency_and_ago(void **state)
{
	char b[32];

	layout_latency(3.4, b, sizeof(b));
	assert_string_equal(b, "3ms");
	layout_latency(1404, b, sizeof(b));
	assert_string_equal(b, "1.4s");
	layout_latency(0.3, b, sizeof(b));
	assert_string_equal(b, "<1ms");
	layout_latency(-1, b, sizeof(b));
	assert_string_equal(b, "-");
	layout_ago(1000, 13000, b, sizeof(b));
	assert_string_equal(b, "10s ago");
	layout_ago(1000, 4000, b, sizeof(b));
	assert_string_equal(b, "now");
	layout_ago(1000, 1000 + 5 * 60000, b, sizeof(b));
	assert_string_equal(b, "5m ago");
	layout_ago(0, 5000, b, sizeof(b));
	assert_string_equal(b, "never");
}

/* Every change of a CHECKED cell is bytes sent for each row on screen (issue 12: <= 20 KB a
 * minute at 1000 targets): within a check's first minute the text takes six values, not twelve. */
static void test_layout_ago_changes_six_times_a_minute(void **state)
{
	char prev[32] = "", b[32];
	int changes = 0;

	for (int64_t ms = 0; ms < 60000; ms += 100) {
		layout_ago(1000, 1000 + ms, b, sizeof(b));
		if (strcmp(b, prev) != 0)
			changes++;
		snprintf(prev, sizeof(prev), "%s", b);
	}
	assert_int_equal(changes, 6);   /* now, 10s ... 50s ago */
	layout_ago(1000, 1000 + 9999, b, sizeof(b));
	assert_string_equal(b, "now");
}

static void test_spark_scales_to_the_slowest_and_pads_left(void **state)
{
	const float ms[4] = { 10, 80, -1, 40 };
	const uint8_t cls[4] = { 0, 1, 2, 0 };
	struct spark_cell c[6];

	spark_render(ms, cls, 4, 6, c);
	assert_true(c[0].empty && c[1].empty);
	assert_int_equal(c[2].level, 0);     /* 10 of 80 */
	assert_int_equal(c[3].level, 7);     /* the slowest */
	assert_int_equal(c[4].level, 7);     /* nothing answered: a full bar */
	assert_int_equal(c[4].cls, 2);
	assert_int_equal(c[5].level, 3);     /* 40 of 80 */
}

static void test_spark_shows_only_the_newest_that_fit(void **state)
{
	const float ms[5] = { 1000, 1, 1, 1, 2 };
	const uint8_t cls[5] = { 0 };
	struct spark_cell c[3];

	spark_render(ms, cls, 5, 3, c);
	assert_false(c[0].empty);
	assert_int_equal(c[2].level, 7);     /* scaled to the shown max (2), not the dropped 1000 */
}

static const struct view_item fleet[] = {
	{ "web", "catalyst", 0, 5 }, { "api", "hivesync", 2, -1 }, { "search", "catalyst", 1, 1400 },
	{ "workers", "hivesync", 0, 3 }, { "flaky", "catalyst", -1, -1 },
};
#define NFLEET (sizeof(fleet) / sizeof(fleet[0]))

static void rows_as_text(const struct view *v, char *out, size_t size)
{
	out[0] = '\0';
	for (size_t r = 0; r < v->nrows; r++) {
		const char *s = v->rows[r].header ? fleet[v->rows[r].target].project : fleet[v->rows[r].target].name;
		strncat(out, v->rows[r].header ? "[" : "", size - strlen(out) - 1);
		strncat(out, s, size - strlen(out) - 1);
		strncat(out, v->rows[r].header ? "] " : " ", size - strlen(out) - 1);
	}
}

static void test_view_groups_by_project_worst_first(void **state)
{
	struct view v;
	char text[256];

	view_init(&v);
	view_set_page(&v, 20);
	view_rebuild(&v, fleet, NFLEET);
	rows_as_text(&v, text, sizeof(text));
	assert_string_equal(text, "[hivesync] api workers [catalyst] search web flaky ");
	size_t t;
	assert_true(view_selected(&v, &t));
	assert_string_equal(fleet[t].name, "api");
	view_fini(&v);
}

/* A large fleet for the counting tests: n targets in 64 projects, names out of order. */
static struct view_item *big_fleet(size_t n, char (**names)[16], char (**projects)[16])
{
	struct view_item *it = calloc(n, sizeof(*it));

	*names = calloc(n, sizeof(**names));
	*projects = calloc(n, sizeof(**projects));
	assert_non_null(it);
	assert_non_null(*names);
	assert_non_null(*projects);
	for (size_t i = 0; i < n; i++) {
		snprintf((*names)[i], 16, "svc-%05zu", (i * 7919) % n);
		snprintf((*projects)[i], 16, "team-%02zu", i % 64);
		it[i] = (struct view_item){ (*names)[i], (*projects)[i], (int)(i % 3), (double)(i % 97) };
	}
	return it;
}

/* Issue 12: 100 000 targets re-sorted on each change of class. One radix sort per rebuild, a few
 * passes over the rows whatever their number (the groups are tagged without a second sort),
 * names and projects ranked once for the config, not per rebuild. */
static void test_view_rebuild_sorts_once_in_n_log_n(void **state)
{
	enum { N = 4096 };
	char (*names)[16], (*projects)[16];
	struct view_item *it = big_fleet(N, &names, &projects);
	struct view v;

	view_init(&v);
	view_rebuild(&v, it, N);
	assert_int_equal(v.nrows, N + 64);   /* every target, and a title for each project */
	assert_true(v.sort_passes <= 6);   /* worst class, project, class, 12-bit name rank: 2 */
	for (int sort = 0; sort < 3; sort++) {
		uint64_t before = v.sort_passes;
		view_key(&v, 's');
		view_rebuild(&v, it, N);
		assert_true(v.sort_passes - before <= 8);   /* whole ms here: the doubles' low digits are skipped */
	}
	assert_int_equal(v.ranks.computed, 1);
	it[5].name = "renamed";   /* a reload points the names elsewhere: ranked again */
	view_rebuild(&v, it, N);
	assert_int_equal(v.ranks.computed, 2);
	view_fini(&v);
	free(it);
	free(names);
	free(projects);
}

/* The rebuild's filter (parsed once, projects looked at once each) shows exactly the targets
 * view_matches() accepts, one by one. */
static void test_view_rebuild_filters_as_view_matches(void **state)
{
	enum { N = 2048 };
	static const char *const filters[] = { "team-0", "svc-01 !down", "down team-1", "pending", "TEAM-63 healthy",
					       "!team" };
	char (*names)[16], (*projects)[16];
	struct view_item *it = big_fleet(N, &names, &projects);
	struct view v;

	it[7].cls = -1;
	view_init(&v);
	for (size_t k = 0; k < sizeof(filters) / sizeof(filters[0]); k++) {
		size_t want = 0, got = 0;
		snprintf(v.filter, sizeof(v.filter), "%s", filters[k]);
		v.hide_healthy = k == 5;
		for (size_t i = 0; i < N; i++)
			want += view_matches(&v, &it[i]);
		view_rebuild(&v, it, N);
		for (size_t r = 0; r < v.nrows; r++)
			if (!v.rows[r].header) {
				assert_true(view_matches(&v, &it[v.rows[r].target]));
				got++;
			}
		assert_int_equal(got, want);
	}
	view_fini(&v);
	free(it);
	free(names);
	free(projects);
}

static void test_view_sort_cycles_name_then_latency(void **state)
{
	struct view v;
	char text[256];

	view_init(&v);
	view_rebuild(&v, fleet, NFLEET);
	assert_int_equal(view_key(&v, 's'), ACT_REBUILD);
	view_rebuild(&v, fleet, NFLEET);
	rows_as_text(&v, text, sizeof(text));
	assert_string_equal(text, "[catalyst] flaky search web [hivesync] api workers ");
	assert_int_equal(view_key(&v, 's'), ACT_REBUILD);
	view_rebuild(&v, fleet, NFLEET);
	rows_as_text(&v, text, sizeof(text));
	assert_string_equal(text, "[catalyst] search web flaky [hivesync] workers api ");
	view_fini(&v);
}

static void test_view_keys_move_over_targets_only(void **state)
{
	struct view v;
	size_t t;

	view_init(&v);
	view_set_page(&v, 20);
	view_rebuild(&v, fleet, NFLEET);
	assert_int_equal(view_key(&v, 'j'), ACT_REDRAW);
	assert_int_equal(view_key(&v, KEY_DOWN), ACT_REDRAW);   /* skips the [catalyst] header */
	view_selected(&v, &t);
	assert_string_equal(fleet[t].name, "search");
	assert_int_equal(view_key(&v, 'G'), ACT_REDRAW);
	view_selected(&v, &t);
	assert_string_equal(fleet[t].name, "flaky");
	assert_int_equal(view_key(&v, 'j'), ACT_NONE);   /* already at the end */
	assert_int_equal(view_key(&v, 'g'), ACT_REDRAW);
	view_selected(&v, &t);
	assert_string_equal(fleet[t].name, "api");
	view_fini(&v);
}

static void test_view_selection_follows_the_target_once_chosen(void **state)
{
	struct view_item items[NFLEET];
	struct view v;
	size_t t;

	memcpy(items, fleet, sizeof(items));
	view_init(&v);
	view_rebuild(&v, items, NFLEET);
	view_key(&v, 'j');   /* workers, third row */
	items[0].cls = 2;    /* web goes down: catalyst now sorts first and workers moves down */
	view_rebuild(&v, items, NFLEET);
	view_selected(&v, &t);
	assert_string_equal(items[t].name, "workers");
	view_fini(&v);
}

static void test_view_filter_matches_name_or_project_and_esc_restores(void **state)
{
	struct view v;
	char text[256];

	view_init(&v);
	view_rebuild(&v, fleet, NFLEET);
	assert_int_equal(view_key(&v, '/'), ACT_REDRAW);
	assert_int_equal(v.mode, VIEW_FILTER);
	view_key(&v, 'C');
	view_key(&v, 'a');
	view_key(&v, 't');
	view_rebuild(&v, fleet, NFLEET);
	rows_as_text(&v, text, sizeof(text));
	assert_string_equal(text, "[catalyst] search web flaky ");
	assert_int_equal(view_key(&v, 27), ACT_REBUILD);
	assert_string_equal(v.filter, "");
	assert_int_equal(v.mode, VIEW_LIST);
	view_key(&v, '/');
	view_key(&v, 'w');
	view_key(&v, 'e');
	assert_int_equal(view_key(&v, '\r'), ACT_REDRAW);   /* Enter keeps it */
	view_rebuild(&v, fleet, NFLEET);
	rows_as_text(&v, text, sizeof(text));
	assert_string_equal(text, "[catalyst] web ");
	assert_int_equal(view_key(&v, 127), ACT_NONE);   /* backspace outside filter mode does nothing */
	view_fini(&v);
}

static void test_view_modes_and_actions(void **state)
{
	struct view v;

	view_init(&v);
	view_rebuild(&v, fleet, NFLEET);
	assert_int_equal(view_key(&v, 'r'), ACT_FORCE);
	assert_int_equal(view_key(&v, 'R'), ACT_FORCE_ALL);
	assert_int_equal(view_key(&v, 'e'), ACT_EXPORT);
	assert_int_equal(view_key(&v, 't'), ACT_WINDOW);
	assert_string_equal(view_windows[v.window].label, "24h");
	view_key(&v, 't');
	view_key(&v, 't');
	assert_string_equal(view_windows[v.window].label, "30d");
	view_key(&v, 't');
	assert_string_equal(view_windows[v.window].label, "1h");
	assert_int_equal(view_key(&v, '\r'), ACT_REDRAW);
	assert_int_equal(v.mode, VIEW_DETAIL);
	assert_int_equal(view_key(&v, 27), ACT_REDRAW);
	assert_int_equal(v.mode, VIEW_LIST);
	view_key(&v, '?');
	assert_int_equal(v.mode, VIEW_HELP);
	assert_int_equal(view_key(&v, 'x'), ACT_REDRAW);
	assert_int_equal(v.mode, VIEW_LIST);
	assert_int_equal(view_key(&v, 'q'), ACT_QUIT);
	view_fini(&v);
}

static void test_view_click_selects_target_rows_only(void **state)
{
	struct view v;
	size_t t;

	view_init(&v);
	view_set_page(&v, 20);
	view_rebuild(&v, fleet, NFLEET);
	assert_false(view_click(&v, 0));   /* the [hivesync] header */
	assert_true(view_click(&v, 4));
	view_selected(&v, &t);
	assert_string_equal(fleet[t].name, "search");
	assert_false(view_click(&v, 40));
	view_fini(&v);
}

static void test_view_scrolls_to_keep_selection_visible(void **state)
{
	struct view v;

	view_init(&v);
	view_set_page(&v, 3);
	view_rebuild(&v, fleet, NFLEET);
	view_key(&v, 'G');
	assert_true(v.sel >= v.top && v.sel < v.top + 3);
	view_key(&v, 'g');
	assert_int_equal(v.top, 0);   /* the first project's title shows above its first target */
	view_fini(&v);
}

/* Defect 1: the help says any key closes it, so q closes it too (it used to quit). */
static void test_help_closes_on_any_key_q_included(void **state)
{
	struct view v;

	view_init(&v);
	view_rebuild(&v, fleet, NFLEET);
	view_key(&v, '\r');
	assert_int_equal(view_key(&v, '?'), ACT_REDRAW);
	assert_int_equal(v.mode, VIEW_HELP);
	assert_int_equal(view_key(&v, 'q'), ACT_REDRAW);
	assert_int_equal(v.mode, VIEW_DETAIL);   /* back where help was opened */
	assert_int_equal(view_key(&v, 'q'), ACT_QUIT);   /* outside help q quits */
	view_fini(&v);
}

/* The one table: every key it lists for the list does something there, every command with a
 * help text is on the help screen, and the hint line's keys are in the table. */
static void test_key_table_drives_keys_help_and_hints(void **state)
{
	struct keys_state st = { "status", "1h", "", NULL };
	char line[160], hints[512], all_help[4096] = "";
	size_t nhelp = 0;

	for (size_t i = 0; i < ui_nkeys; i++) {
		const struct ui_key *k = &ui_keys[i];
		assert_int_equal(keys_lookup(k->modes, k->key), k->cmd);
		if (!(k->modes & KEYS_LIST) || k->cmd == CMD_MOUSE || k->cmd == CMD_CLEAR_FILTER || k->cmd == CMD_OPEN)
			continue;
		struct view v;
		view_init(&v);
		view_rebuild(&v, fleet, NFLEET);
		view_key(&v, 'j');   /* away from the first row: moving up does something */
		assert_int_not_equal(view_key(&v, k->key), ACT_NONE);
		view_fini(&v);
	}
	while (keys_help_line(KEYS_LIST, nhelp, line, sizeof(line))) {
		strncat(all_help, line, sizeof(all_help) - strlen(all_help) - 2);
		strcat(all_help, "\n");
		nhelp++;
	}
	assert_non_null(strstr(all_help, "q                quit"));
	assert_non_null(strstr(all_help, "j Down           move down"));
	assert_non_null(strstr(all_help, "e                export the view to CSV"));
	keys_hint_line(KEYS_LIST, &st, 200, hints, sizeof(hints));
	assert_string_equal(hints, "?:help  /:filter  s:sort=status  H:healthy=shown  t:window=1h  r:check  R:check all  "
				   "e:export  m:mute  q:quit");
	assert_non_null(strstr(all_help, "S                reverse the sort order"));
	assert_non_null(strstr(all_help, "H                hide or show healthy targets"));
	assert_non_null(strstr(all_help, "m                mute the selected target"));
	assert_non_null(strstr(all_help, "M                mute its whole project"));
	keys_hint_line(KEYS_DETAIL, &st, 200, hints, sizeof(hints));
	assert_non_null(strstr(hints, "Esc:back"));
	assert_null(strstr(hints, "/:filter"));   /* no filter from the detail view */
}

/* Defect 5: at 80 columns the hint line shortens its words and keeps q:quit. */
static void test_hint_line_keeps_quit_at_80_and_40_columns(void **state)
{
	struct keys_state st = { "latency", "30d", "ledger-prod", "hidden" };
	char hints[512];
	int widths[] = { 80, 60, 40 };

	for (size_t i = 0; i < 3; i++) {
		keys_hint_line(KEYS_LIST, &st, widths[i], hints, sizeof(hints));
		assert_true(layout_width(hints) <= widths[i]);
		assert_non_null(strstr(hints, "q:quit"));
		assert_string_equal(hints + strlen(hints) - 6, "q:quit");
	}
	keys_hint_line(KEYS_LIST, &st, 80, hints, sizeof(hints));
	assert_non_null(strstr(hints, "?:help"));
	assert_non_null(strstr(hints, "latency"));
}

/* Defect 5: at 80 columns the header keeps the clock at its right end, shortening words. */
static void test_header_keeps_clock_at_80_columns(void **state)
{
	struct layout_header_info h = {
		{ 1234, 56, 789, 12 }, { "\xE2\x97\x8F", "\xE2\x96\xB2", "\xE2\x9C\x96", "\xE2\x97\x8B" },
		"12:34:56", "24h", "23:59",
	};
	char out[1024];

	layout_header(&h, 80, true, out, sizeof(out));
	assert_int_equal(layout_width(out), 80);
	assert_string_equal(out + strlen(out) - 7, " 23:59 ");
	assert_non_null(strstr(out, "healthtop"));
	assert_non_null(strstr(out, "1234"));
	assert_non_null(strstr(out, "789"));
	assert_non_null(strstr(out, "12:34:56"));
	assert_null(strstr(out, "\xE2\x80\xA6"));   /* shortened, not cut */
	layout_header(&h, 160, true, out, sizeof(out));
	assert_non_null(strstr(out, "1234 healthy"));
	assert_non_null(strstr(out, "last result 12:34:56"));
	layout_header(&h, 30, true, out, sizeof(out));
	assert_int_equal(layout_width(out), 30);
	assert_string_equal(out + strlen(out) - 7, " 23:59 ");
}

static void group_order(const struct view *v, const struct view_item *items, char *out, size_t size)
{
	out[0] = '\0';
	for (size_t r = 0; r < v->nrows; r++)
		if (v->rows[r].header)
			strncat(out, items[v->rows[r].target].project, size - strlen(out) - 1);
}

/* Defect 4: one flapping target must not swap whole groups; a change that lasts longer than a
 * sweep does move its group, once. Counted, no clock: time is passed in. */
static void test_view_flapping_target_keeps_group_places(void **state)
{
	struct view_item items[] = {
		{ "a1", "alpha", 0, 5 }, { "a2", "alpha", 1, 5 }, { "b1", "beta", 0, 5 },
	};
	struct view v;
	char order[64], before[64];
	int changes = 0;
	int64_t now = 1000000;

	view_init(&v);
	view_set_time(&v, now, 3000);   /* a sweep: 2 s interval + 1 s timeout */
	view_rebuild(&v, items, 3);
	group_order(&v, items, before, sizeof(before));
	assert_string_equal(before, "alphabeta");
	for (int i = 0; i < 40; i++) {   /* b1 flips between healthy and down on every 2 s check */
		now += 2000;
		items[2].cls = i % 2 == 0 ? 2 : 0;
		view_set_time(&v, now, 3000);
		view_rebuild(&v, items, 3);
		group_order(&v, items, order, sizeof(order));
		changes += strcmp(order, before) != 0;
		strcpy(before, order);
	}
	assert_int_equal(changes, 0);
	for (int i = 0; i < 4; i++) {   /* then down for good: beta moves up once and stays */
		now += 2000;
		items[2].cls = 2;
		view_set_time(&v, now, 3000);
		view_rebuild(&v, items, 3);
		group_order(&v, items, order, sizeof(order));
		changes += strcmp(order, before) != 0;
		strcpy(before, order);
	}
	assert_int_equal(changes, 1);
	assert_string_equal(order, "betaalpha");
	view_fini(&v);
}

/* A held change becomes due without a new result: the loop is told to rebuild. */
static void test_view_held_change_becomes_due(void **state)
{
	struct view_item items[] = { { "a1", "alpha", 1, 5 }, { "b1", "beta", 0, 5 } };
	struct view v;
	char order[64];

	view_init(&v);
	view_set_time(&v, 1000, 3000);
	view_rebuild(&v, items, 2);
	items[1].cls = 2;
	view_set_time(&v, 2000, 3000);
	view_rebuild(&v, items, 2);
	group_order(&v, items, order, sizeof(order));
	assert_string_equal(order, "alphabeta");
	assert_false(view_regroup_due(&v));
	view_set_time(&v, 5001, 3000);
	assert_true(view_regroup_due(&v));
	view_rebuild(&v, items, 2);
	group_order(&v, items, order, sizeof(order));
	assert_string_equal(order, "betaalpha");
	view_fini(&v);
}

static void filtered_by(const char *filter, bool hide_healthy, char *text, size_t size)
{
	struct view v;

	view_init(&v);
	snprintf(v.filter, sizeof(v.filter), "%s", filter);
	v.hide_healthy = hide_healthy;
	view_rebuild(&v, fleet, NFLEET);
	rows_as_text(&v, text, size);
	view_fini(&v);
}

/* "/down", "/!healthy", "/degraded": class words filter by the class shown; other words by
 * name or project as before, and every word must match. */
static void test_view_status_filter_words(void **state)
{
	char text[256];

	filtered_by("down", false, text, sizeof(text));
	assert_string_equal(text, "[hivesync] api ");
	filtered_by("!healthy", false, text, sizeof(text));
	assert_string_equal(text, "[hivesync] api [catalyst] search flaky ");
	filtered_by("Degraded", false, text, sizeof(text));
	assert_string_equal(text, "[catalyst] search ");
	filtered_by("healthy", false, text, sizeof(text));
	assert_string_equal(text, "[catalyst] web [hivesync] workers ");
	filtered_by("pending", false, text, sizeof(text));
	assert_string_equal(text, "[catalyst] flaky ");
	filtered_by("!healthy cat", false, text, sizeof(text));
	assert_string_equal(text, "[catalyst] search flaky ");
	filtered_by("!cat", false, text, sizeof(text));
	assert_string_equal(text, "[hivesync] api workers ");
	filtered_by("dow", false, text, sizeof(text));   /* still typing: a part of a name */
	assert_string_equal(text, "");
	filtered_by("work", false, text, sizeof(text));
	assert_string_equal(text, "[hivesync] workers ");
}

/* H hides the healthy targets (and the hint line says so); H again shows them. */
static void test_view_key_hides_healthy(void **state)
{
	struct keys_state st = { "status", "1h", "", "hidden" };
	char text[256], hints[512];
	struct view v;

	view_init(&v);
	view_rebuild(&v, fleet, NFLEET);
	assert_int_equal(view_key(&v, 'H'), ACT_REBUILD);
	view_rebuild(&v, fleet, NFLEET);
	rows_as_text(&v, text, sizeof(text));
	assert_string_equal(text, "[hivesync] api [catalyst] search flaky ");
	assert_false(view_matches(&v, &fleet[0]));   /* export writes what is shown */
	keys_hint_line(KEYS_LIST, &st, 200, hints, sizeof(hints));
	assert_non_null(strstr(hints, "H:healthy=hidden"));
	view_key(&v, 'H');
	view_rebuild(&v, fleet, NFLEET);
	rows_as_text(&v, text, sizeof(text));
	assert_string_equal(text, "[hivesync] api workers [catalyst] search web flaky ");
	filtered_by("web", true, text, sizeof(text));   /* with a filter too */
	assert_string_equal(text, "");
	view_fini(&v);
}

/* S turns the whole order around, groups and targets, for every sort; the label says so. */
static void test_view_reverse_sort(void **state)
{
	struct view v;
	char text[256], label[32];

	view_init(&v);
	assert_int_equal(view_key(&v, 'S'), ACT_REBUILD);
	view_rebuild(&v, fleet, NFLEET);
	rows_as_text(&v, text, sizeof(text));
	assert_string_equal(text, "[catalyst] flaky web search [hivesync] workers api ");
	view_sort_label(&v, label, sizeof(label));
	assert_string_equal(label, "status rev");
	view_key(&v, 's');   /* name, still reversed */
	view_rebuild(&v, fleet, NFLEET);
	rows_as_text(&v, text, sizeof(text));
	assert_string_equal(text, "[hivesync] workers api [catalyst] web search flaky ");
	view_key(&v, 'S');
	view_rebuild(&v, fleet, NFLEET);
	rows_as_text(&v, text, sizeof(text));
	assert_string_equal(text, "[catalyst] flaky search web [hivesync] api workers ");
	view_sort_label(&v, label, sizeof(label));
	assert_string_equal(label, "name");
	view_fini(&v);
}

static void test_view_parse_duration(void **state)
{
	int64_t ms = -1;

	assert_int_equal(view_parse_duration("", &ms), 0);
	assert_int_equal(ms, 3600000);   /* empty: the default hour */
	assert_int_equal(view_parse_duration("30m", &ms), 0);
	assert_int_equal(ms, 1800000);
	assert_int_equal(view_parse_duration("2h", &ms), 0);
	assert_int_equal(ms, 7200000);
	assert_int_equal(view_parse_duration("1d", &ms), 0);
	assert_int_equal(ms, 86400000);
	assert_int_equal(view_parse_duration("90s", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(view_parse_duration("0", &ms), 0);
	assert_int_equal(ms, 0);
	ms = -1;
	assert_int_equal(view_parse_duration("OFF", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(view_parse_duration("30", &ms), -1);   /* no unit: minutes or hours? */
	assert_int_equal(view_parse_duration("30mm", &ms), -1);
	assert_int_equal(view_parse_duration("-5m", &ms), -1);
	assert_int_equal(view_parse_duration("h", &ms), -1);
	assert_int_equal(view_parse_duration("1234567d", &ms), -1);
}

/* m asks for how long to mute the selected target, M its project; Enter answers, Esc cancels,
 * and either goes back where the prompt was opened. */
static void test_view_mute_prompt(void **state)
{
	struct view v;
	size_t t;

	view_init(&v);
	view_rebuild(&v, fleet, NFLEET);
	view_key(&v, 'j');   /* workers */
	assert_int_equal(view_key(&v, 'm'), ACT_REDRAW);
	assert_int_equal(v.mode, VIEW_PROMPT);
	assert_string_equal(fleet[v.prompt_target].name, "workers");
	assert_false(v.prompt_project);
	assert_int_equal(view_key(&v, 'q'), ACT_REDRAW);   /* typed, not quitting */
	view_key(&v, 127);
	view_key(&v, '3');
	view_key(&v, '0');
	view_key(&v, 'm');
	assert_int_equal(view_key(&v, '\r'), ACT_MUTE);
	assert_string_equal(v.prompt, "30m");
	assert_int_equal(v.mode, VIEW_LIST);
	view_key(&v, '\r');   /* the detail view */
	assert_int_equal(view_key(&v, 'M'), ACT_REDRAW);
	assert_true(v.prompt_project);
	assert_string_equal(v.prompt, "");
	assert_int_equal(view_key(&v, 27), ACT_REDRAW);   /* Esc: nothing muted */
	assert_int_equal(v.mode, VIEW_DETAIL);
	view_key(&v, 27);
	snprintf(v.filter, sizeof(v.filter), "nothing-matches");
	view_rebuild(&v, fleet, NFLEET);
	assert_false(view_selected(&v, &t));
	assert_int_equal(view_key(&v, 'm'), ACT_NONE);   /* no target: no prompt */
	view_fini(&v);
}

/* A target's FOR cell: the class shown and how long, from shown_since_ms when the monitor sets
 * it, else from the last change of class; the displayed (anti-flap) class wins over the last
 * raw one. */
static void test_cells_for_and_shown_class(void **state)
{
	const int64_t t0 = 1700000000000;
	struct target_state s;
	char b[64];

	state_init(&s);
	cells_for(&s, t0, b, sizeof(b));
	assert_string_equal(b, "");
	assert_int_equal(cells_shown_class(&s), -1);
	state_add_sample(&s, t0, 5, HT_HEALTHY);
	state_add_sample(&s, t0 + 60000, -1, HT_DOWN);
	s.last.cls = HT_DOWN;
	s.checked = true;
	cells_for(&s, t0 + 60000 + 12 * 60000 + 30000, b, sizeof(b));
	assert_string_equal(b, "down 12m");
	s.shown_since_ms = t0 - 3 * 3600000;
	s.soft.shown = HT_HEALTHY;   /* anti-flap: the down result is not confirmed yet */
	assert_int_equal(cells_shown_class(&s), HT_HEALTHY);
	cells_for(&s, t0, b, sizeof(b));
	assert_string_equal(b, "healthy 3h");
	state_fini(&s);
	state_init(&s);   /* never changed: at least since the oldest result held */
	state_add_sample(&s, t0, 5, HT_HEALTHY);
	s.checked = true;
	cells_for(&s, t0 + 45000, b, sizeof(b));
	assert_string_equal(b, "healthy 45s");
	state_fini(&s);
}

/* The status cell of a change under way: "▲ degraded 2/3", shorter when narrow, ASCII without
 * UTF-8; nothing when the shown class is what the results say. */
static void test_pending_marker_text(void **state)
{
	struct ht_target tg = { .name = "api", .project = "shop" };
	struct target_state s;
	char b[64];
	int to = -1;

	layout_pending("\xE2\x96\xB2", "degraded", 2, 3, 16, b, sizeof(b));
	assert_string_equal(b, "\xE2\x96\xB2 degraded 2/3");
	layout_pending("\xE2\x96\xB2", "degraded", 2, 3, 10, b, sizeof(b));
	assert_string_equal(b, "\xE2\x96\xB2 2/3");
	state_init(&s);
	assert_false(cells_pending(&s, &tg, true, 16, &to, b, sizeof(b)));
	s.soft = (struct soft_state){ .shown = HT_HEALTHY, .toward = HT_DOWN, .streak = 1 };
	assert_true(cells_pending(&s, &tg, false, 16, &to, b, sizeof(b)));
	assert_int_equal(to, HT_DOWN);
	assert_memory_equal(b, "X down 1/", 9);
	assert_true(cells_pending(&s, &tg, true, 16, &to, b, sizeof(b)));
	assert_memory_equal(b, "\xE2\x9C\x96 down 1/", 11);
	state_fini(&s);
}

/* A muted target says so with the time left, at the right end of its name cell. */
static void test_muted_marker(void **state)
{
	const int64_t now = 1700000000000;
	struct target_state s;
	char b[64], cell[128];

	state_init(&s);
	assert_false(cells_muted(&s, now, b, sizeof(b)));
	s.muted_until_ms = now + 45 * 60000 - 1;
	assert_true(cells_muted(&s, now, b, sizeof(b)));
	assert_string_equal(b, "muted 45m");
	assert_false(cells_muted(&s, now + 45 * 60000, b, sizeof(b)));   /* over */
	assert_int_equal(layout_name_mark("api-prod", "muted 45m", 24, true, cell, sizeof(cell)), 15);
	assert_string_equal(cell, "api-prod       muted 45m");
	layout_name_mark("payments-gateway-eu-west", "muted 45m", 24, true, cell, sizeof(cell));
	assert_int_equal(layout_width(cell), 24);
	assert_string_equal(cell + strlen(cell) - 10, " muted 45m");   /* the name is cut first */
	layout_name_mark("payments-gateway", "muted 45m", 12, true, cell, sizeof(cell));
	assert_int_equal(layout_width(cell), 12);
	assert_memory_equal(cell, "payme\xE2\x80\xA6 ", 9);   /* the name keeps half the cell */
	state_fini(&s);
}

/* The detail view drawn into a curses screen that writes to /dev/null, read back cell by cell. */
struct screen_fixture {
	SCREEN *scr;
	FILE *out, *in;
	struct ui ui;
};

static int screen_setup(void **state)
{
	static struct screen_fixture f;

	memset(&f, 0, sizeof(f));
	f.out = fopen("/dev/null", "w");
	f.in = fopen("/dev/null", "r");
	*state = NULL;   /* no xterm entry in terminfo: the screen tests skip */
	if (!f.out || !f.in || !(f.scr = newterm("xterm", f.out, f.in))) {
		if (f.out)
			fclose(f.out);
		if (f.in)
			fclose(f.in);
		return 0;
	}
	set_term(f.scr);
	resizeterm(40, 120);
	f.ui.rows = 40;
	f.ui.cols = 120;
	f.ui.list_y = 2;
	f.ui.utf8 = true;
	f.ui.role_attr[ROLE_DEGRADED] = A_UNDERLINE;   /* a mark to find on screen */
	*state = &f;
	return 0;
}

static int screen_teardown(void **state)
{
	struct screen_fixture *f = *state;

	if (!f)
		return 0;
	endwin();
	delscreen(f->scr);
	fclose(f->out);
	fclose(f->in);
	return 0;
}

static void screen_row(int y, char *out, size_t size)
{
	wchar_t w[256];

	if (mvinnwstr(y, 0, w, 255) == ERR)
		w[0] = L'\0';
	if (wcstombs(out, w, size) == (size_t)-1)
		out[0] = '\0';
}

static int find_row(const char *prefix, char *row, size_t size)
{
	for (int y = 0; y < LINES; y++) {
		screen_row(y, row, size);
		if (strncmp(row, prefix, strlen(prefix)) == 0)
			return y;
	}
	return -1;
}

/* At 80x24 the help shows every key of the list, q:quit included, and how to close it (with
 * the keys for mutes, the hidden healthy and the reverse sort it no longer fits with blank lines). */
static void test_help_fits_every_key_at_80x24(void **state)
{
	struct screen_fixture *f = *state;
	char row[1024], line[160];
	size_t n = 0;

	if (!f)
		skip();
	resizeterm(24, 80);
	f->ui.rows = 24;
	f->ui.cols = 80;
	f->ui.view.before_help = VIEW_LIST;
	erase();
	ui_draw_help(&f->ui);
	while (keys_help_line(KEYS_LIST, n, line, sizeof(line))) {
		bool found = false;
		for (int y = 0; y < 24 && !found; y++) {
			screen_row(y, row, sizeof(row));
			found = strstr(row, line) != NULL;
		}
		assert_true(found);
		n++;
	}
	assert_true(n > 18);
	bool closes = false;
	for (int y = 0; y < 24; y++) {
		screen_row(y, row, sizeof(row));
		closes = closes || strstr(row, "any key closes this help");
	}
	assert_true(closes);
	resizeterm(40, 120);
	f->ui.rows = 40;
	f->ui.cols = 120;
}

/* A target whose checks time out after 2 s, flipping between degraded and down. */
static void timing_out_target(struct target_state *s, int64_t now_ms, int cert_days)
{
	struct state_last last = { .at_ms = now_ms, .cls = HT_DOWN, .total_ms = 2000, .dns_ms = 1,
				   .connect_ms = 2, .tls_ms = 5, .ttfb_ms = 1500 };

	state_init(s);
	for (int i = 0; i < 6; i++)
		state_add_sample(s, now_ms - (6 - i) * 10000, -1, i % 2 ? HT_DOWN : HT_DEGRADED);
	last.cert_expiry = now_ms / 1000 + (int64_t)cert_days * 86400 + 3600;
	snprintf(last.reason, sizeof(last.reason), "timeout after 2000 ms");
	state_set_last(s, &last, NULL, 0);
	s->checked = true;
}

/* Defect 2: the Changes label stays beside the first change; r is in the phase legend; the
 * graph's scale is the 2 s the checks took, not "<1ms"; the certificate warning uses the
 * target's tls_expiry_warn_days (30 here: 20 days left is a warning). */
static void test_detail_labels_scale_and_cert_warning(void **state)
{
	struct screen_fixture *f = *state;
	struct ht_target tg = { .name = "api", .project = "shop", .display_url = "https://api.test/health",
				.probe = { .timeout_ms = 2000 }, .rules = { .tls_expiry_warn_days = 30 } };
	struct target_state s;
	char row[1024];
	int y;

	if (!f)
		skip();
	f->ui.now_ms = 1700000000000;
	timing_out_target(&s, f->ui.now_ms, 20);
	erase();
	ui_detail_draw(&f->ui, &tg, &s, false);
	assert_true(find_row(" Changes", row, sizeof(row)) >= 0);
	assert_non_null(strstr(row, "\xE2\x86\x92"));   /* the first change on the label's line */
	assert_true(find_row(" Phases", row, sizeof(row)) >= 0);
	assert_non_null(strstr(row, "(r)"));
	assert_true(find_row(" Latency", row, sizeof(row)) >= 0);
	assert_null(strstr(row, "<1ms"));
	assert_non_null(strstr(row, "top = 2.0s"));
	assert_true((y = find_row(" Cert", row, sizeof(row))) >= 0);
	assert_true(mvinch(y, 14) & A_UNDERLINE);   /* drawn as degraded */

	tg.rules.tls_expiry_warn_days = 7;   /* 20 days left is fine for this target */
	erase();
	ui_detail_draw(&f->ui, &tg, &s, false);
	assert_true((y = find_row(" Cert", row, sizeof(row))) >= 0);
	assert_false(mvinch(y, 14) & A_UNDERLINE);
	state_fini(&s);
}

/* Checked from several locations: a line each (where, class, age of its newest, poller) and
 * why they combine as shown, instead of the one "Poller" line. */
static void test_detail_location_lines(void **state)
{
	struct screen_fixture *f = *state;
	struct ht_target tg = { .name = "api", .project = "shop", .display_url = "http://api.test/" };
	struct target_state s;
	char row[1024];

	if (!f)
		skip();
	f->ui.now_ms = 1700000000000;
	timing_out_target(&s, f->ui.now_ms, 20);
	f->ui.detail_poller = "h:1 in a";
	f->ui.detail_locs[0] = (struct monitor_location){ "eu-west", HT_DOWN, f->ui.now_ms - 12000, "h:1" };
	f->ui.detail_locs[1] = (struct monitor_location){ "us-east", HT_HEALTHY, f->ui.now_ms - 3000, "h:2" };
	f->ui.detail_nlocs = 2;
	snprintf(f->ui.detail_quorum, sizeof(f->ui.detail_quorum), "down from eu-west (1 of 2 locations, quorum 2)");
	erase();
	ui_detail_draw(&f->ui, &tg, &s, false);
	assert_true(find_row(" Locations", row, sizeof(row)) >= 0);
	assert_non_null(strstr(row, "eu-west"));
	assert_non_null(strstr(row, "down"));
	assert_non_null(strstr(row, "10s ago"));
	assert_non_null(strstr(row, "h:1"));
	assert_true(find_row("            us-east", row, sizeof(row)) >= 0);
	assert_non_null(strstr(row, "healthy"));
	assert_non_null(strstr(row, "h:2"));
	assert_true(find_row(" Quorum", row, sizeof(row)) >= 0);
	assert_non_null(strstr(row, "1 of 2 locations, quorum 2"));
	assert_true(find_row(" Poller", row, sizeof(row)) < 0);
	f->ui.detail_nlocs = 0;   /* one location: the Poller line, as before */
	f->ui.detail_quorum[0] = '\0';
	erase();
	ui_detail_draw(&f->ui, &tg, &s, false);
	assert_true(find_row(" Poller", row, sizeof(row)) >= 0);
	assert_true(find_row(" Locations", row, sizeof(row)) < 0);
	f->ui.detail_poller = NULL;
	state_fini(&s);
}

/* The detail says the state shown and for how long, a change under way, and a mute. */
static void test_detail_state_line(void **state)
{
	struct screen_fixture *f = *state;
	struct ht_target tg = { .name = "api", .project = "shop", .display_url = "http://api.test/" };
	struct target_state s;
	char row[1024];

	if (!f)
		skip();
	f->ui.now_ms = 1700000000000;
	timing_out_target(&s, f->ui.now_ms, 20);
	s.shown_since_ms = f->ui.now_ms - 12 * 60000;
	s.soft = (struct soft_state){ .shown = HT_DOWN, .toward = HT_HEALTHY, .streak = 1 };
	s.muted_until_ms = f->ui.now_ms + 45 * 60000;
	erase();
	ui_detail_draw(&f->ui, &tg, &s, false);
	assert_true(find_row(" State", row, sizeof(row)) >= 0);
	assert_non_null(strstr(row, "down 12m"));
	assert_non_null(strstr(row, "changing: \xE2\x97\x8F healthy 1/"));
	assert_non_null(strstr(row, "muted 45m, notifying nobody"));
	state_fini(&s);
}

/* Issue 13: the status line while the store is away says since when and how much waits. */
static void test_storage_line_says_since_and_waiting(void **state)
{
	char text[256];
	int64_t at = 1795867380000;   /* 2026-11-28T12:03:00Z */

	setenv("TZ", "UTC", 1);
	tzset();
	ui_storage_text(at, 4213, NULL, text, sizeof(text));
	assert_string_equal(text, "store unreachable since 12:03, 4 213 results waiting");
	ui_storage_text(at + 59000, 1, "database is locked", text, sizeof(text));
	assert_string_equal(text, "store unreachable since 12:03, 1 result waiting: database is locked");
	ui_storage_text(at, 1234567, NULL, text, sizeof(text));
	assert_string_equal(text, "store unreachable since 12:03, 1 234 567 results waiting");
	ui_storage_text(at, 0, NULL, text, sizeof(text));
	assert_string_equal(text, "store unreachable since 12:03, 0 results waiting");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_storage_line_says_since_and_waiting),
		cmocka_unit_test(test_layout_keeps_essentials_at_40_columns),
		cmocka_unit_test(test_layout_drops_p95_before_uptime_before_ago),
		cmocka_unit_test(test_layout_columns_never_overlap),
		cmocka_unit_test(test_layout_fit_cuts_by_display_width),
		cmocka_unit_test(test_layout_latency_and_ago),
		cmocka_unit_test(test_layout_ago_changes_six_times_a_minute),
		cmocka_unit_test(test_view_rebuild_sorts_once_in_n_log_n),
		cmocka_unit_test(test_view_rebuild_filters_as_view_matches),
		cmocka_unit_test(test_spark_scales_to_the_slowest_and_pads_left),
		cmocka_unit_test(test_spark_shows_only_the_newest_that_fit),
		cmocka_unit_test(test_view_groups_by_project_worst_first),
		cmocka_unit_test(test_view_sort_cycles_name_then_latency),
		cmocka_unit_test(test_view_keys_move_over_targets_only),
		cmocka_unit_test(test_view_selection_follows_the_target_once_chosen),
		cmocka_unit_test(test_view_filter_matches_name_or_project_and_esc_restores),
		cmocka_unit_test(test_view_modes_and_actions),
		cmocka_unit_test(test_view_click_selects_target_rows_only),
		cmocka_unit_test(test_view_scrolls_to_keep_selection_visible),
		cmocka_unit_test(test_help_closes_on_any_key_q_included),
		cmocka_unit_test(test_key_table_drives_keys_help_and_hints),
		cmocka_unit_test(test_hint_line_keeps_quit_at_80_and_40_columns),
		cmocka_unit_test(test_header_keeps_clock_at_80_columns),
		cmocka_unit_test(test_view_flapping_target_keeps_group_places),
		cmocka_unit_test(test_view_held_change_becomes_due),
		cmocka_unit_test(test_layout_reason_and_for_only_with_spare_width),
		cmocka_unit_test(test_layout_cell_sanitizes_and_cuts_reason),
		cmocka_unit_test(test_layout_span_rounds_time_spent_down_and_time_left_up),
		cmocka_unit_test(test_view_status_filter_words),
		cmocka_unit_test(test_view_key_hides_healthy),
		cmocka_unit_test(test_view_reverse_sort),
		cmocka_unit_test(test_view_parse_duration),
		cmocka_unit_test(test_view_mute_prompt),
		cmocka_unit_test(test_cells_for_and_shown_class),
		cmocka_unit_test(test_pending_marker_text),
		cmocka_unit_test(test_muted_marker),
		cmocka_unit_test_setup_teardown(test_detail_labels_scale_and_cert_warning, screen_setup, screen_teardown),
		cmocka_unit_test_setup_teardown(test_help_fits_every_key_at_80x24, screen_setup, screen_teardown),
		cmocka_unit_test_setup_teardown(test_detail_state_line, screen_setup, screen_teardown),
		cmocka_unit_test_setup_teardown(test_detail_location_lines, screen_setup, screen_teardown),
	};
	setlocale(LC_ALL, "C.UTF-8");
	return cmocka_run_group_tests(tests, NULL, NULL);
}

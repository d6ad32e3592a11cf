/* The dashboard's pure parts: layout at several widths, text fitting, sparklines, keys. */
#include "autoconfig.h"
#include <curses.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/ui/ui_layout.h"
#include "healthtop/ui/ui_spark.h"
#include "healthtop/ui/ui_view.h"

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
		assert_true(l.shown[c]);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_keeps_essentials_at_40_columns),
		cmocka_unit_test(test_layout_drops_p95_before_uptime_before_ago),
		cmocka_unit_test(test_layout_columns_never_overlap),
		cmocka_unit_test(test_layout_fit_cuts_by_display_width),
		cmocka_unit_test(test_layout_latency_and_ago),
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
	};
	setlocale(LC_ALL, "C.UTF-8");
	return cmocka_run_group_tests(tests, NULL, NULL);
}

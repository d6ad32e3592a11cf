#include "autoconfig.h"
#include <curses.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "healthtop/ui/ui_view.h"

#define KEY_ESC 27

const struct view_window view_windows[] = {
	{ "1h", 3600 }, { "24h", 86400 }, { "7d", 7 * 86400 }, { "30d", 30 * 86400 },
};
const size_t view_nwindows = sizeof(view_windows) / sizeof(view_windows[0]);
const char *const view_sort_names[SORT_COUNT] = { "status", "name", "latency" };

struct sort_entry {
	size_t idx;
	int group_worst;
	double group_latency;
};

struct sort_ctx {
	const struct view_item *items;
	enum view_sort sort;
};

void view_init(struct view *v)
{
	memset(v, 0, sizeof(*v));
	v->page = 1;
}

void view_fini(struct view *v)
{
	free(v->rows);
	memset(v, 0, sizeof(*v));
}

bool view_matches(const struct view *v, const struct view_item *it)
{
	return v->filter[0] == '\0' || strcasestr(it->name, v->filter) || strcasestr(it->project, v->filter);
}

/* Unchecked targets sort after checked ones, worst first. */
static int severity(int cls)
{
	return cls < 0 ? -1 : cls;
}

static int cmp_in_group(const struct sort_ctx *c, const struct view_item *a, const struct view_item *b)
{
	if (c->sort == SORT_STATUS && severity(a->cls) != severity(b->cls))
		return severity(b->cls) - severity(a->cls);
	if (c->sort == SORT_LATENCY && a->latency_ms != b->latency_ms)
		return a->latency_ms < b->latency_ms ? 1 : -1;
	return strcmp(a->name, b->name);
}

static int cmp_entries(const void *x, const void *y, void *arg)
{
	const struct sort_ctx *c = arg;
	const struct sort_entry *a = x, *b = y;
	const struct view_item *ia = &c->items[a->idx], *ib = &c->items[b->idx];

	if (c->sort == SORT_STATUS && a->group_worst != b->group_worst)
		return b->group_worst - a->group_worst;
	if (c->sort == SORT_LATENCY && a->group_latency != b->group_latency)
		return a->group_latency < b->group_latency ? 1 : -1;
	int p = strcmp(ia->project, ib->project);
	return p ? p : cmp_in_group(c, ia, ib);
}

static int cmp_project(const void *x, const void *y, void *arg)
{
	const struct sort_ctx *c = arg;
	const struct sort_entry *a = x, *b = y;
	return strcmp(c->items[a->idx].project, c->items[b->idx].project);
}

/* Each entry learns its group's worst class and slowest latency. */
static void tag_groups(const struct view_item *items, struct sort_entry *e, size_t n, struct sort_ctx *c)
{
	qsort_r(e, n, sizeof(*e), cmp_project, c);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		int worst = -1;
		double lat = -1;
		for (; j < n && strcmp(items[e[j].idx].project, items[e[i].idx].project) == 0; j++) {
			if (severity(items[e[j].idx].cls) > worst)
				worst = severity(items[e[j].idx].cls);
			if (items[e[j].idx].latency_ms > lat)
				lat = items[e[j].idx].latency_ms;
		}
		for (size_t k = i; k < j; k++) {
			e[k].group_worst = worst;
			e[k].group_latency = lat;
		}
		i = j;
	}
}

static int push_row(struct view *v, struct view_row r)
{
	if (v->nrows == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		struct view_row *nr = realloc(v->rows, cap * sizeof(*nr));
		if (!nr)
			return -1;
		v->rows = nr;
		v->cap = cap;
	}
	v->rows[v->nrows++] = r;
	return 0;
}

static void keep_visible(struct view *v)
{
	if (v->sel < v->top)
		v->top = v->sel;
	if (v->top > 0 && v->top == v->sel && v->rows[v->sel - 1].header)
		v->top--;   /* show the project title above its first target */
	if (v->page > 0 && v->sel >= v->top + (size_t)v->page)
		v->top = v->sel - (size_t)v->page + 1;
}

static void select_target(struct view *v, bool have, size_t target)
{
	v->sel = 0;
	for (size_t i = 0; i < v->nrows; i++) {
		if (!v->rows[i].header && (!have || v->rows[i].target == target)) {
			v->sel = i;
			break;
		}
	}
	if (v->nrows > 0 && v->rows[v->sel].header && v->sel + 1 < v->nrows)
		v->sel++;
	if (v->top >= v->nrows)
		v->top = 0;
	keep_visible(v);
}

int view_rebuild(struct view *v, const struct view_item *items, size_t n)
{
	struct sort_ctx c = { items, v->sort };
	struct sort_entry *e = malloc((n ? n : 1) * sizeof(*e));
	size_t m = 0, target = 0;
	bool had = v->moved && view_selected(v, &target);

	if (!e)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (view_matches(v, &items[i]))
			e[m++] = (struct sort_entry){ .idx = i };
	tag_groups(items, e, m, &c);
	qsort_r(e, m, sizeof(*e), cmp_entries, &c);
	v->nrows = 0;
	for (size_t i = 0; i < m; i++) {
		if (i == 0 || strcmp(items[e[i].idx].project, items[e[i - 1].idx].project) != 0) {
			size_t count = 0;
			while (i + count < m && strcmp(items[e[i + count].idx].project, items[e[i].idx].project) == 0)
				count++;
			if (push_row(v, (struct view_row){ true, e[i].idx, count, e[i].group_worst }) < 0)
				break;
		}
		if (push_row(v, (struct view_row){ false, e[i].idx, 0, 0 }) < 0)
			break;
	}
	free(e);
	select_target(v, had, target);
	return 0;
}

bool view_selected(const struct view *v, size_t *target)
{
	if (v->sel >= v->nrows || v->rows[v->sel].header)
		return false;
	*target = v->rows[v->sel].target;
	return true;
}

void view_set_page(struct view *v, int rows)
{
	v->page = rows > 0 ? rows : 1;
	if (v->nrows)
		keep_visible(v);
}

/* Moves the selection by delta target rows (headers are skipped). */
static enum view_action move_selection(struct view *v, long delta)
{
	size_t old = v->sel;
	long step = delta > 0 ? 1 : -1;

	for (long moved = 0; moved != delta;) {
		long next = (long)v->sel + step;
		while (next >= 0 && next < (long)v->nrows && v->rows[next].header)
			next += step;
		if (next < 0 || next >= (long)v->nrows)
			break;
		v->sel = (size_t)next;
		moved += step;
	}
	v->moved = true;
	keep_visible(v);
	return v->sel != old ? ACT_REDRAW : ACT_NONE;
}

static enum view_action filter_key(struct view *v, int key)
{
	size_t len = strlen(v->filter);

	if (key == KEY_ESC) {
		memcpy(v->filter, v->filter_before, sizeof(v->filter));
		v->mode = VIEW_LIST;
		return ACT_REBUILD;
	}
	if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		v->mode = VIEW_LIST;
		return ACT_REDRAW;
	}
	if (key == KEY_BACKSPACE || key == 127 || key == 8) {
		if (len > 0)
			v->filter[len - 1] = '\0';
		return ACT_REBUILD;
	}
	if (key >= 0x20 && key < 0x7f && len + 1 < sizeof(v->filter)) {
		v->filter[len] = (char)key;
		v->filter[len + 1] = '\0';
		return ACT_REBUILD;
	}
	return ACT_NONE;
}

static enum view_action common_key(struct view *v, int key)
{
	long page = v->page > 1 ? v->page - 1 : 1;

	switch (key) {
	case 'q': return ACT_QUIT;
	case 'j': case KEY_DOWN: return move_selection(v, 1);
	case 'k': case KEY_UP: return move_selection(v, -1);
	case 'g': case KEY_HOME: return move_selection(v, -(long)v->nrows);
	case 'G': case KEY_END: return move_selection(v, (long)v->nrows);
	case KEY_NPAGE: case ' ': return move_selection(v, page);
	case KEY_PPAGE: return move_selection(v, -page);
	case 'r': return ACT_FORCE;
	case 'R': return ACT_FORCE_ALL;
	case 't':
		v->window = (v->window + 1) % view_nwindows;
		return ACT_WINDOW;
	case 'e': return ACT_EXPORT;
	case '?': case 'h':
		v->before_help = v->mode;
		v->mode = VIEW_HELP;
		return ACT_REDRAW;
	default: return ACT_NONE;
	}
}

enum view_action view_key(struct view *v, int key)
{
	size_t t;

	switch (v->mode) {
	case VIEW_FILTER:
		return filter_key(v, key);
	case VIEW_HELP:
		v->mode = v->before_help;   /* any key closes the help */
		return key == 'q' ? ACT_QUIT : ACT_REDRAW;
	case VIEW_DETAIL:
		if (key == KEY_ESC || key == KEY_BACKSPACE || key == 127 || key == '\n' || key == KEY_ENTER ||
		    key == KEY_LEFT) {
			v->mode = VIEW_LIST;
			return ACT_REDRAW;
		}
		return common_key(v, key);
	case VIEW_LIST:
	default:
		break;
	}
	switch (key) {
	case '\n': case '\r': case KEY_ENTER: case KEY_RIGHT:
		if (!view_selected(v, &t))
			return ACT_NONE;
		v->mode = VIEW_DETAIL;
		return ACT_REDRAW;
	case '/':
		memcpy(v->filter_before, v->filter, sizeof(v->filter));
		v->mode = VIEW_FILTER;
		return ACT_REDRAW;
	case 's':
		v->sort = (enum view_sort)((v->sort + 1) % SORT_COUNT);
		return ACT_REBUILD;
	case KEY_ESC:
		if (v->filter[0] == '\0')
			return ACT_NONE;
		v->filter[0] = '\0';   /* Esc in the list clears a filter */
		return ACT_REBUILD;
	default:
		return common_key(v, key);
	}
}

bool view_click(struct view *v, int offset)
{
	size_t row = v->top + (size_t)(offset < 0 ? 0 : offset);

	if (offset < 0 || row >= v->nrows || v->rows[row].header)
		return false;
	v->sel = row;
	v->moved = true;
	return true;
}

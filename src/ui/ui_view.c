#include "autoconfig.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "healthtop/ui/ui_keys.h"
#include "healthtop/ui/ui_view.h"

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
	bool reverse;
};

void view_init(struct view *v)
{
	memset(v, 0, sizeof(*v));
	v->page = 1;
}

void view_fini(struct view *v)
{
	free(v->rows);
	for (size_t i = 0; i < v->nmemo; i++)
		free(v->memo[i].project);
	free(v->memo);
	memset(v, 0, sizeof(*v));
}

void view_sort_label(const struct view *v, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", view_sort_names[v->sort], v->reverse ? " rev" : "");
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

static int cmp_forward(const struct sort_ctx *c, const struct sort_entry *a, const struct sort_entry *b)
{
	const struct view_item *ia = &c->items[a->idx], *ib = &c->items[b->idx];

	if (c->sort == SORT_STATUS && a->group_worst != b->group_worst)
		return b->group_worst - a->group_worst;
	if (c->sort == SORT_LATENCY && a->group_latency != b->group_latency)
		return a->group_latency < b->group_latency ? 1 : -1;
	int p = strcmp(ia->project, ib->project);
	return p ? p : cmp_in_group(c, ia, ib);
}

/* Reversed, the whole order turns around: groups and the targets within them (a group's rows
 * stay together, since the project is part of every comparison). */
static int cmp_entries(const void *x, const void *y, void *arg)
{
	const struct sort_ctx *c = arg;
	int r = cmp_forward(c, x, y);

	return c->reverse ? -r : r;
}

static int cmp_project(const void *x, const void *y, void *arg)
{
	const struct sort_ctx *c = arg;
	const struct sort_entry *a = x, *b = y;
	return strcmp(c->items[a->idx].project, c->items[b->idx].project);
}

static struct view_group_memo *find_memo(struct view *v, const char *project)
{
	for (size_t i = 0; i < v->nmemo; i++)
		if (strcmp(v->memo[i].project, project) == 0)
			return &v->memo[i];
	if (v->nmemo == v->capmemo) {
		size_t cap = v->capmemo ? v->capmemo * 2 : 16;
		struct view_group_memo *nm = realloc(v->memo, cap * sizeof(*nm));
		if (!nm)
			return NULL;
		v->memo = nm;
		v->capmemo = cap;
	}
	return NULL;
}

/* The worst class a group sorts by: a new worst class counts once it has lasted longer than
 * hold_ms, so one flapping target does not swap whole groups back and forth. */
static int steady_worst(struct view *v, const char *project, int worst)
{
	struct view_group_memo *m = find_memo(v, project);

	if (v->hold_ms <= 0)
		return worst;
	if (!m) {
		char *copy = v->nmemo < v->capmemo ? strdup(project) : NULL;   /* outlives a config */
		if (copy)
			v->memo[v->nmemo++] = (struct view_group_memo){ copy, worst, worst, v->now_ms };
		return worst;   /* new, or out of memory: sorted by the live class */
	}
	if (worst == m->shown) {
		m->candidate = worst;
		return worst;
	}
	if (worst != m->candidate) {
		m->candidate = worst;
		m->since_ms = v->now_ms;
	}
	if (v->now_ms - m->since_ms > v->hold_ms)
		m->shown = worst;
	else if (v->regroup_at_ms == 0 || m->since_ms + v->hold_ms + 1 < v->regroup_at_ms)
		v->regroup_at_ms = m->since_ms + v->hold_ms + 1;
	return m->shown;
}

/* Each entry learns its group's worst class (held steady) and slowest latency. */
static void tag_groups(struct view *v, const struct view_item *items, struct sort_entry *e, size_t n,
		       struct sort_ctx *c)
{
	v->regroup_at_ms = 0;
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
		worst = steady_worst(v, items[e[i].idx].project, worst);
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
	struct sort_ctx c = { items, v->sort, v->reverse };
	struct sort_entry *e = malloc((n ? n : 1) * sizeof(*e));
	size_t m = 0, target = 0;
	bool had = v->moved && view_selected(v, &target);

	if (!e)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (view_matches(v, &items[i]))
			e[m++] = (struct sort_entry){ .idx = i };
	tag_groups(v, items, e, m, &c);
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

static unsigned mode_bit(enum view_mode m)
{
	return 1u << m;
}

static enum view_action switch_mode(struct view *v, enum view_mode to)
{
	if (to == VIEW_HELP)
		v->before_help = v->mode;
	if (to == VIEW_FILTER)
		memcpy(v->filter_before, v->filter, sizeof(v->filter));
	v->mode = to;
	return ACT_REDRAW;
}

/* The mute prompt, for the selected target (or its project); it returns where it was opened. */
static enum view_action open_prompt(struct view *v, bool project)
{
	size_t t;

	if (!view_selected(v, &t))
		return ACT_NONE;
	v->before_prompt = v->mode;
	v->prompt_project = project;
	v->prompt_target = t;
	v->prompt[0] = '\0';
	v->mode = VIEW_PROMPT;
	return ACT_REDRAW;
}

/* What each command of the key table does to the view. */
static enum view_action command(struct view *v, enum key_cmd cmd)
{
	long page = v->page > 1 ? v->page - 1 : 1;
	size_t t;

	switch (cmd) {
	case CMD_QUIT: return ACT_QUIT;
	case CMD_DOWN: return move_selection(v, 1);
	case CMD_UP: return move_selection(v, -1);
	case CMD_FIRST: return move_selection(v, -(long)v->nrows);
	case CMD_LAST: return move_selection(v, (long)v->nrows);
	case CMD_PAGE_DOWN: return move_selection(v, page);
	case CMD_PAGE_UP: return move_selection(v, -page);
	case CMD_FORCE: return ACT_FORCE;
	case CMD_FORCE_ALL: return ACT_FORCE_ALL;
	case CMD_EXPORT: return ACT_EXPORT;
	case CMD_HELP: return switch_mode(v, VIEW_HELP);
	case CMD_BACK: return switch_mode(v, VIEW_LIST);
	case CMD_FILTER: return switch_mode(v, VIEW_FILTER);
	case CMD_OPEN: return view_selected(v, &t) ? switch_mode(v, VIEW_DETAIL) : ACT_NONE;
	case CMD_WINDOW:
		v->window = (v->window + 1) % view_nwindows;
		return ACT_WINDOW;
	case CMD_SORT:
		v->sort = (enum view_sort)((v->sort + 1) % SORT_COUNT);
		return ACT_REBUILD;
	case CMD_REVERSE:
		v->reverse = !v->reverse;
		return ACT_REBUILD;
	case CMD_HIDE_HEALTHY:
		v->hide_healthy = !v->hide_healthy;
		return ACT_REBUILD;
	case CMD_MUTE: return open_prompt(v, false);
	case CMD_MUTE_PROJECT: return open_prompt(v, true);
	case CMD_CLEAR_FILTER:
		if (v->filter[0] == '\0')
			return ACT_NONE;
		v->filter[0] = '\0';
		return ACT_REBUILD;
	default:
		return ACT_NONE;
	}
}

enum view_action view_key(struct view *v, int key)
{
	switch (v->mode) {
	case VIEW_FILTER:
		return view_filter_key(v, key);
	case VIEW_PROMPT:
		return view_prompt_key(v, key);
	case VIEW_HELP:
		v->mode = v->before_help;   /* any key closes the help, q included: it says so */
		return ACT_REDRAW;
	default:
		return command(v, keys_lookup(mode_bit(v->mode), key));
	}
}

void view_set_time(struct view *v, int64_t now_ms, int64_t hold_ms)
{
	v->now_ms = now_ms;
	v->hold_ms = hold_ms;
}

bool view_regroup_due(const struct view *v)
{
	return v->regroup_at_ms > 0 && v->now_ms >= v->regroup_at_ms;
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

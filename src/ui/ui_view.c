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
	uint32_t idx;
	uint32_t project;     /* the project's rank */
	int group_worst;
	double group_latency;
};

void view_init(struct view *v)
{
	memset(v, 0, sizeof(*v));
	v->page = 1;
}

static void free_groups(struct view *v)
{
	free(v->memo_of);
	free(v->group_worst);
	free(v->group_latency);
	free(v->group_count);
	free(v->project_hits);
	v->project_hits = NULL;
	v->memo_of = NULL;
	v->group_worst = NULL;
	v->group_latency = NULL;
	v->group_count = NULL;
}

void view_fini(struct view *v)
{
	free(v->rows);
	for (size_t i = 0; i < v->nmemo; i++)
		free(v->memo[i].project);
	free(v->memo);
	free_groups(v);
	ranks_fini(&v->ranks);
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

/* Sort keys: the smaller word first, so "worst first" and "slowest first" are stored turned
 * around. A class: down 0, degraded 1, healthy 2, not checked yet 3. */
static uint64_t worst_first(int cls)
{
	return (uint64_t)(2 - severity(cls));
}

/* Slowest first, no latency (< 0) last. A double's bits order non-negative values. */
static uint64_t slowest_first(double ms)
{
	uint64_t bits;

	if (!(ms >= 0))
		return UINT64_MAX;
	ms += 0.0;   /* -0.0 is 0 */
	memcpy(&bits, &ms, sizeof(bits));
	return ~bits - 1;
}

/* Reversed, the whole order turns around: groups and the targets within them (a group's rows
 * stay together, since the project is part of every key). */
static struct view_key sort_key(const struct view *v, const struct view_item *it, const struct sort_entry *e)
{
	struct view_key k = { { 0, e->project, 0, v->ranks.name[e->idx] }, e->idx };

	if (v->sort == SORT_STATUS) {
		k.word[0] = worst_first(e->group_worst);
		k.word[2] = worst_first(it->cls);
	} else if (v->sort == SORT_LATENCY) {
		k.word[0] = slowest_first(e->group_latency);
		k.word[2] = slowest_first(it->latency_ms);
	}
	for (int w = 0; v->reverse && w < VIEW_KEY_WORDS; w++)
		k.word[w] = ~k.word[w];
	return k;
}

/* The memo of the project of rank r, made when missing (NULL: out of memory). */
static struct view_group_memo *memo_for(struct view *v, uint32_t r, int worst)
{
	if (v->memo_of[r] != SIZE_MAX)
		return &v->memo[v->memo_of[r]];
	if (v->nmemo == v->capmemo) {
		size_t cap = v->capmemo ? v->capmemo * 2 : 16;
		struct view_group_memo *nm = realloc(v->memo, cap * sizeof(*nm));
		if (!nm)
			return NULL;
		v->memo = nm;
		v->capmemo = cap;
	}
	char *copy = strdup(v->ranks.projects[r]);   /* outlives a config */
	if (!copy)
		return NULL;
	v->memo[v->nmemo] = (struct view_group_memo){ copy, worst, worst, v->now_ms };
	v->memo_of[r] = v->nmemo;
	return &v->memo[v->nmemo++];
}

/* The worst class a group sorts by: a new worst class counts once it has lasted longer than
 * hold_ms, so one flapping target does not swap whole groups back and forth. */
static int steady_worst(struct view *v, uint32_t r, int worst)
{
	bool known = v->memo_of[r] != SIZE_MAX;
	struct view_group_memo *m;

	if (v->hold_ms <= 0)
		return worst;
	if (!(m = memo_for(v, r, worst)) || !known)
		return worst;   /* new, or out of memory: sorted by the live class */
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

static int cmp_text(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* New ranks: per-group arrays sized for them, and each kept memo found by its project's name
 * (memos outlive configs). */
static int regroup(struct view *v)
{
	size_t p = v->ranks.nprojects ? v->ranks.nprojects : 1;

	free_groups(v);
	v->memo_of = malloc(p * sizeof(*v->memo_of));
	v->group_worst = malloc(p * sizeof(*v->group_worst));
	v->group_latency = malloc(p * sizeof(*v->group_latency));
	v->group_count = malloc(p * sizeof(*v->group_count));
	v->project_hits = malloc(p * sizeof(*v->project_hits));
	if (!v->memo_of || !v->group_worst || !v->group_latency || !v->group_count || !v->project_hits) {
		free_groups(v);
		ranks_fini(&v->ranks);   /* computed again next time */
		return -1;
	}
	for (size_t r = 0; r < p; r++)
		v->memo_of[r] = SIZE_MAX;
	for (size_t k = 0; k < v->nmemo; k++) {
		const char **hit = bsearch(&v->memo[k].project, v->ranks.projects, v->ranks.nprojects,
					   sizeof(*hit), cmp_text);
		if (hit)
			v->memo_of[hit - v->ranks.projects] = k;
	}
	return 0;
}

/* Each entry learns its group's worst class (held steady) and slowest latency: one pass over
 * the entries, one over the groups (no sort). */
static void tag_groups(struct view *v, const struct view_item *items, struct sort_entry *e, size_t n)
{
	size_t p = v->ranks.nprojects;

	v->regroup_at_ms = 0;
	for (size_t r = 0; r < p; r++) {
		v->group_worst[r] = -1;
		v->group_latency[r] = -1;
		v->group_count[r] = 0;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t r = e[i].project;
		if (severity(items[e[i].idx].cls) > v->group_worst[r])
			v->group_worst[r] = severity(items[e[i].idx].cls);
		if (items[e[i].idx].latency_ms > v->group_latency[r])
			v->group_latency[r] = items[e[i].idx].latency_ms;
		v->group_count[r]++;
	}
	for (size_t r = 0; r < p; r++)
		if (v->group_count[r] > 0)
			v->group_worst[r] = steady_worst(v, (uint32_t)r, v->group_worst[r]);
	for (size_t i = 0; i < n; i++) {
		e[i].group_worst = v->group_worst[e[i].project];
		e[i].group_latency = v->group_latency[e[i].project];
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

/* The items the filter shows: parsed once, each project's words looked for once. */
static void filter_entries(struct view *v, const struct view_item *items, size_t n, struct sort_entry *e, size_t *m)
{
	struct view_filter f;

	view_filter_parse(v, &f);
	for (size_t r = 0; r < v->ranks.nprojects; r++)
		v->project_hits[r] = view_project_hits(&f, v->ranks.projects[r]);
	for (size_t i = 0; i < n; i++) {
		uint32_t r = v->ranks.project[i];
		if ((f.n == 0 && !f.hide_healthy) || view_filter_match(&f, &items[i], &v->project_hits[r]))
			e[(*m)++] = (struct sort_entry){ .idx = (uint32_t)i, .project = r };
	}
}

/* The sorted entries as rows, a title above each project's first. */
static void make_rows(struct view *v, const struct view_key *k, size_t m)
{
	v->nrows = 0;
	for (size_t i = 0; i < m; i++) {
		uint32_t idx = k[i].idx, r = v->ranks.project[idx];
		if (i == 0 || r != v->ranks.project[k[i - 1].idx])
			if (push_row(v, (struct view_row){ true, idx, v->group_count[r], v->group_worst[r] }) < 0)
				break;
		if (push_row(v, (struct view_row){ false, idx, 0, 0 }) < 0)
			break;
	}
}

int view_rebuild(struct view *v, const struct view_item *items, size_t n)
{
	struct sort_entry *e = NULL;
	struct view_key *k = NULL, *tmp = NULL;
	size_t m = 0, target = 0;
	bool had = v->moved && view_selected(v, &target);
	int fresh = ranks_update(&v->ranks, items, n);
	size_t room = n ? n : 1;

	if (fresh < 0 || (fresh > 0 && regroup(v) < 0) || !(e = malloc(room * sizeof(*e))) ||
	    !(k = malloc(room * sizeof(*k))) || !(tmp = malloc(room * sizeof(*tmp)))) {
		free(e);
		free(k);
		return -1;
	}
	filter_entries(v, items, n, e, &m);
	tag_groups(v, items, e, m);
	for (size_t i = 0; i < m; i++)
		k[i] = sort_key(v, &items[e[i].idx], &e[i]);
	v->sort_passes += view_keys_sort(k, tmp, m);
	make_rows(v, k, m);
	free(e);
	free(k);
	free(tmp);
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

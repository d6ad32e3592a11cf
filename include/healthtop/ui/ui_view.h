/* The dashboard's view model (pure): which rows are shown in what order, what is selected, and
 * what each key does. ui.c turns the actions into effects and draws the result. */
#ifndef HEALTHTOP_UI_VIEW_H
#define HEALTHTOP_UI_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum view_mode { VIEW_LIST, VIEW_DETAIL, VIEW_HELP, VIEW_FILTER, VIEW_PROMPT };
enum view_sort { SORT_STATUS, SORT_NAME, SORT_LATENCY, SORT_COUNT };

struct view_window {
	const char *label;
	int64_t seconds;
};

extern const struct view_window view_windows[];
extern const size_t view_nwindows;
extern const char *const view_sort_names[SORT_COUNT];

enum view_action {
	ACT_NONE,        /* nothing changed */
	ACT_REDRAW,      /* selection, mode or scroll changed */
	ACT_REBUILD,     /* filter or sort changed: rebuild rows, then redraw */
	ACT_FORCE,       /* check the selected target now */
	ACT_FORCE_ALL,   /* check every target now */
	ACT_EXPORT,      /* write the current view to CSV */
	ACT_WINDOW,      /* the history window changed */
	ACT_MUTE,        /* the mute prompt was answered: mute for view_parse_duration(prompt) */
	ACT_QUIT,
};

struct view_item {
	const char *name;
	const char *project;
	int cls;              /* the displayed enum ht_class, or -1 before the first result */
	double latency_ms;    /* < 0 when none */
};

struct view_row {
	bool header;          /* a project's title row */
	size_t target;        /* item index (header: its project's first item) */
	size_t count;         /* header: targets shown in the group */
	int worst;            /* header: worst class in the group */
};

/* A project group's place under sort by status (see view_set_time). */
struct view_group_memo {
	char *project;        /* owned copy */
	int shown;            /* the worst class the group sorts by */
	int candidate;        /* a different worst class seen since since_ms */
	int64_t since_ms;
};

/* Names and projects as ranks in strcmp order, computed once per set of items (ui_rank.c). */
struct view_ranks {
	size_t n;
	uintptr_t sum;        /* the items' text pointers when computed: a change recomputes */
	bool valid;
	uint32_t *name;       /* by item */
	uint32_t *project;    /* by item */
	const char **projects;   /* the distinct projects, by rank */
	size_t nprojects;
	uint64_t computed;    /* times computed (a count for tests) */
};

struct view {
	enum view_mode mode;
	enum view_mode before_help;
	enum view_sort sort;
	bool reverse;         /* the sort order turned around (best, last or fastest first) */
	bool hide_healthy;
	size_t window;
	char filter[64];      /* words, all of which must match: see view_matches */
	char filter_before[64];
	struct view_row *rows;
	size_t nrows;
	size_t cap;
	size_t sel;           /* row index; always a target row when there is one */
	size_t top;           /* first row on screen */
	int page;             /* rows that fit on screen */
	bool moved;           /* the user chose a row: keep it across re-sorting */
	int64_t now_ms;
	int64_t hold_ms;      /* 0: groups move as soon as their worst class changes */
	int64_t regroup_at_ms;   /* a held change becomes due then (0: none) */
	struct view_group_memo *memo;
	size_t nmemo, capmemo;
	struct view_ranks ranks;
	/* by project rank: its memo (SIZE_MAX: none yet), and a rebuild's per-group figures */
	size_t *memo_of;
	int *group_worst;
	double *group_latency;
	size_t *group_count;
	unsigned *project_hits;   /* a rebuild's filter words found in each project */
	uint64_t sort_passes;   /* radix passes over the rows, every rebuild (a count for tests) */
	/* The mute prompt ('m' a target, 'M' its project): what it mutes and what was typed. */
	enum view_mode before_prompt;
	bool prompt_project;
	size_t prompt_target;
	char prompt[16];
};

#define VIEW_MUTE_DEFAULT_MS (3600 * 1000)

void view_init(struct view *v);
/* A row's place in the sort: words compared in order (word[0] first), and its item. */
#define VIEW_KEY_WORDS 4
struct view_key {
	uint64_t word[VIEW_KEY_WORDS];
	uint32_t idx;
};
/* Sorts keys (stable LSD radix, 11 bits a pass, passes over digits all keys share skipped) with
 * tmp as room for n more; returns the passes made: at most 24, whatever n is. */
unsigned view_keys_sort(struct view_key *keys, struct view_key *tmp, size_t n);
/* Ranks for items (recomputed only when their texts changed): 1 recomputed, 0 kept, -1 no memory. */
int ranks_update(struct view_ranks *r, const struct view_item *items, size_t n);
void ranks_fini(struct view_ranks *r);
void view_fini(struct view *v);
int view_rebuild(struct view *v, const struct view_item *items, size_t n);
enum view_action view_key(struct view *v, int key);
/* The keys while typing the filter, and the mute prompt (ui_prompt.c; view_key calls them). */
enum view_action view_filter_key(struct view *v, int key);
enum view_action view_prompt_key(struct view *v, int key);
/* Selects the row shown `offset` rows below the top; true if a target row was there. */
bool view_click(struct view *v, int offset);
bool view_selected(const struct view *v, size_t *target);
void view_set_page(struct view *v, int rows);
/* The clock for the next rebuild, and how long a group's new worst class must last before the
 * group moves (a sweep: one flapping target must not reorder the screen every few seconds). */
void view_set_time(struct view *v, int64_t now_ms, int64_t hold_ms);
/* A held change has lasted long enough: rebuild to let the group move. */
bool view_regroup_due(const struct view *v);
/* Does item pass the filter? Every word of it must match: a class word ("down", "degraded",
 * "healthy", "pending") matches targets shown in that class, "!WORD" those not matching WORD,
 * and any other word a part of the name or the project (any case). Healthy targets are left
 * out while hide_healthy is on. */
bool view_matches(const struct view *v, const struct view_item *item);
/* The same, with the filter parsed once for a whole rebuild, and each project's matches of the
 * words found once per project (bit k: word k) rather than once per target. */
#define VIEW_FILTER_WORDS 32
struct view_filter {
	char text[64];
	const char *word[VIEW_FILTER_WORDS];
	int cls[VIEW_FILTER_WORDS];   /* the class a word names, -1 pending, -2 none */
	bool negated[VIEW_FILTER_WORDS];
	int n;
	bool hide_healthy;
};
void view_filter_parse(const struct view *v, struct view_filter *f);
unsigned view_project_hits(const struct view_filter *f, const char *project);
bool view_filter_match(const struct view_filter *f, const struct view_item *it, const unsigned *project_hits);

/* The sort as the hint line says it: "status", or "status rev" when reversed. */
void view_sort_label(const struct view *v, char *buf, size_t size);

/* What the mute prompt accepts: "30m", "2h", "1d", "90s", "2w"; empty is the default (1 h);
 * "0" or "off" is 0 (unmute). Returns 0 with *ms, or -1 for anything else. */
int view_parse_duration(const char *text, int64_t *ms);

#endif

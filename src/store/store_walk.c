/* The one walker of windows and aggregates (store_walk.h): the same pieces, whether read at once
 * (store_read.c) or sent to the loop's connection (store_pg_aread.c). */
#include "autoconfig.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/clock.h"
#include "store_priv.h"
#include "store_walk.h"

#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL
#define RAW_WINDOW_MAX_MS (6 * HOUR_MS)
#define HOURLY_WINDOW_MAX_MS (8 * DAY_MS)

const struct store_level store_levels[LEVEL_COUNT] = {
	{ "result", "raw", 0 }, { "rollup_hour", "hourly", HOUR_MS }, { "rollup_day", "daily", DAY_MS },
};

const char *store_window_source(int64_t since_ms, int64_t now_ms)
{
	int64_t span = now_ms - since_ms;

	return store_levels[span <= RAW_WINDOW_MAX_MS ? LEVEL_RAW : span <= HOURLY_WINDOW_MAX_MS ? LEVEL_HOUR : LEVEL_DAY].name;
}

static int cmp_totals(const void *a, const void *b)
{
	int64_t x = ((const struct store_totals *)a)->target_id, y = ((const struct store_totals *)b)->target_id;
	return (x > y) - (x < y);
}

struct store_totals *tally_find(struct tally *t, int64_t id)
{
	struct store_totals key = { .target_id = id };
	return bsearch(&key, t->t, t->n, sizeof(*t->t), cmp_totals);
}

void walk_add_latency(struct store_totals *t, double min_ms, double max_ms)
{
	if (min_ms >= 0 && (t->min_ms < 0 || min_ms < t->min_ms))
		t->min_ms = min_ms;
	if (max_ms >= 0 && max_ms > t->max_ms)
		t->max_ms = max_ms;
}

/* Ids arrive in order, so the tally stays sorted; out of memory marks it with cap (size_t)-1. */
void tally_add(void *user, int64_t id)
{
	struct tally *t = user;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct store_totals *nt = t->cap == (size_t)-1 ? NULL : realloc(t->t, cap * sizeof(*nt));
		if (!nt) {
			t->cap = (size_t)-1;
			return;
		}
		t->t = nt;
		t->cap = cap;
	}
	memset(&t->t[t->n], 0, sizeof(t->t[t->n]));
	t->t[t->n].target_id = id;
	t->t[t->n].min_ms = t->t[t->n].max_ms = -1;
	t->n++;
}void walk_raw_group(void *user, int64_t target_id, int cls, int bucket, uint32_t n, double min_ms, double max_ms,
		      uint32_t up)
{
	struct store_totals *x = tally_find(user, target_id);

	if (!x)
		return;
	if (cls >= 0 && cls < HT_CLASS_COUNT)
		x->counts[cls] += n;
	x->up += up;
	if (bucket >= 0)
		hist_add_bucket(&x->latency, bucket, n);
	walk_add_latency(x, min_ms, max_ms);
}

void walk_rollup_group(void *user, int64_t target_id, const uint32_t *counts, uint32_t up, const struct hist *h,
			 double min_ms, double max_ms)
{
	struct store_totals *x = tally_find(user, target_id);

	if (!x)
		return;
	for (int c = 0; c < HT_CLASS_COUNT; c++)
		x->counts[c] += counts[c];
	x->up += up;
	hist_merge(&x->latency, h);
	walk_add_latency(x, min_ms, max_ms);
}

static int64_t floor_to(int64_t v, int64_t p)
{
	return v / p * p;
}

static int piece(struct store *s, struct tally *t, enum level l, int64_t a, int64_t b, struct ht_err *err)
{
	return (t->piece ? t->piece : store_read_piece)(s, t, l, a, b, err);
}

/* [a, b) from level l, which holds a: its whole periods, the edges from the next finer table
 * wherever that still holds them, else the edge's whole period. */
static int cover(struct store *s, struct tally *t, enum level l, int64_t a, int64_t b, struct ht_err *err)
{
	if (a >= b)
		return 0;
	if (l == LEVEL_RAW)
		return piece(s, t, LEVEL_RAW, a, b, err);
	int64_t p = store_levels[l].period_ms, fine = t->complete[l - 1];
	int64_t lo = a >= fine ? floor_to(a + p - 1, p) : floor_to(a, p);
	int64_t hi = b == INT64_MAX ? INT64_MAX : floor_to(b, p) >= fine ? floor_to(b, p) : floor_to(b + p - 1, p);

	if (lo >= hi)   /* no whole period inside, and the finer table holds all of it */
		return cover(s, t, l - 1, a, b, err);
	if ((a < lo && cover(s, t, l - 1, a, lo, err) < 0) || piece(s, t, l, lo, hi, err) < 0)
		return -1;
	return hi < b ? cover(s, t, l - 1, hi, b, err) : 0;
}

int walk_cover(struct store *s, struct tally *t, int64_t since_ms, int64_t until_ms, enum level *start,
	       struct ht_err *err)
{
	int64_t span = (until_ms == INT64_MAX ? clock_wall_ms() : until_ms) - since_ms;
	/* Long ranges read rollups for speed; a pruned table is never read for what it lost. */
	enum level l = span <= RAW_WINDOW_MAX_MS ? LEVEL_RAW : span <= HOURLY_WINDOW_MAX_MS ? LEVEL_HOUR : LEVEL_DAY;

	while (l < LEVEL_DAY && since_ms < t->complete[l])
		l++;
	*start = l;
	return cover(s, t, l, since_ms, until_ms, err);
}

/* The totals of the tally's targets over [since, until), handed to fn. */
static int aggregate(struct store *s, struct tally *t, int64_t since_ms, int64_t until_ms, store_totals_fn fn,
		     void *user, const char **source, struct ht_err *err)
{
	enum level l;
	int rc = walk_cover(s, t, since_ms, until_ms, &l, err);

	*source = store_levels[l].name;
	for (size_t i = 0; rc == 0 && i < t->n; i++)
		if (t->t[i].counts[0] + t->t[i].counts[1] + t->t[i].counts[2] > 0)
			fn(user, &t->t[i]);
	free(t->t);
	return rc;
}

int store_aggregate(struct store *s, int64_t since_ms, int64_t until_ms, store_totals_fn fn, void *user,
		    const char **source, struct ht_err *err)
{
	struct tally t;

	if (store_tally_init(s, &t, err) < 0) {
		free(t.t);
		return -1;
	}
	return aggregate(s, &t, since_ms, until_ms, fn, user, source, err);
}

struct window_adapter {
	store_window_fn fn;
	void *user;
};

static void window_totals(void *user, const struct store_totals *t)
{
	struct window_adapter *w = user;

	for (int c = 0; c < HT_CLASS_COUNT; c++)
		w->fn(w->user, t->target_id, (enum ht_class)c, -1, t->counts[c]);
	w->fn(w->user, t->target_id, STORE_WINDOW_UP, -1, t->up);
	for (int b = 0; b < HIST_BUCKETS; b++)
		if (t->latency.counts[b])
			w->fn(w->user, t->target_id, (enum ht_class)-1, b, t->latency.counts[b]);
}

void walk_window_end(struct tally *t, store_window_fn fn, void *user)
{
	struct window_adapter w = { fn, user };

	for (size_t i = 0; i < t->n; i++)
		if (t->t[i].counts[0] + t->t[i].counts[1] + t->t[i].counts[2] > 0)
			window_totals(&w, &t->t[i]);
	free(t->t);
	t->t = NULL;
}

int store_window(struct store *s, int64_t since_ms, int64_t now_ms, store_window_fn fn, void *user,
		 struct ht_err *err)
{
	struct window_adapter w = { fn, user };
	const char *source;

	(void)now_ms;   /* the window runs to the newest result, as stats' open-ended range does */
	return store_aggregate(s, since_ms, INT64_MAX, window_totals, &w, &source, err);
}

int store_window_ids(struct store *s, int64_t since_ms, const int64_t *ids, size_t nids, store_window_fn fn,
		     void *user, struct ht_err *err)
{
	struct window_adapter w = { fn, user };
	/* PostgreSQL reads the whole fleet's window and keeps these targets' rows */
	struct tally t = { .t = calloc(nids ? nids : 1, sizeof(*t.t)), .n = nids, .cap = nids, .by_id = true };
	const char *source;

	if (!t.t) {
		ht_err_set(err, "out of memory reading the window");
		return -1;
	}
	for (size_t i = 0; i < nids; i++) {
		t.t[i].target_id = ids[i];
		t.t[i].min_ms = t.t[i].max_ms = -1;
	}
	for (int l = 0; l < LEVEL_COUNT; l++)
		t.complete[l] = store_complete_since(s, store_levels[l].table);
	return aggregate(s, &t, since_ms, INT64_MAX, window_totals, &w, &source, err);
}

void walk_between_group(store_window_fn fn, void *user, int64_t *rows, int64_t id, int cls, int bucket,
			uint32_t n, uint32_t up)
{
	if (cls >= 0 && cls < HT_CLASS_COUNT)
		fn(user, id, (enum ht_class)cls, -1, n);
	if (up)
		fn(user, id, STORE_WINDOW_UP, -1, up);
	if (bucket >= 0)
		fn(user, id, (enum ht_class)-1, bucket, n);
	(*rows)++;
}

/* The read path: a target's recent results, the one reader of windows and aggregates, targets,
 * state changes. */
#include "autoconfig.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/clock.h"
#include "store_priv.h"
#include "store_pg.h"

#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL
#define RAW_WINDOW_MAX_MS (6 * HOUR_MS)
#define HOURLY_WINDOW_MAX_MS (8 * DAY_MS)

enum level { LEVEL_RAW, LEVEL_HOUR, LEVEL_DAY, LEVEL_COUNT };

static const struct {
	const char *table, *name;
	int64_t period_ms;
} levels[LEVEL_COUNT] = {
	{ "result", "raw", 0 }, { "rollup_hour", "hourly", HOUR_MS }, { "rollup_day", "daily", DAY_MS },
};

int store_prepare_read(struct store *s, struct ht_err *err)
{
	static const char recent[] =
		"SELECT target_id, checked_at, status, http_code, response_ms, dns_ms, connect_ms,"
		" tls_ms, ttfb_ms, cert_expiry, reason FROM result"
		" WHERE target_id = ?1 ORDER BY checked_at DESC LIMIT ?2";
	static const char window_raw[] =
		"SELECT target_id, status, ht_bucket(" STORE_LATENCY_SQL "), count(*),"
		" min(" STORE_LATENCY_SQL "), max(" STORE_LATENCY_SQL "), sum(up) FROM result"
		/* else the planner scans all of (target_id, checked_at) to avoid a sort */
		" INDEXED BY result_time WHERE checked_at >= ?1 AND checked_at < ?2 GROUP BY 1, 2, 3";
	/* One target's: seeks in (target_id, checked_at), so a slice of a large fleet reads only its
	 * own rows (store_window_ids). */
	static const char window_raw_id[] =
		"SELECT target_id, status, ht_bucket(" STORE_LATENCY_SQL "), count(*),"
		" min(" STORE_LATENCY_SQL "), max(" STORE_LATENCY_SQL "), sum(up) FROM result"
		" WHERE target_id = ?3 AND checked_at >= ?1 AND checked_at < ?2 GROUP BY 2, 3";
#define WINDOW(name, where) "SELECT target_id, n_healthy, n_degraded, n_down, hist, min_ms, max_ms, n_up FROM " \
		name " WHERE " where "period >= ?1 AND period < ?2"
	const char *const sql[] = { recent, window_raw, WINDOW("rollup_hour", ""), WINDOW("rollup_day", ""),
				    window_raw_id, WINDOW("rollup_hour", "target_id = ?3 AND "),
				    WINDOW("rollup_day", "target_id = ?3 AND ") };
#undef WINDOW
	sqlite3_stmt **const st[] = { &s->recent, &s->window_raw, &s->window_hour, &s->window_day,
				      &s->window_raw_id, &s->window_hour_id, &s->window_day_id };

	return store_prepare_all(s, sql, st, sizeof(sql) / sizeof(sql[0]), err);
}

int store_recent(struct store *s, int64_t target_id, int limit, store_row_fn fn, void *user,
		 struct ht_err *err)
{
	sqlite3_stmt *st = s->recent;
	int rc;

	if (s->pg)
		return store_pg_recent(s, target_id, limit, fn, user, err);
	sqlite3_bind_int64(st, 1, target_id);
	sqlite3_bind_int(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_read_row row = {
			.target_id = sqlite3_column_int64(st, 0),
			.checked_at_ms = sqlite3_column_int64(st, 1),
			.cls = (enum ht_class)sqlite3_column_int(st, 2),
			.http_code = (long)sqlite3_column_int64(st, 3),
			.response_ms = store_column_ms(st, 4),
			.dns_ms = store_column_ms(st, 5),
			.connect_ms = store_column_ms(st, 6),
			.tls_ms = store_column_ms(st, 7),
			.ttfb_ms = store_column_ms(st, 8),
			.cert_expiry = sqlite3_column_int64(st, 9),
			.reason = store_column_str(st, 10),
		};
		fn(user, &row);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(s, err, "reading history");
	return 0;
}

const char *store_window_source(int64_t since_ms, int64_t now_ms)
{
	int64_t span = now_ms - since_ms;

	return levels[span <= RAW_WINDOW_MAX_MS ? LEVEL_RAW : span <= HOURLY_WINDOW_MAX_MS ? LEVEL_HOUR : LEVEL_DAY].name;
}

/* Totals per target, found by id (sorted): the pieces of a range add up here. by_id: only these
 * targets, each read by its own seeks. */
struct tally {
	struct store_totals *t;
	size_t n, cap;
	int64_t complete[LEVEL_COUNT];
	bool by_id;
};

static int cmp_totals(const void *a, const void *b)
{
	int64_t x = ((const struct store_totals *)a)->target_id, y = ((const struct store_totals *)b)->target_id;
	return (x > y) - (x < y);
}

static struct store_totals *tally_find(struct tally *t, int64_t id)
{
	struct store_totals key = { .target_id = id };
	return bsearch(&key, t->t, t->n, sizeof(*t->t), cmp_totals);
}

static void add_latency(struct store_totals *t, double min_ms, double max_ms)
{
	if (min_ms >= 0 && (t->min_ms < 0 || min_ms < t->min_ms))
		t->min_ms = min_ms;
	if (max_ms >= 0 && max_ms > t->max_ms)
		t->max_ms = max_ms;
}

/* Ids arrive in order, so the tally stays sorted; out of memory marks it with cap (size_t)-1. */
static void tally_add(void *user, int64_t id)
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
}

static int tally_init(struct store *s, struct tally *t, struct ht_err *err)
{
	sqlite3_stmt *st;
	int rc = SQLITE_DONE;

	memset(t, 0, sizeof(*t));
	if (s->pg) {
		if (store_pg_target_ids(s, tally_add, t, err) < 0)
			return -1;
	} else {
		if (sqlite3_prepare_v2(s->db, "SELECT id FROM target ORDER BY id", -1, &st, NULL) != SQLITE_OK)
			return store_db_fail(s, err, "listing targets");
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			tally_add(t, sqlite3_column_int64(st, 0));
		sqlite3_finalize(st);
	}
	if (t->cap == (size_t)-1) {
		ht_err_set(err, "out of memory");
		return -1;
	}
	for (int l = 0; l < LEVEL_COUNT; l++)
		t->complete[l] = store_complete_since(s, levels[l].table);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "listing targets");
}

/* Runs st (bound to a range) once, or once per target when the tally reads by id; add takes
 * each row. */
static int run_read(struct store *s, struct tally *t, sqlite3_stmt *st, int (*add)(struct tally *, sqlite3_stmt *),
		    struct ht_err *err)
{
	int rc = SQLITE_DONE;

	for (size_t i = 0; rc == SQLITE_DONE && i < (t->by_id ? t->n : 1); i++) {
		if (t->by_id)
			sqlite3_bind_int64(st, 3, t->t[i].target_id);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			add(t, st);
		sqlite3_reset(st);
	}
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "reading history");
}

static int add_raw(struct tally *t, sqlite3_stmt *st)
{
	struct store_totals *x = tally_find(t, sqlite3_column_int64(st, 0));
	int cls = sqlite3_column_int(st, 1);
	uint32_t n = (uint32_t)sqlite3_column_int64(st, 3);

	if (!x)
		return 0;
	if (cls >= 0 && cls < HT_CLASS_COUNT)
		x->counts[cls] += n;
	x->up += (uint32_t)sqlite3_column_int64(st, 6);
	if (sqlite3_column_type(st, 2) != SQLITE_NULL)
		hist_add_bucket(&x->latency, sqlite3_column_int(st, 2), n);
	add_latency(x, store_column_ms(st, 4), store_column_ms(st, 5));
	return 0;
}

static void raw_group(void *user, int64_t target_id, int cls, int bucket, uint32_t n, double min_ms, double max_ms,
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
	add_latency(x, min_ms, max_ms);
}

static void rollup_group(void *user, int64_t target_id, const uint32_t *counts, uint32_t up, const struct hist *h,
			 double min_ms, double max_ms)
{
	struct store_totals *x = tally_find(user, target_id);

	if (!x)
		return;
	for (int c = 0; c < HT_CLASS_COUNT; c++)
		x->counts[c] += counts[c];
	x->up += up;
	hist_merge(&x->latency, h);
	add_latency(x, min_ms, max_ms);
}

/* Raw results in [a, b). */
static int read_raw(struct store *s, struct tally *t, int64_t a, int64_t b, struct ht_err *err)
{
	sqlite3_stmt *st = t->by_id ? s->window_raw_id : s->window_raw;

	if (s->pg)
		return store_pg_window_raw(s, a, b, raw_group, t, err);
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	return run_read(s, t, st, add_raw, err);
}

static int add_rollup(struct tally *t, sqlite3_stmt *st)
{
	struct store_totals *x = tally_find(t, sqlite3_column_int64(st, 0));

	if (!x)
		return 0;
	for (int c = 0; c < HT_CLASS_COUNT; c++)
		x->counts[c] += (uint32_t)sqlite3_column_int64(st, 1 + c);
	x->up += (uint32_t)sqlite3_column_int64(st, 7);
	/* a damaged histogram adds nothing: the counts above still hold */
	hist_decode_add(&x->latency, sqlite3_column_blob(st, 4), (size_t)sqlite3_column_bytes(st, 4));
	add_latency(x, store_column_ms(st, 5), store_column_ms(st, 6));
	return 0;
}


/* Rollup periods starting in [a, b) (ms; b INT64_MAX for no end). */
static int read_rollup(struct store *s, struct tally *t, enum level l, int64_t a, int64_t b, struct ht_err *err)
{
	sqlite3_stmt *st = l == LEVEL_HOUR ? (t->by_id ? s->window_hour_id : s->window_hour)
					   : (t->by_id ? s->window_day_id : s->window_day);

	if (s->pg)
		return store_pg_window_rollup(s, levels[l].table, a / 1000, b == INT64_MAX ? INT64_MAX : b / 1000,
					      rollup_group, t, err);
	sqlite3_bind_int64(st, 1, a / 1000);
	sqlite3_bind_int64(st, 2, b == INT64_MAX ? INT64_MAX : b / 1000);
	return run_read(s, t, st, add_rollup, err);
}

static int64_t floor_to(int64_t v, int64_t p)
{
	return v / p * p;
}

/* [a, b) from level l, which holds a: its whole periods, the edges from the next finer table
 * wherever that still holds them, else the edge's whole period. */
static int cover(struct store *s, struct tally *t, enum level l, int64_t a, int64_t b, struct ht_err *err)
{
	if (a >= b)
		return 0;
	if (l == LEVEL_RAW)
		return read_raw(s, t, a, b, err);
	int64_t p = levels[l].period_ms, fine = t->complete[l - 1];
	int64_t lo = a >= fine ? floor_to(a + p - 1, p) : floor_to(a, p);
	int64_t hi = b == INT64_MAX ? INT64_MAX : floor_to(b, p) >= fine ? floor_to(b, p) : floor_to(b + p - 1, p);

	if (lo >= hi)   /* no whole period inside, and the finer table holds all of it */
		return cover(s, t, l - 1, a, b, err);
	if ((a < lo && cover(s, t, l - 1, a, lo, err) < 0) || read_rollup(s, t, l, lo, hi, err) < 0)
		return -1;
	return hi < b ? cover(s, t, l - 1, hi, b, err) : 0;
}

/* The totals of the tally's targets over [since, until), handed to fn. */
static int aggregate(struct store *s, struct tally *t, int64_t since_ms, int64_t until_ms, store_totals_fn fn,
		     void *user, const char **source, struct ht_err *err)
{
	int64_t span = (until_ms == INT64_MAX ? clock_wall_ms() : until_ms) - since_ms;
	/* Long ranges read rollups for speed; a pruned table is never read for what it lost. */
	enum level l = span <= RAW_WINDOW_MAX_MS ? LEVEL_RAW : span <= HOURLY_WINDOW_MAX_MS ? LEVEL_HOUR : LEVEL_DAY;
	int rc;

	while (l < LEVEL_DAY && since_ms < t->complete[l])
		l++;
	*source = levels[l].name;
	rc = cover(s, t, l, since_ms, until_ms, err);
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

	if (tally_init(s, &t, err) < 0) {
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
	/* PostgreSQL reads the whole fleet's window and keeps these targets' rows: a caller there
	 * asks for every target at once (monitor_history.c) */
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
		t.complete[l] = store_complete_since(s, levels[l].table);
	return aggregate(s, &t, since_ms, INT64_MAX, window_totals, &w, &source, err);
}

int64_t store_complete_since(struct store *s, const char *table)
{
	char key[64];
	sqlite3_stmt *st;
	int64_t v = 0;

	if (s->pg)
		return store_pg_complete_since(s, table);
	snprintf(key, sizeof(key), "complete_since.%s", table);
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
		return INT64_MAX;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int store_targets(struct store *s, store_target_fn fn, void *user, struct ht_err *err)
{
	sqlite3_stmt *st;
	int rc, stop = 0;

	if (s->pg)
		return store_pg_targets(s, fn, user, err);
	if (sqlite3_prepare_v2(s->db, "SELECT id, name, project, url FROM target ORDER BY project, name", -1, &st, NULL) != SQLITE_OK)
		return store_db_fail(s, err, "listing targets");
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_target t = { sqlite3_column_int64(st, 0), store_column_str(st, 1),
					  store_column_str(st, 2), store_column_str(st, 3) };
		stop = fn(user, &t);
	}
	sqlite3_finalize(st);
	return stop ? stop : rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "listing targets");
}

struct after_ctx {
	int64_t after_id;
	store_target_fn fn;
	void *user;
};

static int target_after(void *user, const struct store_target *t)
{
	const struct after_ctx *c = user;

	return t->id > c->after_id ? c->fn(c->user, t) : 0;
}

int store_targets_after(struct store *s, int64_t after_id, store_target_fn fn, void *user, struct ht_err *err)
{
	struct after_ctx c = { after_id, fn, user };
	sqlite3_stmt *st;
	int rc, stop = 0;

	if (s->pg)   /* the whole listing, filtered: PostgreSQL fleets are read once per config anyway */
		return store_pg_targets(s, target_after, &c, err);
	if (sqlite3_prepare_v2(s->db, "SELECT id, name, project, url FROM target WHERE id > ?1 ORDER BY id", -1, &st,
			       NULL) != SQLITE_OK)
		return store_db_fail(s, err, "listing targets");
	sqlite3_bind_int64(st, 1, after_id);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_target t = { sqlite3_column_int64(st, 0), store_column_str(st, 1),
					  store_column_str(st, 2), store_column_str(st, 3) };
		stop = fn(user, &t);
	}
	sqlite3_finalize(st);
	return stop ? stop : rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "listing targets");
}

int store_changes(struct store *s, int64_t until_ms, store_change_fn fn, void *user, struct ht_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (s->pg)
		return store_pg_changes(s, until_ms, fn, user, err);
	if (sqlite3_prepare_v2(s->db, "SELECT target_id, at, from_status, to_status FROM state_change"
			       " WHERE at < ?1 ORDER BY target_id, at", -1, &st, NULL) != SQLITE_OK)
		return store_db_fail(s, err, "reading state changes");
	sqlite3_bind_int64(st, 1, until_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(user, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int(st, 2),
		   sqlite3_column_int(st, 3));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "reading state changes");
}

static int64_t query_i64(struct store *s, const char *sql, int64_t arg, int64_t fallback)
{
	sqlite3_stmt *st;
	int64_t v = fallback;

	if (s->pg)
		return store_pg_query_i64(s, sql, arg, fallback);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fallback;
	sqlite3_bind_int64(st, 1, arg);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int64_t store_first_seen(struct store *s, int64_t target_id)
{
	/* From the most precise table that still holds the target's beginning: a rollup period
	 * starts before the first check in it. */
	static const char *const sql[LEVEL_COUNT] = {
		"SELECT min(checked_at) FROM result WHERE target_id = ?1",
		"SELECT min(period) * 1000 FROM rollup_hour WHERE target_id = ?1",
		"SELECT min(period) * 1000 FROM rollup_day WHERE target_id = ?1",
	};

	for (int l = 0; l < LEVEL_COUNT; l++) {
		int64_t v = query_i64(s, sql[l], target_id, INT64_MAX);
		if (v != INT64_MAX && (store_complete_since(s, levels[l].table) == 0 || l == LEVEL_DAY))
			return v;
	}
	return 0;
}

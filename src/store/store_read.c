/* The read path: a target's recent results, the one reader of windows and aggregates, targets,
 * state changes. */
#include "autoconfig.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/clock.h"
#include "store_priv.h"
#include "store_pg.h"
#include "store_walk.h"


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

int store_tally_init(struct store *s, struct tally *t, struct ht_err *err)
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
		t->complete[l] = store_complete_since(s, store_levels[l].table);
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
	walk_add_latency(x, store_column_ms(st, 4), store_column_ms(st, 5));
	return 0;
}

/* Raw results in [a, b). */
static int read_raw(struct store *s, struct tally *t, int64_t a, int64_t b, struct ht_err *err)
{
	sqlite3_stmt *st = t->by_id ? s->window_raw_id : s->window_raw;

	if (s->pg)
		return store_pg_window_raw(s, a, b, walk_raw_group, t, err);
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
	walk_add_latency(x, store_column_ms(st, 5), store_column_ms(st, 6));
	return 0;
}

/* Rollup periods starting in [a, b) (ms; b INT64_MAX for no end). */
static int read_rollup(struct store *s, struct tally *t, enum level l, int64_t a, int64_t b, struct ht_err *err)
{
	sqlite3_stmt *st = l == LEVEL_HOUR ? (t->by_id ? s->window_hour_id : s->window_hour)
					   : (t->by_id ? s->window_day_id : s->window_day);

	if (s->pg)
		return store_pg_window_rollup(s, store_levels[l].table, a / 1000, b == INT64_MAX ? INT64_MAX : b / 1000,
					      walk_rollup_group, t, err);
	sqlite3_bind_int64(st, 1, a / 1000);
	sqlite3_bind_int64(st, 2, b == INT64_MAX ? INT64_MAX : b / 1000);
	return run_read(s, t, st, add_rollup, err);
}

int store_read_piece(struct store *s, struct tally *t, enum level l, int64_t a, int64_t b, struct ht_err *err)
{
	return l == LEVEL_RAW ? read_raw(s, t, a, b, err) : read_rollup(s, t, l, a, b, err);
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
		if (v != INT64_MAX && (store_complete_since(s, store_levels[l].table) == 0 || l == LEVEL_DAY))
			return v;
	}
	return 0;
}

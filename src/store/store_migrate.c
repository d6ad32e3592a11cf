/* The migration's puts (store_migrate.h) on SQLite, handing over to store_pg_migrate.c on
 * PostgreSQL. Statements are prepared per call: a migration is run once, and its time goes to
 * the rows, not the parsing. */
#include "autoconfig.h"
#include <stdio.h>
#include "healthtop/store/store_migrate.h"
#include "store_priv.h"
#include "store_pg.h"

static int run(struct store *s, sqlite3_stmt *st, const char *what, struct ht_err *err)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_db_fail(s, err, what);
}

static sqlite3_stmt *prepare(struct store *s, const char *sql, const char *what, struct ht_err *err)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_db_fail(s, err, what);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

int store_first_raw(struct store *s, int64_t target_id, int64_t *at_ms, struct ht_err *err)
{
	if (s->pg)
		return store_pg_first_raw(s, target_id, at_ms, err);
	sqlite3_stmt *st = prepare(s, "SELECT min(checked_at) FROM result WHERE target_id = ?1", "reading", err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, target_id);
	int rc = sqlite3_step(st);
	*at_ms = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL ? sqlite3_column_int64(st, 0) : INT64_MAX;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store_db_fail(s, err, "reading the oldest result");
}

static int64_t url_id_of(struct store *s, const char *url, struct ht_err *err)
{
	sqlite3_stmt *st = prepare(s, "INSERT INTO checked_url(url) VALUES(?1) ON CONFLICT(url)"
				   " DO UPDATE SET url = excluded.url RETURNING id", "recording a URL", err);
	int64_t id = -1;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (id < 0)
		store_db_fail(s, err, "recording a URL");
	return id;
}

int store_rollup_put(struct store *s, int period_s, int64_t target_id, const struct store_rollup *r,
		     struct ht_err *err)
{
	char sql[320];
	unsigned char blob[HIST_BLOB_MAX];

	if (s->pg)
		return store_pg_rollup_put(s, period_s, target_id, r, err);
	int64_t url = r->url ? url_id_of(s, r->url, err) : 0;
	if (url < 0)
		return -1;
	snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO %s(target_id, period, n_healthy, n_degraded, n_down,"
		 " n_latency, sum_ms, min_ms, max_ms, hist, url_id, n_up) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
		 " ?10, ?11, ?12)", period_s == 3600 ? "rollup_hour" : "rollup_day");
	sqlite3_stmt *st = prepare(s, sql, "copying a rollup", err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, target_id);
	sqlite3_bind_int64(st, 2, r->period_start_ms / 1000);
	for (int c = 0; c < HT_CLASS_COUNT; c++)
		sqlite3_bind_int64(st, 3 + c, r->counts[c]);
	sqlite3_bind_int64(st, 6, r->n_latency);
	sqlite3_bind_double(st, 7, r->sum_ms);
	if (r->min_ms >= 0)
		sqlite3_bind_double(st, 8, r->min_ms);
	if (r->max_ms >= 0)
		sqlite3_bind_double(st, 9, r->max_ms);
	sqlite3_bind_blob(st, 10, blob, (int)hist_encode(&r->latency, blob, sizeof(blob)), SQLITE_STATIC);
	if (url > 0)
		sqlite3_bind_int64(st, 11, url);
	sqlite3_bind_int64(st, 12, r->n_up);
	return run(s, st, "copying a rollup", err);
}

int store_change_put(struct store *s, int64_t target_id, int64_t at_ms, int from, int to, struct ht_err *err)
{
	if (s->pg)
		return store_pg_change_put(s, target_id, at_ms, from, to, err);
	sqlite3_stmt *st = prepare(s, "INSERT INTO state_change SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS"
				   " (SELECT 1 FROM state_change WHERE target_id = ?1 AND at = ?2)",
				   "copying a state change", err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, target_id);
	sqlite3_bind_int64(st, 2, at_ms);
	sqlite3_bind_int(st, 3, from);
	sqlite3_bind_int(st, 4, to);
	if (run(s, st, "copying a state change", err) < 0)
		return -1;
	return sqlite3_changes(s->db) > 0;
}

int store_migrate_begin(struct store *s, struct ht_err *err)
{
	if (s->pg)
		return store_pg_run(s, "BEGIN", 0, NULL, "starting to copy history", err);
	return store_tx_begin(s, "starting to copy history", err);
}

int store_migrate_end(struct store *s, bool ok, struct ht_err *err)
{
	struct ht_err ignored;

	if (s->pg && ok && store_pg_put_end(s, err) < 0)
		ok = false;
	if (!ok && s->pg) {   /* err already says why: the rollback's own outcome adds nothing */
		store_pg_put_discard(s);
		store_pg_run(s, "ROLLBACK", 0, NULL, "copying history", &ignored);
	}
	else if (!ok)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	if (!ok)
		return -1;
	if (s->pg)
		return store_pg_run(s, "COMMIT", 0, NULL, "copying history", err);
	return store_tx_end(s, true, "copying history", err);
}

/* The migration's puts (store_migrate.h) on PostgreSQL. A rollup is kept as deltas
 * (store_pg_open.c): putting a whole one deletes the period's deltas and writes one row. Rollups
 * are put in batches, the last at store_pg_put_end (store_migrate_end). */
#include "autoconfig.h"
#include <stdio.h>
#include <stdlib.h>
#include "healthtop/store/store_migrate.h"
#include "store_priv.h"
#include "store_pg.h"

int store_pg_first_raw(struct store *s, int64_t target_id, int64_t *at_ms, struct ht_err *err)
{
	char id[24];
	const char *p[] = { id };

	snprintf(id, sizeof(id), "%lld", (long long)target_id);
	PGresult *r = store_pg_exec(s, "SELECT min(checked_at) FROM result WHERE target_id = $1::bigint", 1, p,
				    "reading the oldest result", err);
	if (!r)
		return -1;
	*at_ms = PQntuples(r) && !PQgetisnull(r, 0, 0) ? store_pg_i64(r, 0, 0) : INT64_MAX;
	PQclear(r);
	return 0;
}

/* {"12": 3, "40": 1}: the form store_pg_hist_add reads back. */
static void hist_json(struct sbuf *b, const struct hist *h)
{
	sb_put(b, "{", 1);
	for (int i = 0, first = 1; i < HIST_BUCKETS; i++) {
		if (!h->counts[i])
			continue;
		sb_printf(b, "%s\"%d\": %u", first ? "" : ", ", i, h->counts[i]);
		first = 0;
	}
	sb_put(b, "}", 1);   /* sb_put keeps the text NUL-terminated */
}

#define PUT_BATCH 5000

/* The rows put so far go in with one binary COPY into a temporary table, then replace their
 * periods in two statements: a statement a row cost 2 ms (500 rows/s; a year of hourly rollups
 * for 1 000 targets would have taken 5 hours). */
static int put_flush(struct store *s, struct ht_err *err)
{
	static const char *const sql[] = {
		"CREATE TEMP TABLE IF NOT EXISTS ht_put_rollup(kind smallint, target_id bigint, period bigint,"
		" n_healthy integer, n_degraded integer, n_down integer, n_up integer, n_latency integer,"
		" sum_ms double precision, min_ms double precision, max_ms double precision, hist text, url text)",
		NULL,   /* the COPY */
		"INSERT INTO checked_url(url) SELECT DISTINCT url FROM ht_put_rollup WHERE url IS NOT NULL"
		" ON CONFLICT (url) DO NOTHING",
		"DELETE FROM rollup r USING ht_put_rollup p WHERE r.kind = p.kind AND r.target_id = p.target_id"
		" AND r.period = p.period",
		"INSERT INTO rollup(kind, target_id, period, n_healthy, n_degraded, n_down, n_up, n_latency, sum_ms,"
		" min_ms, max_ms, hist, url_id, last_at) SELECT p.kind, p.target_id, p.period, p.n_healthy,"
		" p.n_degraded, p.n_down, p.n_up, p.n_latency, p.sum_ms, p.min_ms, p.max_ms, p.hist, u.id,"
		" p.period * 1000 FROM ht_put_rollup p LEFT JOIN checked_url u ON u.url = p.url",
		"TRUNCATE ht_put_rollup",
	};
	struct store_pg *pg = s->pg;
	int rc = 0;

	if (!pg->put_rows)
		return 0;
	sb_copy_end(&pg->put);
	if (pg->put.oom) {
		ht_err_set(err, "out of memory");
		rc = -1;
	}
	for (size_t i = 0; rc == 0 && i < sizeof(sql) / sizeof(sql[0]); i++)
		rc = sql[i] ? store_pg_run(s, sql[i], 0, NULL, "copying rollups", err)
			    : store_pg_copy_in(s, "COPY ht_put_rollup FROM STDIN (FORMAT binary)", &pg->put,
					       "copying rollups", err);
	store_pg_put_discard(s);
	return rc;
}

void store_pg_put_discard(struct store *s)
{
	free(s->pg->put.p);
	s->pg->put = (struct sbuf){ 0 };
	s->pg->put_rows = 0;
}

int store_pg_put_end(struct store *s, struct ht_err *err)
{
	return put_flush(s, err);
}

int store_pg_rollup_put(struct store *s, int period_s, int64_t target_id, const struct store_rollup *r,
			struct ht_err *err)
{
	struct store_pg *pg = s->pg;
	struct sbuf hist = { 0 }, *b = &pg->put;

	if (!pg->put_rows)
		sb_copy_begin(b);
	sb_tuple(b, 13);
	sb_field_i16(b, period_s == 3600 ? 0 : 1);
	sb_i64(b, target_id);
	sb_i64(b, r->period_start_ms / 1000);
	for (int c = 0; c < HT_CLASS_COUNT; c++)
		sb_i32(b, (int32_t)r->counts[c]);
	sb_i32(b, (int32_t)r->n_up);
	sb_i32(b, (int32_t)r->n_latency);
	sb_f64(b, r->sum_ms);
	if (r->min_ms >= 0)
		sb_f64(b, r->min_ms);
	else
		sb_null(b);
	if (r->max_ms >= 0)
		sb_f64(b, r->max_ms);
	else
		sb_null(b);
	hist_json(&hist, &r->latency);
	sb_str(b, hist.p ? hist.p : "{}");
	free(hist.p);
	if (r->url)
		sb_str(b, r->url);
	else
		sb_null(b);
	pg->put.oom |= hist.oom;
	return ++pg->put_rows >= PUT_BATCH ? put_flush(s, err) : 0;
}

int store_pg_change_put(struct store *s, int64_t target_id, int64_t at_ms, int from, int to, struct ht_err *err)
{
	char v[4][24];
	const char *p[] = { v[0], v[1], v[2], v[3] };

	snprintf(v[0], 24, "%lld", (long long)target_id);
	snprintf(v[1], 24, "%lld", (long long)at_ms);
	snprintf(v[2], 24, "%d", from);
	snprintf(v[3], 24, "%d", to);
	PGresult *r = store_pg_exec(s, "INSERT INTO state_change SELECT $1::bigint, $2::bigint, $3::smallint,"
				    " $4::smallint WHERE NOT EXISTS (SELECT 1 FROM state_change WHERE target_id = $1::bigint"
				    " AND at = $2::bigint)", 4, p, "copying a state change", err);
	if (!r)
		return -1;
	int added = atoi(PQcmdTuples(r)) > 0;
	PQclear(r);
	return added;
}

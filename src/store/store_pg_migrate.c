/* The migration's puts (store_migrate.h) on PostgreSQL. A rollup is kept as deltas
 * (store_pg_open.c): putting a whole one deletes the period's deltas and writes one row. */
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
	sb_put(b, "}", 2);   /* with the terminating NUL */
}

int store_pg_rollup_put(struct store *s, int period_s, int64_t target_id, const struct store_rollup *r,
			struct ht_err *err)
{
	static const char sql[] =
		"WITH gone AS (DELETE FROM rollup WHERE kind = $1::smallint AND target_id = $2::bigint"
		" AND period = $3::bigint), u AS (INSERT INTO checked_url(url) SELECT $13::text WHERE $13::text IS NOT NULL"
		" ON CONFLICT (url) DO UPDATE SET url = excluded.url RETURNING id)"
		" INSERT INTO rollup(kind, target_id, period, n_healthy, n_degraded, n_down, n_up, n_latency, sum_ms,"
		" min_ms, max_ms, hist, url_id, last_at) SELECT $1::smallint, $2::bigint, $3::bigint, $4::integer,"
		" $5::integer, $6::integer, $7::integer, $8::integer, $9::float8, $10::float8, $11::float8, $12,"
		" (SELECT id FROM u), $3::bigint * 1000";
	char v[11][32];
	const char *p[13];
	struct sbuf hist = { 0 };

	snprintf(v[0], 32, "%d", period_s == 3600 ? 0 : 1);
	snprintf(v[1], 32, "%lld", (long long)target_id);
	snprintf(v[2], 32, "%lld", (long long)(r->period_start_ms / 1000));
	for (int c = 0; c < HT_CLASS_COUNT; c++)
		snprintf(v[3 + c], 32, "%u", r->counts[c]);
	snprintf(v[6], 32, "%u", r->n_up);
	snprintf(v[7], 32, "%u", r->n_latency);
	snprintf(v[8], 32, "%.17g", r->sum_ms);
	snprintf(v[9], 32, "%.17g", r->min_ms);
	snprintf(v[10], 32, "%.17g", r->max_ms);
	for (int i = 0; i < 11; i++)
		p[i] = v[i];
	p[9] = r->min_ms >= 0 ? v[9] : NULL;
	p[10] = r->max_ms >= 0 ? v[10] : NULL;
	hist_json(&hist, &r->latency);
	p[11] = hist.p;
	p[12] = r->url;
	int rc = hist.oom ? -1 : store_pg_run(s, sql, 13, p, "copying a rollup", err);
	if (hist.oom)
		ht_err_set(err, "out of memory");
	free(hist.p);
	return rc;
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

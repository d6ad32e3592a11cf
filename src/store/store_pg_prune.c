/* PostgreSQL retention: raw results go a whole day partition at a time (a DROP, never a
 * DELETE of rows), rollups and state changes in bounded deletes as in SQLite; and the rollup
 * deltas of recent periods are folded into one row per key. */
#include "autoconfig.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "store_priv.h"
#include "store_pg.h"

#define DAY_MS 86400000LL

static int mark_complete_since(struct store *s, const char *table, int64_t ms, struct ht_err *err)
{
	char key[64], v[24];
	const char *p[] = { key, v };

	snprintf(key, sizeof(key), "complete_since.%s", table);
	snprintf(v, sizeof(v), "%lld", (long long)ms);
	return store_pg_run(s, "INSERT INTO meta VALUES($1, $2) ON CONFLICT(key) DO UPDATE"
			    " SET value = greatest(meta.value, excluded.value)", 2, p, "pruning old history", err);
}

/* Whole days before cut_ms go: their partitions are dropped, never rows deleted. */
static int drop_days(struct store *s, int64_t cut_ms, int *dropped, struct ht_err *err)
{
	static const char sql[] = "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
				  " WHERE i.inhparent = 'result'::regclass ORDER BY 1";
	PGresult *r = store_pg_exec(s, sql, 0, NULL, "listing day partitions", err);
	int64_t whole_from = 0;
	int rc = 0;

	for (int i = 0; r && rc == 0 && i < PQntuples(r); i++) {
		struct tm tm = { 0 };
		const char *name = PQgetvalue(r, i, 0);
		if (strncmp(name, "result_p", 8) != 0 || !strptime(name + 8, "%Y%m%d", &tm))
			continue;
		int64_t day = (int64_t)timegm(&tm) / 86400;
		if ((day + 1) * DAY_MS > cut_ms)
			continue;
		char drop[96];
		snprintf(drop, sizeof(drop), "DROP TABLE %s", name);
		rc = store_pg_run(s, drop, 0, NULL, "dropping a day partition", err);
		for (size_t k = 0; rc == 0 && k < s->pg->ndays; k++)
			if (s->pg->days[k] == day)
				s->pg->days[k] = s->pg->days[--s->pg->ndays];
		whole_from = (day + 1) * DAY_MS;
		(*dropped)++;
	}
	if (!r)
		return -1;
	PQclear(r);
	if (rc == 0 && whole_from)
		rc = mark_complete_since(s, "result", whole_from, err);
	return rc;
}

static int prune_table(struct store *s, const char *table, const char *col, int64_t before, int64_t cut_ms,
		       int limit, int *deleted, struct ht_err *err)
{
	char sql[256], b[24], l[16];
	const char *p[] = { b, l };

	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE ctid = ANY(ARRAY(SELECT ctid FROM %s WHERE %s < $1::bigint"
		 " LIMIT $2::integer))", table, table, col);
	snprintf(b, sizeof(b), "%lld", (long long)before);
	snprintf(l, sizeof(l), "%d", limit);
	PGresult *r = store_pg_exec(s, sql, 2, p, "pruning old history", err);
	if (!r)
		return -1;
	int n = atoi(PQcmdTuples(r));
	PQclear(r);
	*deleted += n;
	return n > 0 ? mark_complete_since(s, table, cut_ms, err) : 0;
}

/* Folds the deltas of every key (target, period) since since_s that has several into one row:
 * readers add deltas up either way; this keeps the tables one row per key, as SQLite's are. */
static int compact(struct store *s, const char *table, int64_t since_s, struct ht_err *err)
{
	char sql[1536], a[24];
	const char *p[] = { a };

	snprintf(a, sizeof(a), "%lld", (long long)since_s);
	snprintf(sql, sizeof(sql),
		 "WITH d AS (DELETE FROM %1$s WHERE period >= $1::bigint AND (target_id, period) IN"
		 " (SELECT target_id, period FROM %1$s WHERE period >= $1::bigint GROUP BY 1, 2 HAVING count(*) > 1)"
		 " RETURNING *),"
		 " h AS (SELECT target_id, period, jsonb_object_agg(key, n) AS hist FROM (SELECT target_id, period, key,"
		 " sum(value::bigint) AS n FROM d, jsonb_each_text(d.hist::jsonb) GROUP BY 1, 2, 3) b GROUP BY 1, 2)"
		 " INSERT INTO %1$s(target_id, period, n_healthy, n_degraded, n_down, n_up, n_latency, sum_ms, min_ms,"
		 " max_ms, hist, url_id, last_at) SELECT d.target_id, d.period, sum(n_healthy), sum(n_degraded),"
		 " sum(n_down), sum(n_up), sum(n_latency), sum(sum_ms), min(min_ms), max(max_ms),"
		 " coalesce(min(h.hist::text), '{}'), (array_agg(url_id ORDER BY last_at DESC))[1], max(last_at)"
		 " FROM d LEFT JOIN h USING (target_id, period) GROUP BY 1, 2", table);
	return store_pg_run(s, sql, 1, p, "compacting rollups", err);
}

int store_pg_prune_step(struct store *s, const struct store_retention *r, int64_t now_ms, int limit, int *deleted,
			struct ht_err *err)
{
	int64_t raw_cut = now_ms - r->raw_days * DAY_MS, hour_cut = now_ms - r->hourly_days * DAY_MS;
	int64_t day_cut = now_ms - r->daily_days * DAY_MS;
	int rc = 0;

	*deleted = 0;
	if (store_pg_run(s, "BEGIN", 0, NULL, "starting to prune", err) < 0)
		return -1;
	/* a partition dropped counts as one: the caller's "call again while it deletes limit" holds */
	if (r->raw_days > 0)
		rc = drop_days(s, raw_cut, deleted, err);
	if (rc == 0 && r->hourly_days > 0 && *deleted < limit)
		rc = prune_table(s, "rollup_hour", "period", hour_cut / 1000 - 3600, hour_cut, limit - *deleted,
				 deleted, err);
	if (rc == 0 && r->daily_days > 0 && *deleted < limit)
		rc = prune_table(s, "rollup_day", "period", day_cut / 1000 - 86400, day_cut, limit - *deleted,
				 deleted, err);
	if (rc == 0 && r->daily_days > 0)
		rc = prune_table(s, "state_change", "at", day_cut, day_cut, limit, deleted, err);
	/* deltas of the last two days: older keys were folded by an earlier step */
	if (rc == 0)
		rc = compact(s, "rollup_hour", now_ms / 1000 - 2 * 86400, err);
	if (rc == 0)
		rc = compact(s, "rollup_day", now_ms / 1000 / 86400 * 86400 - 2 * 86400, err);
	if (rc == 0 && store_pg_run(s, "COMMIT", 0, NULL, "pruning old history", err) == 0)
		return 0;
	PQclear(PQexec(s->pg->conn, "ROLLBACK"));
	/* partitions dropped in the rolled-back transaction are back: forget the cache */
	s->pg->ndays = 0;
	return -1;
}

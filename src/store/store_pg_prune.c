/* PostgreSQL retention: raw results go a whole day partition at a time (a DROP, never a
 * DELETE of rows), rollups and state changes in bounded deletes as in SQLite; the fresh rollup
 * deltas are folded into the hourly and daily tables, and the deltas of recent periods into one
 * row per key. */
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

/* table is where the rows are; level names it for readers (store_read.c's complete_since). */
static int prune_table(struct store *s, const char *table, const char *level, const char *col, int64_t before,
		       int64_t cut_ms, int limit, int *deleted, struct ht_err *err)
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
	return n > 0 ? mark_complete_since(s, level, cut_ms, err) : 0;
}

/* The fresh deltas (one per batch and target-hour, schema 5) become one hourly and one daily
 * delta per key: DELETE ... RETURNING takes only rows committed and not taken by another
 * poller's fold, so each is counted once, and a reader sees it before or after, never both. */
int store_pg_fold_fresh(struct store *s, struct ht_err *err)
{
	/* Each fresh row's histogram is parsed once (json: jsonb's binary form is not needed to add
	 * counts up), its hour's sums made once, and the day's made from the hours': 2.3 s for
	 * 500 000 fresh rows where compacting the two deltas per result they replace took 5.3 s. */
#define DAY_OF(l) " CASE WHEN " l ".kind = 0 THEN period ELSE period - period % 86400 END AS period"
	static const char sql[] =
		"WITH f AS (DELETE FROM rollup_fresh RETURNING *),"
		" b AS (SELECT target_id, period, key, sum(value::bigint) AS n FROM f, json_each_text(f.hist::json)"
		" GROUP BY 1, 2, 3),"
		" hh AS (SELECT target_id, period, sum(n_healthy) AS n_healthy, sum(n_degraded) AS n_degraded,"
		" sum(n_down) AS n_down, sum(n_up) AS n_up, sum(n_latency) AS n_latency, sum(sum_ms) AS sum_ms,"
		" min(min_ms) AS min_ms, max(max_ms) AS max_ms, (array_agg(url_id ORDER BY last_at DESC))[1] AS url_id,"
		" max(last_at) AS last_at FROM f GROUP BY 1, 2),"
		" k AS (SELECT l.kind, target_id," DAY_OF("l") ", n_healthy, n_degraded, n_down, n_up, n_latency,"
		" sum_ms, min_ms, max_ms, url_id, last_at FROM hh CROSS JOIN (VALUES (0), (1)) AS l(kind)),"
		" h AS (SELECT kind, target_id, period, json_object_agg(key, n) AS hist FROM (SELECT l.kind, target_id,"
		DAY_OF("l") ", key, sum(n) AS n FROM b CROSS JOIN (VALUES (0), (1)) AS l(kind) GROUP BY 1, 2, 3, 4) bk"
		" GROUP BY 1, 2, 3)"
		" INSERT INTO rollup(kind, target_id, period, n_healthy, n_degraded, n_down, n_up, n_latency, sum_ms,"
		" min_ms, max_ms, hist, url_id, last_at) SELECT k.kind, k.target_id, k.period, sum(n_healthy),"
		" sum(n_degraded), sum(n_down), sum(n_up), sum(n_latency), sum(sum_ms), min(min_ms), max(max_ms),"
		" coalesce(min(h.hist::text), '{}'), (array_agg(url_id ORDER BY last_at DESC))[1], max(last_at)"
		" FROM k LEFT JOIN h USING (kind, target_id, period) GROUP BY 1, 2, 3";
#undef DAY_OF

	return store_pg_run(s, sql, 0, NULL, "folding fresh rollups", err);
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
	rc = store_pg_fold_fresh(s, err);
	/* a partition dropped counts as one: the caller's "call again while it deletes limit" holds */
	if (rc == 0 && r->raw_days > 0)
		rc = drop_days(s, raw_cut, deleted, err);
	if (rc == 0 && r->hourly_days > 0 && *deleted < limit)
		rc = prune_table(s, "rollup_h", "rollup_hour", "period", hour_cut / 1000 - 3600, hour_cut,
				 limit - *deleted, deleted, err);
	if (rc == 0 && r->daily_days > 0 && *deleted < limit)
		rc = prune_table(s, "rollup_d", "rollup_day", "period", day_cut / 1000 - 86400, day_cut,
				 limit - *deleted, deleted, err);
	if (rc == 0 && r->daily_days > 0)
		rc = prune_table(s, "state_change", "state_change", "at", day_cut, day_cut, limit, deleted, err);
	/* deltas of the last two days: older keys were folded by an earlier step */
	if (rc == 0)
		rc = compact(s, "rollup_h", now_ms / 1000 - 2 * 86400, err);
	if (rc == 0)
		rc = compact(s, "rollup_d", now_ms / 1000 / 86400 * 86400 - 2 * 86400, err);
	if (rc == 0 && store_pg_run(s, "COMMIT", 0, NULL, "pruning old history", err) == 0)
		return 0;
	PQclear(PQexec(s->pg->conn, "ROLLBACK"));
	/* partitions dropped in the rolled-back transaction are back: forget the cache */
	s->pg->ndays = 0;
	return -1;
}

/* The PostgreSQL write path: a batch of results goes in with COPY (raw rows straight into the
 * day-partitioned result table; its rollup deltas, summed here, appended to the rollup tables;
 * its state changes, found against a per-target cache), all in one transaction. Pruning drops
 * whole day partitions and folds each rollup key's deltas into one row. */
#include "autoconfig.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "store_priv.h"
#include "store_pg.h"

#define DAY_MS 86400000LL
#define CACHE_MAX_ID 10000000

int store_pg_target_id(struct store *s, const char *name, const char *project, const char *url, int64_t *id,
		       struct ht_err *err)
{
	static const char sql[] =
		"INSERT INTO target(name, project, url) VALUES($1, $2, $3)"
		" ON CONFLICT(name) DO UPDATE SET project = excluded.project, url = excluded.url RETURNING id";
	const char *p[] = { name, project, url };
	PGresult *r = store_pg_exec(s, sql, 3, p, "recording target", err);

	if (!r)
		return -1;
	*id = store_pg_i64(r, 0, 0);
	PQclear(r);
	return 0;
}

static int cache_grow(struct store_pg *pg, int64_t id)
{
	if (id < 0 || id > CACHE_MAX_ID)
		return -1;
	if ((size_t)id < pg->ncache)
		return 0;
	size_t n = (size_t)id * 2 + 16;
	signed char *lc = realloc(pg->last_cls, n);
	if (lc)
		pg->last_cls = lc;
	int64_t *ui = lc ? realloc(pg->url_id, n * sizeof(*ui)) : NULL;
	if (ui)
		pg->url_id = ui;
	char **ut = ui ? realloc(pg->url_text, n * sizeof(*ut)) : NULL;
	if (!ut)
		return -1;
	pg->url_text = ut;
	memset(pg->last_cls + pg->ncache, -2, n - pg->ncache);
	memset(pg->url_id + pg->ncache, 0, (n - pg->ncache) * sizeof(*ui));
	memset(pg->url_text + pg->ncache, 0, (n - pg->ncache) * sizeof(*ut));
	pg->ncache = n;
	return 0;
}

static bool url_cached(const struct store_pg *pg, const struct store_row *r)
{
	return r->url && pg->url_id[r->target_id] && strcmp(pg->url_text[r->target_id], r->url) == 0;
}

/* The checked_url id of a row's URL (NULL: the target's current one); committed at once, so a
 * rolled-back batch never leaves the cache naming a row that is not there. */
static int64_t url_id(struct store *s, const struct store_row *r, struct ht_err *err)
{
	struct store_pg *pg = s->pg;
	char tid[24];
	const char *p[] = { r->url, tid };
	static const char sql[] =
		"INSERT INTO checked_url(url) VALUES(coalesce($1, (SELECT url FROM target WHERE id = $2::bigint)))"
		" ON CONFLICT(url) DO UPDATE SET url = excluded.url RETURNING id";

	if (url_cached(pg, r))
		return pg->url_id[r->target_id];
	snprintf(tid, sizeof(tid), "%lld", (long long)r->target_id);
	PGresult *res = store_pg_exec(s, sql, 2, p, "recording a checked URL", err);
	if (!res)
		return -1;
	int64_t id = store_pg_i64(res, 0, 0);
	PQclear(res);
	char *copy = r->url ? strdup(r->url) : NULL;
	if (copy) {
		free(pg->url_text[r->target_id]);
		pg->url_text[r->target_id] = copy;
		pg->url_id[r->target_id] = id;
	}
	return id;
}

static void day_name(int64_t day, char *out, size_t size)
{
	time_t t = (time_t)(day * 86400);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, size, "result_p%Y%m%d", &tm);
}

static bool day_known(const struct store_pg *pg, int64_t day)
{
	for (size_t i = 0; i < pg->ndays; i++)
		if (pg->days[i] == day)
			return true;
	return false;
}

/* The day's partition exists (and the next day's, made ahead so a batch at midnight finds it). */
static int ensure_day(struct store *s, int64_t day, struct ht_err *err)
{
	struct store_pg *pg = s->pg;

	for (int64_t d = day; d <= day + 1; d++) {
		char name[32], sql[256];
		if (day_known(pg, d))
			continue;
		day_name(d, name, sizeof(name));
		/* IF NOT EXISTS alone races: two pollers starting on a new day both create, and the
		 * second fails with "already exists". The lock makes the second wait and then see it. */
		snprintf(sql, sizeof(sql), "DO $$BEGIN PERFORM pg_advisory_xact_lock(%d); CREATE TABLE IF NOT EXISTS %s"
			 " PARTITION OF result FOR VALUES FROM (%lld) TO (%lld); END$$", STORE_PG_PARTITION_LOCK, name,
			 (long long)(d * DAY_MS), (long long)((d + 1) * DAY_MS));
		if (store_pg_run(s, sql, 0, NULL, "creating a day partition", err) < 0)
			return -1;
		if (pg->ndays == pg->days_cap) {
			size_t cap = pg->days_cap ? pg->days_cap * 2 : 16;
			int64_t *nd = realloc(pg->days, cap * sizeof(*nd));
			if (!nd)
				return 0;   /* only the cache is lost: the partition is there */
			pg->days = nd;
			pg->days_cap = cap;
		}
		pg->days[pg->ndays++] = d;
	}
	return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Reads the last class of every target in the batch not yet in the cache, in one query. */
static int load_last_classes(struct store *s, const struct store_row *rows, size_t n, struct ht_err *err)
{
	static const char sql[] =
		"SELECT t, coalesce((SELECT status FROM result WHERE target_id = t ORDER BY checked_at DESC LIMIT 1),"
		" (SELECT to_status FROM state_change WHERE target_id = t ORDER BY at DESC LIMIT 1), -1)"
		" FROM unnest($1::bigint[]) AS t";
	struct sbuf ids = { 0 };
	int rc = 0;

	sb_put(&ids, "{", 1);
	for (size_t i = 0; i < n; i++)
		if (s->pg->last_cls[rows[i].target_id] == -2)
			sb_printf(&ids, "%s%lld", ids.len > 1 ? "," : "", (long long)rows[i].target_id);
	sb_put(&ids, "}", 1);
	if (ids.oom) {
		ht_err_set(err, "out of memory");
		rc = -1;
	} else if (ids.len > 2) {
		const char *p[] = { ids.p };
		PGresult *r = store_pg_exec(s, sql, 1, p, "reading last states", err);
		for (int i = 0; r && i < PQntuples(r); i++)
			s->pg->last_cls[store_pg_i64(r, i, 0)] = (signed char)store_pg_i64(r, i, 1);
		rc = r ? 0 : -1;
		PQclear(r);
	}
	free(ids.p);
	return rc;
}

/* The ids of the batch's URLs not cached yet, in one statement: a round trip per URL made a new
 * poller's first sweep of 100 000 targets wait on 100 000 of them. Committed at once, as url_id. */
static int learn_urls(struct store *s, const struct store_row *rows, size_t n, struct ht_err *err)
{
	static const char sql[] = "INSERT INTO checked_url(url) SELECT DISTINCT unnest($1::text[])"
				  " ON CONFLICT(url) DO UPDATE SET url = excluded.url RETURNING id, url";
	const char **miss = calloc(n + 1, sizeof(*miss));
	size_t k = 0;
	int rc = 0;

	if (!miss) {
		ht_err_set(err, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (rows[i].url && !url_cached(s->pg, &rows[i]))
			miss[k++] = rows[i].url;
	char *arr = k ? store_pg_text_array(miss) : NULL;
	const char *p[] = { arr };
	PGresult *r = arr ? store_pg_exec(s, sql, 1, p, "recording checked URLs", err) : NULL;
	if (k && !arr)
		ht_err_set(err, "out of memory");
	rc = k && !r ? -1 : 0;
	for (int t = 0; r && t < PQntuples(r); t++)
		for (size_t i = 0; i < n; i++) {
			const struct store_row *row = &rows[i];
			char *copy;
			if (!row->url || strcmp(row->url, PQgetvalue(r, t, 1)) != 0 || url_cached(s->pg, row) ||
			    !(copy = strdup(row->url)))
				continue;   /* out of memory: url_id asks for that one alone */
			free(s->pg->url_text[row->target_id]);
			s->pg->url_text[row->target_id] = copy;
			s->pg->url_id[row->target_id] = store_pg_i64(r, t, 0);
		}
	PQclear(r);
	free(arr);
	free(miss);
	return rc;
}

/* Everything a batch needs outside its transaction: caches, URL ids, partitions. */
static int prepare_batch(struct store *s, const struct store_row *rows, size_t n, int64_t *urls,
			 struct ht_err *err)
{
	int64_t last_day = INT64_MIN;

	for (size_t i = 0; i < n; i++) {
		if (cache_grow(s->pg, rows[i].target_id) < 0) {
			ht_err_set(err, "%s: target id %lld out of range", s->path, (long long)rows[i].target_id);
			return -1;
		}
		int64_t day = floor_div(rows[i].checked_at_ms, DAY_MS);
		if (day != last_day && ensure_day(s, day, err) < 0)
			return -1;
		last_day = day;
	}
	if (learn_urls(s, rows, n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((urls[i] = url_id(s, &rows[i], err)) < 0)
			return -1;
	return load_last_classes(s, rows, n, err);
}

/* One raw result as a binary COPY tuple: no number formatted or parsed on either side. */
static void add_result(struct sbuf *b, const struct store_row *r, int64_t url, const struct store_pg *pg)
{
	const double ms[] = { r->response_ms, r->dns_ms, r->connect_ms, r->tls_ms, r->ttfb_ms };

	sb_tuple(b, 17);
	sb_i64(b, r->target_id);
	sb_i64(b, r->checked_at_ms);
	sb_field_i16(b, (int16_t)r->cls);
	if (r->http_code > 0)
		sb_i32(b, (int32_t)r->http_code);
	else
		sb_null(b);
	for (int k = 0; k < 5; k++)
		if (ms[k] < 0)
			sb_null(b);
		else
			sb_f64(b, ms[k]);
	if (r->cert_expiry > 0)
		sb_i64(b, r->cert_expiry);
	else
		sb_null(b);
	sb_str(b, r->reason ? r->reason : "");
	if (r->error && r->error[0])
		sb_str(b, r->error);
	else
		sb_null(b);
	sb_i64(b, url);
	sb_bool(b, r->up);
	if (r->http_code > 0 && r->response_ms >= 0)
		sb_field_i16(b, (int16_t)hist_bucket(r->response_ms));
	else
		sb_null(b);
	const char *who[] = { pg->poller, pg->location };
	for (int k = 0; k < 2; k++)
		if (who[k])
			sb_str(b, who[k]);
		else
			sb_null(b);
}

/* The state change a row makes, compared with the target's last class (batch order). */
static void add_change(struct store_pg *pg, struct sbuf *b, const struct store_row *r)
{
	int prev = pg->last_cls[r->target_id];

	/* VALUES rows for the INSERT that rides with COMMIT: numbers only, formatted here */
	if (prev >= 0 && prev != (int)r->cls)
		sb_printf(b, "%s(%lld,%lld,%d,%d)", b->len ? "," : "INSERT INTO state_change VALUES ",
			  (long long)r->target_id, (long long)r->checked_at_ms, prev, (int)r->cls);
	pg->last_cls[r->target_id] = (signed char)r->cls;
}

struct group {
	int64_t target_id, period;
	size_t first;   /* index into the batch: groups keep batch order within */
};

static int cmp_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->target_id != y->target_id)
		return x->target_id < y->target_id ? -1 : 1;
	if (x->period != y->period)
		return x->period < y->period ? -1 : 1;
	return (x->first > y->first) - (x->first < y->first);
}

static void put_rollup(struct sbuf *b, int kind, const struct store_row *rows, const int64_t *urls,
		       const struct group *g, size_t n)
{
	uint32_t cnt[HT_CLASS_COUNT] = { 0 }, up = 0, nl = 0;
	double sum = 0, mn = -1, mx = -1;
	size_t last = g[0].first;
	struct hist h;

	memset(&h, 0, sizeof(h));
	for (size_t i = 0; i < n; i++) {
		const struct store_row *r = &rows[g[i].first];
		if (r->checked_at_ms >= rows[last].checked_at_ms)
			last = g[i].first;
		cnt[r->cls]++;
		up += r->up;
		if (r->http_code > 0 && r->response_ms >= 0) {
			nl++;
			sum += r->response_ms;
			mn = mn < 0 || r->response_ms < mn ? r->response_ms : mn;
			mx = r->response_ms > mx ? r->response_ms : mx;
			hist_add(&h, r->response_ms);
		}
	}
	char json[HIST_BUCKETS * 16 + 4];
	size_t o = 0;
	json[o++] = '{';
	for (int k = 0; k < HIST_BUCKETS; k++)
		if (h.counts[k])
			o += (size_t)snprintf(json + o, sizeof(json) - o, "%s\"%d\":%u", o > 1 ? "," : "", k, h.counts[k]);
	json[o++] = '}';
	sb_tuple(b, 14);
	sb_field_i16(b, (int16_t)kind);
	sb_i64(b, g->target_id);
	sb_i64(b, g->period);
	for (int c = 0; c < HT_CLASS_COUNT; c++)
		sb_i32(b, (int32_t)cnt[c]);
	sb_i32(b, (int32_t)up);
	sb_i32(b, (int32_t)nl);
	sb_f64(b, sum);
	if (mn < 0) {
		sb_null(b);
		sb_null(b);
	} else {
		sb_f64(b, mn);
		sb_f64(b, mx);
	}
	sb_bytes(b, json, o);
	sb_i64(b, urls[last]);
	sb_i64(b, rows[last].checked_at_ms);
}

/* The batch's rollup deltas, one tuple per (target, hour) in rollup_fresh (kind 2), which the
 * views count as hourly and as daily: one row and one key per result where a row per level made
 * two, and the rollup key index was the most expensive part of the write (schema 5). */
static int add_rollups(struct sbuf *b, const struct store_row *rows, const int64_t *urls, size_t n)
{
	struct group *g = malloc(n * sizeof(*g));

	if (!g)
		return -1;
	for (size_t i = 0; i < n; i++)
		g[i] = (struct group){ rows[i].target_id, floor_div(rows[i].checked_at_ms, 3600 * 1000) * 3600, i };
	qsort(g, n, sizeof(*g), cmp_group);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && g[j].target_id == g[i].target_id && g[j].period == g[i].period; j++)
			;
		put_rollup(b, 2, rows, urls, &g[i], j - i);
	}
	free(g);
	return 0;
}

#define ROLLUP_COLS "(kind, target_id, period, n_healthy, n_degraded, n_down, n_up, n_latency, sum_ms, min_ms," \
	" max_ms, hist, url_id, last_at)"

/* The state changes (rare) go in with COMMIT: no round trip of their own. */
static int commit(struct store *s, struct sbuf *chg, struct ht_err *err)
{
	sb_put(chg, chg->len ? ";COMMIT" : "COMMIT", chg->len ? 7 : 6);
	if (chg->oom) {
		ht_err_set(err, "out of memory");
		return -1;
	}
	PGresult *r = PQexec(s->pg->conn, chg->p);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	return ok ? 0 : store_pg_fail(s, err, "writing results");
}

static int write_tx(struct store *s, const struct sbuf *res, const struct sbuf *roll, struct sbuf *chg,
		    struct ht_err *err)
{
	/* BEGIN rides with the first COPY: one round trip less per batch */
	static const char results[] = "BEGIN; COPY result(target_id, checked_at, status, http_code, response_ms,"
		" dns_ms, connect_ms, tls_ms, ttfb_ms, cert_expiry, reason, error, url_id, up, bucket, poller, location)"
		" FROM STDIN (FORMAT binary)";

	if (store_pg_ready(s, "starting a write", err) < 0)
		return -1;
	if (store_pg_copy_in(s, results, res, "writing results", err) < 0 ||
	    store_pg_copy_in(s, "COPY rollup " ROLLUP_COLS " FROM STDIN (FORMAT binary)", roll, "writing rollups",
			     err) < 0 ||
	    commit(s, chg, err) < 0) {
		PQclear(PQexec(s->pg->conn, "ROLLBACK"));
		return -1;
	}
	return 0;
}

int store_pg_append_batch(struct store *s, const struct store_row *rows, size_t n, struct ht_err *err)
{
	struct sbuf res = { 0 }, roll = { 0 }, chg = { 0 };
	int64_t *urls;
	int rc = -1;

	if (n == 0)
		return 0;
	if (!(urls = malloc(n * sizeof(*urls)))) {
		ht_err_set(err, "out of memory");
		return -1;
	}
	if (prepare_batch(s, rows, n, urls, err) < 0)
		goto out;
	sb_copy_begin(&res);
	for (size_t i = 0; i < n; i++) {
		add_change(s->pg, &chg, &rows[i]);
		add_result(&res, &rows[i], urls[i], s->pg);
	}
	sb_copy_end(&res);
	sb_copy_begin(&roll);
	int grouped = add_rollups(&roll, rows, urls, n);
	sb_copy_end(&roll);
	if (grouped < 0 || res.oom || roll.oom || chg.oom) {
		ht_err_set(err, "out of memory");
		goto out;
	}
	rc = write_tx(s, &res, &roll, &chg, err);
out:
	if (rc < 0)   /* a rolled-back batch leaves the class cache unsure */
		memset(s->pg->last_cls, -2, s->pg->ncache);
	free(urls);
	free(res.p);
	free(roll.p);
	free(chg.p);
	return rc;
}

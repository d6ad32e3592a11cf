/* The PostgreSQL write path: a batch of results goes in with COPY (raw rows straight into the
 * day-partitioned result table), its rollup deltas summed here and merged by one upsert per
 * table, its state changes found against a per-target cache, all in one transaction. Retention
 * drops whole day partitions. */
#include "autoconfig.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "store_priv.h"
#include "store_pg.h"

#define DAY_MS 86400000LL
#define CACHE_MAX_ID 10000000

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap : 4096);
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A COPY text field: NULL as \N, the separators escaped. */
static void sb_text(struct sbuf *b, const char *s)
{
	if (!s) {
		sb_put(b, "\\N", 2);
		return;
	}
	for (const char *p = s; *p; p++) {
		const char *e = *p == '\\' ? "\\\\" : *p == '\t' ? "\\t" : *p == '\n' ? "\\n" : *p == '\r' ? "\\r" : NULL;
		if (e)
			sb_put(b, e, 2);
		else
			sb_put(b, p, 1);
	}
}

static void sb_ms(struct sbuf *b, double ms)
{
	if (ms < 0)
		sb_put(b, "\\N", 2);
	else
		sb_printf(b, "%.17g", ms);   /* exact: export reads back what SQLite would */
}

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

	if (r->url && pg->url_id[r->target_id] && strcmp(pg->url_text[r->target_id], r->url) == 0)
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
		snprintf(sql, sizeof(sql), "CREATE TABLE IF NOT EXISTS %s PARTITION OF result"
			 " FOR VALUES FROM (%lld) TO (%lld)", name, (long long)(d * DAY_MS), (long long)((d + 1) * DAY_MS));
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
		if ((urls[i] = url_id(s, &rows[i], err)) < 0)
			return -1;
	}
	return load_last_classes(s, rows, n, err);
}

static int copy_in(struct store *s, const char *sql, const struct sbuf *b, const char *what, struct ht_err *err)
{
	PGconn *c = s->pg->conn;
	PGresult *r = PQexec(c, sql);
	bool ok = PQresultStatus(r) == PGRES_COPY_IN;

	PQclear(r);
	if (ok)
		ok = PQputCopyData(c, b->p, (int)b->len) == 1;
	if (PQputCopyEnd(c, ok ? NULL : "healthtop: write failed") != 1)
		ok = false;
	while ((r = PQgetResult(c))) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			ok = false;
		PQclear(r);
	}
	return ok ? 0 : store_pg_fail(s, err, what);
}

static void add_result(struct sbuf *b, const struct store_row *r, int64_t url)
{
	bool lat = r->http_code > 0 && r->response_ms >= 0;

	sb_printf(b, "%lld\t%lld\t%d\t", (long long)r->target_id, (long long)r->checked_at_ms, (int)r->cls);
	if (r->http_code > 0)
		sb_printf(b, "%ld\t", r->http_code);
	else
		sb_put(b, "\\N\t", 3);
	const double ms[] = { r->response_ms, r->dns_ms, r->connect_ms, r->tls_ms, r->ttfb_ms };
	for (int k = 0; k < 5; k++) {
		sb_ms(b, ms[k]);
		sb_put(b, "\t", 1);
	}
	if (r->cert_expiry > 0)
		sb_printf(b, "%lld\t", (long long)r->cert_expiry);
	else
		sb_put(b, "\\N\t", 3);
	sb_text(b, r->reason ? r->reason : "");
	sb_put(b, "\t", 1);
	sb_text(b, r->error && r->error[0] ? r->error : NULL);
	sb_printf(b, "\t%lld\t%s\t", (long long)url, r->up ? "t" : "f");
	if (lat)
		sb_printf(b, "%d\n", hist_bucket(r->response_ms));
	else
		sb_put(b, "\\N\n", 3);
}

/* The state change a row makes, compared with the target's last class (batch order). */
static void add_change(struct store_pg *pg, struct sbuf *b, const struct store_row *r)
{
	int prev = pg->last_cls[r->target_id];

	if (prev >= 0 && prev != (int)r->cls)
		sb_printf(b, "%lld\t%lld\t%d\t%d\n", (long long)r->target_id, (long long)r->checked_at_ms, prev,
			  (int)r->cls);
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
	struct hist h;

	memset(&h, 0, sizeof(h));
	for (size_t i = 0; i < n; i++) {
		const struct store_row *r = &rows[g[i].first];
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
	sb_printf(b, "%d\t%lld\t%lld\t%u\t%u\t%u\t%u\t%u\t%.17g\t", kind, (long long)g->target_id,
		  (long long)g->period, cnt[0], cnt[1], cnt[2], up, nl, sum);
	sb_ms(b, mn);
	sb_put(b, "\t", 1);
	sb_ms(b, mx);
	sb_put(b, "\t{", 2);
	bool first = true;
	for (int k = 0; k < HIST_BUCKETS; k++)
		if (h.counts[k]) {
			sb_printf(b, "%s\"%d\": %u", first ? "" : ", ", k, h.counts[k]);
			first = false;
		}
	sb_printf(b, "}\t%lld\n", (long long)urls[g[n - 1].first]);
}

/* The batch's rollup deltas, one line per (kind, target, period). */
static int add_rollups(struct sbuf *b, const struct store_row *rows, const int64_t *urls, size_t n)
{
	struct group *g = malloc(n * sizeof(*g));

	if (!g)
		return -1;
	for (int kind = 0; kind < 2; kind++) {
		int64_t secs = kind ? 86400 : 3600;
		for (size_t i = 0; i < n; i++)
			g[i] = (struct group){ rows[i].target_id, floor_div(rows[i].checked_at_ms, secs * 1000) * secs, i };
		qsort(g, n, sizeof(*g), cmp_group);
		for (size_t i = 0, j; i < n; i = j) {
			for (j = i + 1; j < n && g[j].target_id == g[i].target_id && g[j].period == g[i].period; j++)
				;
			put_rollup(b, kind, rows, urls, &g[i], j - i);
		}
	}
	free(g);
	return 0;
}

#define MERGE(name) \
	"INSERT INTO " name "(target_id, period, n_healthy, n_degraded, n_down, n_up, n_latency, sum_ms," \
	" min_ms, max_ms, hist, url_id) SELECT target_id, period, n_healthy, n_degraded, n_down, n_up," \
	" n_latency, sum_ms, min_ms, max_ms, hist, url_id FROM stage_rollup WHERE kind = $1::smallint" \
	" ON CONFLICT(target_id, period) DO UPDATE SET n_healthy = " name ".n_healthy + excluded.n_healthy," \
	" n_degraded = " name ".n_degraded + excluded.n_degraded, n_down = " name ".n_down + excluded.n_down," \
	" n_up = " name ".n_up + excluded.n_up, n_latency = " name ".n_latency + excluded.n_latency," \
	" sum_ms = " name ".sum_ms + excluded.sum_ms, min_ms = least(" name ".min_ms, excluded.min_ms)," \
	" max_ms = greatest(" name ".max_ms, excluded.max_ms)," \
	" hist = ht_hist_merge(" name ".hist, excluded.hist), url_id = excluded.url_id"

static int ensure_stage(struct store *s, struct ht_err *err)
{
	static const char sql[] =
		"CREATE TEMPORARY TABLE IF NOT EXISTS stage_rollup(kind smallint, target_id bigint, period bigint,"
		" n_healthy integer, n_degraded integer, n_down integer, n_up integer, n_latency integer,"
		" sum_ms double precision, min_ms double precision, max_ms double precision, hist jsonb,"
		" url_id bigint) ON COMMIT DELETE ROWS";

	if (s->pg->staged_on == s->pg->conn)
		return 0;
	if (store_pg_run(s, sql, 0, NULL, "creating the staging table", err) < 0)
		return -1;
	s->pg->staged_on = s->pg->conn;
	return 0;
}

static int write_tx(struct store *s, const struct sbuf *res, const struct sbuf *roll, const struct sbuf *chg,
		    struct ht_err *err)
{
	const char *const hour[] = { "0" }, *const day[] = { "1" };

	if (store_pg_run(s, "BEGIN", 0, NULL, "starting a write", err) < 0)
		return -1;
	if (copy_in(s, "COPY result(target_id, checked_at, status, http_code, response_ms, dns_ms, connect_ms,"
		    " tls_ms, ttfb_ms, cert_expiry, reason, error, url_id, up, bucket) FROM STDIN", res,
		    "writing results", err) < 0 ||
	    copy_in(s, "COPY stage_rollup FROM STDIN", roll, "writing rollups", err) < 0 ||
	    store_pg_run(s, MERGE("rollup_hour"), 1, hour, "writing hourly rollups", err) < 0 ||
	    store_pg_run(s, MERGE("rollup_day"), 1, day, "writing daily rollups", err) < 0 ||
	    (chg->len && copy_in(s, "COPY state_change FROM STDIN", chg, "writing state changes", err) < 0) ||
	    store_pg_run(s, "COMMIT", 0, NULL, "writing results", err) < 0) {
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
	if (ensure_stage(s, err) < 0 || prepare_batch(s, rows, n, urls, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		add_change(s->pg, &chg, &rows[i]);
		add_result(&res, &rows[i], urls[i]);
	}
	if (add_rollups(&roll, rows, urls, n) < 0 || res.oom || roll.oom || chg.oom) {
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
	if (rc == 0 && store_pg_run(s, "COMMIT", 0, NULL, "pruning old history", err) == 0)
		return 0;
	PQclear(PQexec(s->pg->conn, "ROLLBACK"));
	/* partitions dropped in the rolled-back transaction are back: forget the cache */
	s->pg->ndays = 0;
	return -1;
}

/* The PostgreSQL read path: recent results, the aggregate's pieces (the walk over raw, hourly
 * and daily tables stays in store_read.c, one for both rooms), targets, state changes, and the
 * export cursors (a server-side cursor fetched a slice at a time). */
#include "autoconfig.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_priv.h"
#include "store_pg.h"

#define FETCH_ROWS 5000

static void fmt_i64(char *buf, size_t size, int64_t v)
{
	snprintf(buf, size, "%lld", (long long)v);
}

void store_pg_hist_add(struct hist *h, const char *json)
{
	const char *p = json;

	/* {"12": 3, "40": 1}: what put_rollup writes and jsonb prints back */
	while ((p = strchr(p, '"'))) {
		char *end;
		long bucket = strtol(p + 1, &end, 10);
		const char *colon = strchr(end, ':');
		if (!colon)
			return;
		long n = strtol(colon + 1, &end, 10);
		if (bucket >= 0 && bucket < HIST_BUCKETS && n > 0)
			hist_add_bucket(h, (int)bucket, (uint32_t)n);
		p = end;
	}
}

int store_pg_target_ids(struct store *s, store_pg_id_fn fn, void *user, struct ht_err *err)
{
	PGresult *r = store_pg_exec(s, "SELECT id FROM target ORDER BY id", 0, NULL, "listing targets", err);

	for (int i = 0; r && i < PQntuples(r); i++)
		fn(user, store_pg_i64(r, i, 0));
	PQclear(r);
	return r ? 0 : -1;
}

void store_pg_parse_raw(const PGresult *r, store_pg_raw_fn fn, void *user)
{
	for (int i = 0; i < PQntuples(r); i++)
		fn(user, store_pg_i64(r, i, 0), (int)store_pg_i64(r, i, 1),
		   PQgetisnull(r, i, 2) ? -1 : (int)store_pg_i64(r, i, 2), (uint32_t)store_pg_i64(r, i, 3),
		   store_pg_ms(r, i, 4), store_pg_ms(r, i, 5), (uint32_t)store_pg_i64(r, i, 6));
}

void store_pg_range_params(char a[24], char b[24], int64_t lo, int64_t hi)
{
	fmt_i64(a, 24, lo);
	fmt_i64(b, 24, hi);
}

int store_pg_window_raw(struct store *s, int64_t a_ms, int64_t b_ms, store_pg_raw_fn fn, void *user,
			struct ht_err *err)
{
	char a[24], b[24];
	const char *p[] = { a, b };

	store_pg_range_params(a, b, a_ms, b_ms);
	PGresult *r = store_pg_exec(s, STORE_PG_WINDOW_RAW_SQL, 2, p, "reading history", err);
	if (r)
		store_pg_parse_raw(r, fn, user);
	PQclear(r);
	return r ? 0 : -1;
}

void store_pg_rollup_sql(char *sql, size_t size, const char *table)
{
	snprintf(sql, size, "SELECT target_id, n_healthy, n_degraded, n_down, hist, min_ms, max_ms, n_up"
		 " FROM %s WHERE period >= $1::bigint AND period < $2::bigint", table);
}

void store_pg_parse_rollup(const PGresult *r, store_pg_rollup_fn fn, void *user)
{
	for (int i = 0; i < PQntuples(r); i++) {
		uint32_t counts[HT_CLASS_COUNT];
		struct hist h;
		memset(&h, 0, sizeof(h));
		for (int c = 0; c < HT_CLASS_COUNT; c++)
			counts[c] = (uint32_t)store_pg_i64(r, i, 1 + c);
		store_pg_hist_add(&h, PQgetvalue(r, i, 4));
		fn(user, store_pg_i64(r, i, 0), counts, (uint32_t)store_pg_i64(r, i, 7), &h, store_pg_ms(r, i, 5),
		   store_pg_ms(r, i, 6));
	}
}

int store_pg_window_rollup(struct store *s, const char *table, int64_t a_s, int64_t b_s, store_pg_rollup_fn fn,
			   void *user, struct ht_err *err)
{
	char sql[256], a[24], b[24];
	const char *p[] = { a, b };

	store_pg_rollup_sql(sql, sizeof(sql), table);
	store_pg_range_params(a, b, a_s, b_s);
	PGresult *r = store_pg_exec(s, sql, 2, p, "reading history", err);
	if (r)
		store_pg_parse_rollup(r, fn, user);
	PQclear(r);
	return r ? 0 : -1;
}

int64_t store_pg_complete_since(struct store *s, const char *table)
{
	char key[64];
	const char *p[] = { key };
	struct ht_err err;

	snprintf(key, sizeof(key), "complete_since.%s", table);
	PGresult *r = store_pg_exec(s, "SELECT value FROM meta WHERE key = $1", 1, p, "reading", &err);
	int64_t v = !r ? INT64_MAX : PQntuples(r) ? store_pg_i64(r, 0, 0) : 0;
	PQclear(r);
	return v;
}

int64_t store_pg_query_i64(struct store *s, const char *sql, int64_t arg, int64_t fallback)
{
	char q[512], a[24];
	const char *p[] = { a };
	struct ht_err err;
	size_t o = 0;

	/* SQLite's ?1 is PostgreSQL's $1: the statements store_read.c shares are otherwise alike */
	for (const char *c = sql; *c && o + 1 < sizeof(q); c++)
		q[o++] = *c == '?' ? '$' : *c;
	q[o] = '\0';
	fmt_i64(a, sizeof(a), arg);
	PGresult *r = store_pg_exec(s, q, 1, p, "reading", &err);
	int64_t v = r && PQntuples(r) && !PQgetisnull(r, 0, 0) ? store_pg_i64(r, 0, 0) : fallback;
	PQclear(r);
	return v;
}

void store_pg_parse_recent(const PGresult *r, store_row_fn fn, void *user)
{
	for (int i = 0; i < PQntuples(r); i++) {
		struct store_read_row row = {
			.target_id = store_pg_i64(r, i, 0),
			.checked_at_ms = store_pg_i64(r, i, 1),
			.cls = (enum ht_class)store_pg_i64(r, i, 2),
			.http_code = (long)store_pg_i64(r, i, 3),
			.response_ms = store_pg_ms(r, i, 4),
			.dns_ms = store_pg_ms(r, i, 5),
			.connect_ms = store_pg_ms(r, i, 6),
			.tls_ms = store_pg_ms(r, i, 7),
			.ttfb_ms = store_pg_ms(r, i, 8),
			.cert_expiry = store_pg_i64(r, i, 9),
			.reason = PQgetvalue(r, i, 10),
			.poller = PQgetisnull(r, i, 11) ? NULL : PQgetvalue(r, i, 11),
			.location = PQgetisnull(r, i, 12) ? NULL : PQgetvalue(r, i, 12),
		};
		fn(user, &row);
	}
}

int store_pg_recent(struct store *s, int64_t target_id, int limit, store_row_fn fn, void *user, struct ht_err *err)
{
	char t[24], l[16];
	const char *p[] = { t, l };

	/* one target's as a list of one: the same statement as the loop's rings */
	snprintf(t, sizeof(t), "{%lld}", (long long)target_id);
	snprintf(l, sizeof(l), "%d", limit);
	PGresult *r = store_pg_exec(s, STORE_PG_RECENT_SQL, 2, p, "reading history", err);
	if (r)
		store_pg_parse_recent(r, fn, user);
	PQclear(r);
	return r ? 0 : -1;
}

int store_pg_parse_targets(const PGresult *r, store_target_fn fn, void *user)
{
	int stop = 0;

	for (int i = 0; !stop && i < PQntuples(r); i++) {
		struct store_target t = { store_pg_i64(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
					  PQgetvalue(r, i, 3) };
		stop = fn(user, &t);
	}
	return stop;
}

int store_pg_targets(struct store *s, store_target_fn fn, void *user, struct ht_err *err)
{
	PGresult *r = store_pg_exec(s, "SELECT id, name, project, url FROM target ORDER BY project, name", 0, NULL,
				    "listing targets", err);
	int stop = r ? store_pg_parse_targets(r, fn, user) : 0;

	PQclear(r);
	return stop ? stop : r ? 0 : -1;
}

int store_pg_changes(struct store *s, int64_t until_ms, store_change_fn fn, void *user, struct ht_err *err)
{
	char u[24];
	const char *p[] = { u };

	fmt_i64(u, sizeof(u), until_ms);
	PGresult *r = store_pg_exec(s, "SELECT target_id, at, from_status, to_status FROM state_change"
				    " WHERE at < $1::bigint ORDER BY target_id, at", 1, p, "reading state changes", err);
	for (int i = 0; r && i < PQntuples(r); i++)
		fn(user, store_pg_i64(r, i, 0), store_pg_i64(r, i, 1), (int)store_pg_i64(r, i, 2),
		   (int)store_pg_i64(r, i, 3));
	PQclear(r);
	return r ? 0 : -1;
}

#define URL_SQL "coalesce(u.url, t.url)"
#define SELECTION_SQL \
	" AND ($3::text[] IS NULL OR t.name = ANY($3::text[]))" \
	" AND ($4::text[] IS NULL OR t.project = ANY($4::text[]))"

/* Runs sql with $1/$2 the range and $3/$4 the name and project lists. */
static PGresult *run_query(struct store *s, const char *sql, const struct store_query *q, int64_t lo, int64_t hi,
			   const char *what, struct ht_err *err)
{
	char a[24], b[24];
	char *names = store_pg_text_array(q->names), *projects = store_pg_text_array(q->projects);
	const char *p[] = { a, b, names, projects };
	PGresult *r = NULL;

	fmt_i64(a, sizeof(a), lo);
	fmt_i64(b, sizeof(b), hi);
	if ((q->names && !names) || (q->projects && !projects))
		ht_err_set(err, "out of memory");
	else
		r = store_pg_exec(s, sql, 4, p, what, err);
	free(names);
	free(projects);
	return r;
}

struct store_cursor *store_pg_export_begin(struct store *s, const struct store_query *q, struct ht_err *err)
{
	static const char sql[] =
		"DECLARE ht_export NO SCROLL CURSOR FOR"
		" SELECT r.checked_at, t.project, t.name, " URL_SQL ", r.status, r.http_code, r.response_ms,"
		" r.dns_ms, r.connect_ms, r.tls_ms, r.ttfb_ms, r.reason, r.poller, r.location"
		" FROM result r JOIN target t ON t.id = r.target_id LEFT JOIN checked_url u ON u.id = r.url_id"
		" WHERE r.checked_at >= $1::bigint AND r.checked_at < $2::bigint" SELECTION_SQL
		" ORDER BY r.checked_at, t.name";
	struct store_cursor *c = calloc(1, sizeof(*c));
	PGresult *r;

	if (!c) {
		ht_err_set(err, "out of memory");
		return NULL;
	}
	c->s = s;
	/* a cursor lives in a transaction; REPEATABLE READ: one snapshot for the whole export */
	if (store_pg_run(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, "preparing the export", err) < 0 ||
	    !(r = run_query(s, sql, q, q->since_ms, q->until_ms, "preparing the export", err))) {
		if (s->pg->conn)
			PQclear(PQexec(s->pg->conn, "ROLLBACK"));
		free(c);
		return NULL;
	}
	PQclear(r);
	return c;
}

static int export_rows(PGresult *r, int *stop, store_result_fn fn, void *user)
{
	int i;

	for (i = 0; !*stop && i < PQntuples(r); i++) {
		struct store_result row = {
			.checked_at_ms = store_pg_i64(r, i, 0),
			.project = PQgetvalue(r, i, 1),
			.name = PQgetvalue(r, i, 2),
			.url = PQgetvalue(r, i, 3),
			.cls = (enum ht_class)store_pg_i64(r, i, 4),
			.http_code = (long)store_pg_i64(r, i, 5),
			.response_ms = store_pg_ms(r, i, 6), .dns_ms = store_pg_ms(r, i, 7),
			.connect_ms = store_pg_ms(r, i, 8), .tls_ms = store_pg_ms(r, i, 9),
			.ttfb_ms = store_pg_ms(r, i, 10),
			.reason = PQgetvalue(r, i, 11),
			.poller = PQgetisnull(r, i, 12) ? NULL : PQgetvalue(r, i, 12),
			.location = PQgetisnull(r, i, 13) ? NULL : PQgetvalue(r, i, 13),
		};
		*stop = fn(user, &row);
	}
	return i;
}

int store_pg_export_step(struct store_cursor *c, int max_rows, store_result_fn fn, void *user, struct ht_err *err)
{
	int stop = 0, total = 0;

	while (!c->done && !stop && total < max_rows) {
		char sql[48];
		int want = max_rows - total < FETCH_ROWS ? max_rows - total : FETCH_ROWS;
		snprintf(sql, sizeof(sql), "FETCH %d FROM ht_export", want);
		PGresult *r = store_pg_exec(c->s, sql, 0, NULL, "reading results to export", err);
		if (!r)
			return -1;
		int got = PQntuples(r);
		total += export_rows(r, &stop, fn, user);
		c->done = got < want;
		PQclear(r);
	}
	return stop ? stop : c->done ? 0 : 1;
}

void store_pg_export_end(struct store_cursor *c)
{
	if (!c)
		return;
	if (c->s->pg->conn)
		PQclear(PQexec(c->s->pg->conn, "ROLLBACK"));   /* closes the cursor: nothing was written */
	free(c);
}

static void rollup_row(const PGresult *r, int i, struct store_rollup *row)
{
	memset(row, 0, sizeof(*row));
	row->period_start_ms = store_pg_i64(r, i, 0) * 1000;
	row->project = PQgetvalue(r, i, 1);
	row->name = PQgetvalue(r, i, 2);
	row->url = PQgetvalue(r, i, 3);
	for (int c = 0; c < HT_CLASS_COUNT; c++)
		row->counts[c] = (uint32_t)store_pg_i64(r, i, 4 + c);
	row->n_latency = (uint32_t)store_pg_i64(r, i, 7);
	row->sum_ms = strtod(PQgetvalue(r, i, 8), NULL);
	row->min_ms = store_pg_ms(r, i, 9);
	row->max_ms = store_pg_ms(r, i, 10);
	store_pg_hist_add(&row->latency, PQgetvalue(r, i, 11));
	row->n_up = (uint32_t)store_pg_i64(r, i, 12);
}

/* Another delta of the same key added into acc (rows come oldest delta first). */
static void rollup_fold(struct store_rollup *acc, const struct store_rollup *d)
{
	for (int c = 0; c < HT_CLASS_COUNT; c++)
		acc->counts[c] += d->counts[c];
	acc->n_up += d->n_up;
	acc->n_latency += d->n_latency;
	acc->sum_ms += d->sum_ms;
	if (d->min_ms >= 0 && (acc->min_ms < 0 || d->min_ms < acc->min_ms))
		acc->min_ms = d->min_ms;
	if (d->max_ms > acc->max_ms)
		acc->max_ms = d->max_ms;
	hist_merge(&acc->latency, &d->latency);
	acc->url = d->url;
}

int store_pg_export_rollup(struct store *s, const struct store_query *q, int period_s, store_rollup_fn fn,
			   void *user, struct ht_err *err)
{
	char sql[1024];
	struct store_rollup row, next;
	int stop = 0;

	snprintf(sql, sizeof(sql),
		 "SELECT r.period, t.project, t.name, " URL_SQL ", r.n_healthy, r.n_degraded, r.n_down,"
		 " r.n_latency, r.sum_ms, r.min_ms, r.max_ms, r.hist, r.n_up FROM %s r JOIN target t ON t.id = r.target_id"
		 " LEFT JOIN checked_url u ON u.id = r.url_id"
		 " WHERE r.period >= $1::bigint AND r.period < $2::bigint" SELECTION_SQL
		 " ORDER BY r.period, t.name, r.last_at", period_s == 3600 ? "rollup_hour" : "rollup_day");
	/* A period that starts before `since` but reaches into it counts too. */
	PGresult *r = run_query(s, sql, q, q->since_ms / 1000 / period_s * period_s,
				q->until_ms == INT64_MAX ? INT64_MAX : (q->until_ms + 999) / 1000,
				"reading rollups to export", err);
	int n = r ? PQntuples(r) : 0;
	for (int i = 0; !stop && i < n;) {
		rollup_row(r, i++, &row);
		/* a key's deltas not yet compacted come one after another: one row for the key */
		for (; i < n; i++) {
			rollup_row(r, i, &next);
			if (next.period_start_ms != row.period_start_ms || strcmp(next.name, row.name) != 0)
				break;
			rollup_fold(&row, &next);
		}
		stop = fn(user, &row);
	}
	PQclear(r);
	return stop ? stop : r ? 0 : -1;
}

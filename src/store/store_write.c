/* The write path: targets, results in batches with their rollups and state changes, pruning. */
#include "autoconfig.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_priv.h"
#include "store_pg.h"

int store_prepare_write(struct store *s, struct ht_err *err)
{
	static const char upsert[] =
		"INSERT INTO target(name, project, url) VALUES(?1, ?2, ?3)"
		" ON CONFLICT(name) DO UPDATE SET project = excluded.project, url = excluded.url"
		" RETURNING id";
	/* ?1 the URL checked, NULL for the target's (?2) current one */
#define URL_OF "coalesce(?1, (SELECT url FROM target WHERE id = ?2))"
	static const char find_url[] = "SELECT id FROM checked_url WHERE url = " URL_OF;
	static const char insert_url[] = "INSERT INTO checked_url(url) VALUES(" URL_OF ") RETURNING id";
#undef URL_OF
	static const char insert[] =
		"INSERT INTO result(target_id, checked_at, status, http_code, response_ms, dns_ms,"
		" connect_ms, tls_ms, ttfb_ms, cert_expiry, reason, error, url_id, up)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
#define UPSERT(name) \
		"INSERT INTO " name "(target_id, period, n_healthy, n_degraded, n_down, n_latency, sum_ms," \
		" min_ms, max_ms, hist, url_id, n_up) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11)" \
		" ON CONFLICT(target_id, period) DO UPDATE SET n_up = n_up + excluded.n_up," \
		" n_healthy = n_healthy + excluded.n_healthy, n_degraded = n_degraded + excluded.n_degraded," \
		" n_down = n_down + excluded.n_down, n_latency = n_latency + excluded.n_latency," \
		" sum_ms = sum_ms + excluded.sum_ms," \
		" min_ms = coalesce(min(min_ms, excluded.min_ms), min_ms, excluded.min_ms)," \
		" max_ms = coalesce(max(max_ms, excluded.max_ms), max_ms, excluded.max_ms)," \
		" hist = ht_hist_merge(hist, excluded.hist), url_id = excluded.url_id"
	static const char upsert_hour[] = UPSERT("rollup_hour");
	static const char upsert_day[] = UPSERT("rollup_day");
#undef UPSERT
	/* The common case (the period's row exists) as a plain UPDATE: an upsert first builds and
	 * tries the INSERT, then finds the conflict. Same parameters as UPSERT. */
#define UPDATE(name) \
		"UPDATE " name " SET n_up = n_up + ?11, n_healthy = n_healthy + ?3," \
		" n_degraded = n_degraded + ?4, n_down = n_down + ?5, n_latency = n_latency + ?6," \
		" sum_ms = sum_ms + ?7, min_ms = coalesce(min(min_ms, ?8), min_ms, ?8)," \
		" max_ms = coalesce(max(max_ms, ?8), max_ms, ?8), hist = ht_hist_merge(hist, ?9), url_id = ?10" \
		" WHERE target_id = ?1 AND period = ?2"
	static const char update_hour[] = UPDATE("rollup_hour");
	static const char update_day[] = UPDATE("rollup_day");
#undef UPDATE
	static const char insert_change[] = "INSERT INTO state_change VALUES(?1, ?2, ?3, ?4)";
	static const char last_status[] =
		"SELECT coalesce((SELECT status FROM result WHERE target_id = ?1 ORDER BY checked_at DESC LIMIT 1),"
		" (SELECT to_status FROM state_change WHERE target_id = ?1 ORDER BY at DESC LIMIT 1), -1)";
	const char *const sql[] = { upsert, find_url, insert_url, insert, upsert_hour, upsert_day,
				    update_hour, update_day, insert_change, last_status };
	sqlite3_stmt **const st[] = { &s->upsert_target, &s->find_url, &s->insert_url, &s->insert_result,
				      &s->upsert_hour, &s->upsert_day, &s->update_hour, &s->update_day,
				      &s->insert_change, &s->last_status };

	return store_prepare_all(s, sql, st, sizeof(sql) / sizeof(sql[0]), err);
}

int store_target_id(struct store *s, const char *name, const char *project, const char *url,
		    int64_t *id, struct ht_err *err)
{
	sqlite3_stmt *st = s->upsert_target;
	int rc;

	if (s->pg)
		return store_pg_target_id(s, name, project, url, id, err);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, project, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, url, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(s, err, "recording target");
	return 0;
}

/* At 10 000 targets, a commit per target was a third of `check`'s time. */
int store_targets_begin(struct store *s, struct ht_err *err)
{
	if (s->pg)
		return store_pg_run(s, "BEGIN", 0, NULL, "starting to record targets", err);
	return store_tx_begin(s, "starting to record targets", err);
}

int store_targets_end(struct store *s, struct ht_err *err)
{
	if (s->pg)
		return store_pg_run(s, "COMMIT", 0, NULL, "recording targets", err);
	return store_tx_end(s, true, "recording targets", err);
}

/* Runs a one-row query binding (url, target id); its id, or -1. */
static int64_t url_query(sqlite3_stmt *st, const struct store_row *r)
{
	int64_t id = -1;

	if (r->url)
		sqlite3_bind_text(st, 1, r->url, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 1);
	sqlite3_bind_int64(st, 2, r->target_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return id;
}

void store_forget_urls(struct store *s)
{
	for (size_t i = 0; i < s->nurl_seen; i++)
		free(s->url_seen[i].url);
	free(s->url_seen);
	s->url_seen = NULL;
	s->nurl_seen = 0;
}

/* Target id's entry, the array grown to hold it; NULL when it cannot be kept. */
static struct store_url_seen *url_seen(struct store *s, int64_t target_id)
{
	if (target_id < 0 || target_id > 10000000)
		return NULL;
	if ((size_t)target_id >= s->nurl_seen) {
		size_t n = (size_t)target_id * 2 + 16;
		struct store_url_seen *ns = realloc(s->url_seen, n * sizeof(*ns));
		if (!ns)
			return NULL;
		memset(ns + s->nurl_seen, 0, (n - s->nurl_seen) * sizeof(*ns));
		s->url_seen = ns;
		s->nurl_seen = n;
	}
	return &s->url_seen[target_id];
}

/* The id of the URL the row was checked at, adding it the first time it is seen. A row without
 * its own URL means the target's current one, which may change: those are always looked up. */
static int64_t url_id(struct store *s, const struct store_row *r)
{
	struct store_url_seen *seen = r->url ? url_seen(s, r->target_id) : NULL;
	int64_t id;

	if (seen && seen->url && strcmp(seen->url, r->url) == 0)
		return seen->id;
	id = url_query(s->find_url, r);
	if (id < 0)
		id = url_query(s->insert_url, r);
	char *copy = seen && id >= 0 ? strdup(r->url) : NULL;
	if (copy) {
		free(seen->url);
		seen->url = copy;
		seen->id = id;
	}
	return id;
}

static void bind_ms(sqlite3_stmt *st, int col, double ms)
{
	if (ms < 0)
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_double(st, col, ms);
}

static int insert_row(struct store *s, const struct store_row *r, int64_t url)
{
	sqlite3_stmt *st = s->insert_result;
	int rc;

	sqlite3_bind_int64(st, 1, r->target_id);
	sqlite3_bind_int64(st, 2, r->checked_at_ms);
	sqlite3_bind_int(st, 3, (int)r->cls);
	if (r->http_code > 0)
		sqlite3_bind_int64(st, 4, r->http_code);
	else
		sqlite3_bind_null(st, 4);
	bind_ms(st, 5, r->response_ms);
	bind_ms(st, 6, r->dns_ms);
	bind_ms(st, 7, r->connect_ms);
	bind_ms(st, 8, r->tls_ms);
	bind_ms(st, 9, r->ttfb_ms);
	if (r->cert_expiry > 0)
		sqlite3_bind_int64(st, 10, r->cert_expiry);
	else
		sqlite3_bind_null(st, 10);
	sqlite3_bind_text(st, 11, r->reason ? r->reason : "", -1, SQLITE_STATIC);
	if (r->error && r->error[0])
		sqlite3_bind_text(st, 12, r->error, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 12);
	sqlite3_bind_int64(st, 13, url);
	sqlite3_bind_int(st, 14, r->up);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The row's latency as a one-sample histogram blob (hist_encode's format), for both rollups. */
struct one_hist {
	unsigned char blob[HIST_BLOB_MAX];
	size_t len;
};

static void one_hist(const struct store_row *r, bool has_latency, struct one_hist *out)
{
	struct hist h;

	memset(&h, 0, sizeof(h));
	if (has_latency)
		hist_add(&h, r->response_ms);
	out->len = hist_encode(&h, out->blob, sizeof(out->blob));
}

static int step_rollup(sqlite3_stmt *st, const struct store_row *r, int64_t period_s, int64_t url,
		       bool has_latency, const struct one_hist *blob)
{
	int rc;

	sqlite3_bind_int64(st, 1, r->target_id);
	sqlite3_bind_int64(st, 2, r->checked_at_ms / (period_s * 1000) * period_s);
	sqlite3_bind_int(st, 3, r->cls == HT_HEALTHY);
	sqlite3_bind_int(st, 4, r->cls == HT_DEGRADED);
	sqlite3_bind_int(st, 5, r->cls == HT_DOWN);
	sqlite3_bind_int(st, 6, has_latency);
	sqlite3_bind_double(st, 7, has_latency ? r->response_ms : 0);
	if (has_latency)
		sqlite3_bind_double(st, 8, r->response_ms);
	else
		sqlite3_bind_null(st, 8);
	sqlite3_bind_blob(st, 9, blob->blob, (int)blob->len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, url);
	sqlite3_bind_int(st, 11, r->up);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Adds r to its period's row: an UPDATE, or the upsert when the period has no row yet. */
static int upsert_rollup(struct store *s, sqlite3_stmt *update, sqlite3_stmt *upsert,
			 const struct store_row *r, int64_t period_s, int64_t url, bool has_latency,
			 const struct one_hist *blob)
{
	if (step_rollup(update, r, period_s, url, has_latency, blob) < 0)
		return -1;
	if (sqlite3_changes(s->db) > 0)
		return 0;
	return step_rollup(upsert, r, period_s, url, has_latency, blob);
}

/* The class of a target's latest result, as the database knows it (-1: none). */
static int last_class(struct store *s, int64_t target_id)
{
	if (target_id < 0 || target_id > 10000000)
		return -1;
	if ((size_t)target_id >= s->nlast) {
		size_t n = (size_t)target_id * 2 + 16;
		signed char *nl = realloc(s->last_cls, n);
		if (!nl)
			return -1;
		memset(nl + s->nlast, -2, n - s->nlast);
		s->last_cls = nl;
		s->nlast = n;
	}
	if (s->last_cls[target_id] == -2) {
		sqlite3_stmt *st = s->last_status;
		sqlite3_bind_int64(st, 1, target_id);
		s->last_cls[target_id] = (signed char)(sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1);
		sqlite3_reset(st);
	}
	return s->last_cls[target_id];
}

static int record_change(struct store *s, const struct store_row *r)
{
	int prev = last_class(s, r->target_id);
	sqlite3_stmt *st = s->insert_change;
	int rc = SQLITE_DONE;

	if (prev >= 0 && prev != (int)r->cls) {
		sqlite3_bind_int64(st, 1, r->target_id);
		sqlite3_bind_int64(st, 2, r->checked_at_ms);
		sqlite3_bind_int(st, 3, prev);
		sqlite3_bind_int(st, 4, (int)r->cls);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
	}
	if ((size_t)r->target_id < s->nlast)
		s->last_cls[r->target_id] = (signed char)r->cls;
	return rc == SQLITE_DONE ? 0 : -1;
}

static void forget_caches(struct store *s)
{
	if (s->last_cls)
		memset(s->last_cls, -2, s->nlast);   /* a rolled-back batch leaves the cache unsure */
	store_forget_urls(s);
}

static int append_one(struct store *s, const struct store_row *r)
{
	int64_t url = url_id(s, r);
	bool has_latency = r->http_code > 0 && r->response_ms >= 0;
	struct one_hist h;

	one_hist(r, has_latency, &h);
	/* The change first: it compares with the latest row before this one is in. */
	return url >= 0 && record_change(s, r) == 0 && insert_row(s, r, url) == 0 &&
	       upsert_rollup(s, s->update_hour, s->upsert_hour, r, 3600, url, has_latency, &h) == 0 &&
	       upsert_rollup(s, s->update_day, s->upsert_day, r, 86400, url, has_latency, &h) == 0 ? 0 : -1;
}

int store_append_batch(struct store *s, const struct store_row *rows, size_t n, struct ht_err *err)
{
	if (s->pg)
		return store_pg_append_batch(s, rows, n, err);
	if (n == 0)
		return 0;
	if (store_tx_begin(s, "starting a write", err) < 0)
		return -1;
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++)
		ok = append_one(s, &rows[i]) == 0;
	if (store_tx_end(s, ok, "writing results", err) < 0) {
		forget_caches(s);
		return -1;
	}
	return 0;
}

/* Once rows before cutoff_ms start to go, the table is whole only from cutoff_ms on. */
static int mark_complete_since(struct store *s, const char *table, int64_t cutoff_ms)
{
	sqlite3_stmt *st;
	char key[64];
	int rc;

	snprintf(key, sizeof(key), "complete_since.%s", table);
	if (sqlite3_prepare_v2(s->db, "INSERT INTO meta VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE"
			       " SET value = max(value, excluded.value)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, cutoff_ms);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int prune_table(struct store *s, const char *table, const char *sql, int64_t before,
		       int64_t cutoff_ms, int limit, int *deleted)
{
	sqlite3_stmt *st;
	int rc, n;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, before);
	sqlite3_bind_int(st, 2, limit);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	n = sqlite3_changes(s->db);
	*deleted += n;
	return n > 0 ? mark_complete_since(s, table, cutoff_ms) : 0;
}

int store_prune_step(struct store *s, const struct store_retention *r, int64_t now_ms, int limit,
		     int *deleted, struct ht_err *err)
{
	static const char raw[] = "DELETE FROM result WHERE id IN"
		" (SELECT id FROM result WHERE checked_at < ?1 ORDER BY checked_at LIMIT ?2)";
	static const char hour[] = "DELETE FROM rollup_hour WHERE (target_id, period) IN"
		" (SELECT target_id, period FROM rollup_hour WHERE period < ?1 LIMIT ?2)";
	static const char day[] = "DELETE FROM rollup_day WHERE (target_id, period) IN"
		" (SELECT target_id, period FROM rollup_day WHERE period < ?1 LIMIT ?2)";
	static const char changes[] = "DELETE FROM state_change WHERE rowid IN"
		" (SELECT rowid FROM state_change WHERE at < ?1 LIMIT ?2)";
	int64_t day_ms = 86400000;

	if (s->pg)
		return store_pg_prune_step(s, r, now_ms, limit, deleted, err);
	*deleted = 0;
	if (store_tx_begin(s, "starting to prune", err) < 0)
		return -1;
	int rc = 0;
	int64_t raw_cut = now_ms - r->raw_days * day_ms, hour_cut = now_ms - r->hourly_days * day_ms;
	int64_t day_cut = now_ms - r->daily_days * day_ms;
	/* A rollup period is deleted only once it lies wholly before the cutoff. */
	if (r->raw_days > 0)
		rc |= prune_table(s, "result", raw, raw_cut, raw_cut, limit, deleted);
	if (r->hourly_days > 0 && *deleted < limit)
		rc |= prune_table(s, "rollup_hour", hour, hour_cut / 1000 - 3600, hour_cut, limit - *deleted, deleted);
	if (r->daily_days > 0 && *deleted < limit) {
		rc |= prune_table(s, "rollup_day", day, day_cut / 1000 - 86400, day_cut, limit - *deleted, deleted);
		rc |= prune_table(s, "state_change", changes, day_cut, day_cut, limit, deleted);
	}
	return store_tx_end(s, rc == 0, "pruning old history", err);
}

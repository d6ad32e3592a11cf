#include "autoconfig.h"
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "healthtop/core/histogram.h"
#include "healthtop/store/store.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/ht-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/a/b/history.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static long long query_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -2 : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void test_store_creates_private_file_and_directories(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };
	struct stat st;

	assert_int_equal(store_open(f->path, &s, &err), 0);
	store_close(s);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(query_int(f->path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
}

static void test_store_batch_is_one_row_per_result(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };
	int64_t a, b, a2;

	assert_int_equal(store_open(f->path, &s, &err), 0);
	assert_int_equal(store_target_id(s, "api", "p", "http://h/health", &a, &err), 0);
	assert_int_equal(store_target_id(s, "web", "p", "http://w/health", &b, &err), 0);
	assert_int_equal(store_target_id(s, "api", "q", "http://h2/health", &a2, &err), 0);
	assert_int_equal(a, a2);
	assert_int_not_equal(a, b);
	struct store_row rows[3] = {
		{ .target_id = a, .checked_at_ms = 1000, .cls = HT_HEALTHY, .http_code = 200,
		  .response_ms = 3.5, .dns_ms = 0.1, .connect_ms = 0.2, .tls_ms = -1, .ttfb_ms = 2,
		  .reason = "HTTP 200" },
		{ .target_id = b, .checked_at_ms = 1000, .cls = HT_DOWN, .response_ms = 1,
		  .dns_ms = -1, .connect_ms = -1, .tls_ms = -1, .ttfb_ms = -1,
		  .reason = "connection refused", .error = "Failed to connect" },
		{ .target_id = a, .checked_at_ms = 2000, .cls = HT_DEGRADED, .http_code = 503,
		  .response_ms = 4, .dns_ms = -1, .connect_ms = -1, .tls_ms = -1, .ttfb_ms = -1,
		  .reason = "HTTP 503" },
	};
	assert_int_equal(store_append_batch(s, rows, 3, &err), 0);
	store_close(s);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM result"), 3);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM target"), 2);
	assert_int_equal(query_int(f->path, "SELECT http_code FROM result WHERE status = 2"), -2);
	assert_int_equal(query_int(f->path, "SELECT tls_ms FROM result WHERE id = 1"), -2);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM target WHERE project = 'q'"), 1);
}

static void test_store_refuses_a_newer_schema(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };
	sqlite3 *db;

	assert_int_equal(store_open(f->path, &s, &err), 0);
	store_close(s);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->path, &s, &err), -1);
	assert_non_null(strstr(err.msg, "schema version 99 is newer"));
}

static void test_store_reports_unwritable_path(void **state)
{
	struct store *s;
	struct ht_err err = { "" };

	assert_int_equal(store_open("/proc/healthtop/x.db", &s, &err), -1);
	assert_non_null(strstr(err.msg, "/proc/healthtop"));
}

static struct store_row row(int64_t id, int64_t at_ms, enum ht_class cls, long code, double ms)
{
	return (struct store_row){ .target_id = id, .checked_at_ms = at_ms, .cls = cls, .http_code = code,
				   .response_ms = ms, .dns_ms = -1, .connect_ms = -1, .tls_ms = -1,
				   .ttfb_ms = -1, .reason = "r" };
}

#define HOUR_MS 3600000LL
#define T0 (1795000000000LL / HOUR_MS * HOUR_MS)

static void test_store_rollups_follow_every_insert(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };
	int64_t a;

	assert_int_equal(store_open(f->path, &s, &err), 0);
	assert_int_equal(store_target_id(s, "a", "p", "u", &a, &err), 0);
	struct store_row rows[] = {
		row(a, T0 + 1000, HT_HEALTHY, 200, 10), row(a, T0 + 2000, HT_DEGRADED, 503, 30),
		row(a, T0 + 3000, HT_DOWN, 0, 0.2), row(a, T0 + HOUR_MS + 5, HT_HEALTHY, 200, 20),
	};
	assert_int_equal(store_append_batch(s, rows, 2, &err), 0);   /* two batches: incremental */
	assert_int_equal(store_append_batch(s, rows + 2, 2, &err), 0);
	store_close(s);
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT n_healthy * 100 + n_degraded * 10 + n_down FROM rollup_hour WHERE period = %lld", T0 / 1000);
	assert_int_equal(query_int(f->path, sql), 111);
	snprintf(sql, sizeof(sql), "SELECT n_latency * 1000 + min_ms * 10 + max_ms FROM rollup_hour WHERE period = %lld", T0 / 1000);
	assert_int_equal(query_int(f->path, sql), 2 * 1000 + 100 + 30);   /* the refused check has no latency */
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM rollup_hour"), 2);
	assert_int_equal(query_int(f->path, "SELECT sum(n_healthy + n_degraded + n_down) FROM rollup_day"), 4);
	/* healthy -> degraded -> down -> healthy */
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM state_change"), 3);
	assert_int_equal(query_int(f->path, "SELECT to_status FROM state_change ORDER BY at DESC LIMIT 1"), HT_HEALTHY);
}

static void test_store_state_changes_continue_across_reopen(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };
	int64_t a;

	assert_int_equal(store_open(f->path, &s, &err), 0);
	assert_int_equal(store_target_id(s, "a", "p", "u", &a, &err), 0);
	struct store_row r1 = row(a, T0, HT_DOWN, 0, 1), r2 = row(a, T0 + 1, HT_HEALTHY, 200, 1);
	assert_int_equal(store_append_batch(s, &r1, 1, &err), 0);
	store_close(s);
	assert_int_equal(store_open(f->path, &s, &err), 0);
	assert_int_equal(store_append_batch(s, &r2, 1, &err), 0);
	store_close(s);
	assert_int_equal(query_int(f->path, "SELECT from_status * 10 + to_status FROM state_change"), 20);
}

struct counts {
	uint32_t cls[3];
	struct hist h;
};

static void sum_window(void *user, int64_t id, enum ht_class cls, int bucket, uint32_t n)
{
	struct counts *c = user;
	if ((unsigned)cls < 3)
		c->cls[cls] += n;
	if (bucket >= 0)
		hist_add_bucket(&c->h, bucket, n);
}

static void test_store_windows_read_rollups_beyond_six_hours(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };
	int64_t a;
	struct store_row rows[48];
	struct counts raw, hourly, daily;

	memset(&raw, 0, sizeof(raw));
	memset(&hourly, 0, sizeof(hourly));
	memset(&daily, 0, sizeof(daily));

	assert_int_equal(store_open(f->path, &s, &err), 0);
	assert_int_equal(store_target_id(s, "a", "p", "u", &a, &err), 0);
	for (int i = 0; i < 48; i++)   /* one an hour for two days, every 4th down */
		rows[i] = row(a, T0 - (47 - i) * HOUR_MS, i % 4 ? HT_HEALTHY : HT_DOWN, i % 4 ? 200 : 0, 100);
	assert_int_equal(store_append_batch(s, rows, 48, &err), 0);
	assert_string_equal(store_window_source(T0 - 3600000, T0), "raw");
	assert_string_equal(store_window_source(T0 - 86400000, T0), "hourly");
	assert_string_equal(store_window_source(T0 - 30 * 86400000LL, T0), "daily");
	assert_int_equal(store_window(s, T0 - 3 * HOUR_MS + 1, T0, sum_window, &raw, &err), 0);
	assert_int_equal(raw.cls[0] + raw.cls[2], 3);
	assert_int_equal(store_window(s, T0 - 24 * HOUR_MS, T0, sum_window, &hourly, &err), 0);
	assert_int_equal(hourly.cls[0] + hourly.cls[2], 25);   /* from the hour of T0-24h on */
	assert_int_equal(hourly.h.total, hourly.cls[0]);       /* latency only where something answered */
	assert_int_equal(store_window(s, T0 - 30 * 86400000LL, T0, sum_window, &daily, &err), 0);
	assert_int_equal(daily.cls[0] + daily.cls[2], 48);
	assert_int_equal(daily.cls[2], 12);
	store_close(s);
}

static void test_store_prune_works_in_bounded_steps(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };
	int64_t a;
	struct store_row rows[100];
	struct store_retention keep = { .raw_days = 1, .hourly_days = 400, .daily_days = 0 };
	int deleted, steps = 0, total = 0;

	assert_int_equal(store_open(f->path, &s, &err), 0);
	assert_int_equal(store_target_id(s, "a", "p", "u", &a, &err), 0);
	for (int i = 0; i < 100; i++)   /* 90 rows older than a day, 10 recent */
		rows[i] = row(a, i < 90 ? T0 - 3 * 86400000LL + i : T0 - i, HT_HEALTHY, 200, 5);
	assert_int_equal(store_append_batch(s, rows, 100, &err), 0);
	do {
		assert_int_equal(store_prune_step(s, &keep, T0, 25, &deleted, &err), 0);
		assert_true(deleted <= 25);
		total += deleted;
		steps++;
	} while (deleted == 25);
	store_close(s);
	assert_int_equal(total, 90);
	assert_int_equal(steps, 4);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM result"), 10);
	/* the rollups keep what the raw rows said */
	assert_int_equal(query_int(f->path, "SELECT sum(n_healthy) FROM rollup_hour"), 100);
}

struct urls {
	char url[8][64];
	size_t n;
};

static int collect_url(void *user, const struct store_result *r)
{
	struct urls *u = user;
	if (u->n < 8)
		snprintf(u->url[u->n++], sizeof(u->url[0]), "%s", r->url);
	return 0;
}

static int collect_rollup_url(void *user, const struct store_rollup *r)
{
	struct urls *u = user;
	if (u->n < 8)
		snprintf(u->url[u->n++], sizeof(u->url[0]), "%s", r->url);
	return 0;
}

static void test_store_keeps_the_url_each_result_was_checked_at(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };
	int64_t a;
	struct store_row r1 = row(0, T0, HT_HEALTHY, 200, 5), r2 = row(0, T0 + 2 * HOUR_MS, HT_HEALTHY, 200, 5);
	struct store_row r3 = row(0, T0 + 3 * HOUR_MS, HT_HEALTHY, 200, 5);
	struct urls got = { 0 }, hours = { 0 };
	struct store_query all = { 0, INT64_MAX, NULL, NULL };

	assert_int_equal(store_open(f->path, &s, &err), 0);
	assert_int_equal(store_target_id(s, "a", "p", "http://old/health", &a, &err), 0);
	r1.target_id = a;
	r1.url = "http://old/health";
	assert_int_equal(store_append_batch(s, &r1, 1, &err), 0);
	/* the config changes the target's URL */
	assert_int_equal(store_target_id(s, "a", "p", "http://new/health", &a, &err), 0);
	r2.target_id = r3.target_id = a;
	r2.url = "http://new/health";
	r3.url = NULL;   /* a writer that does not say: the target's URL as stored now */
	assert_int_equal(store_append_batch(s, &r2, 1, &err), 0);
	assert_int_equal(store_append_batch(s, &r3, 1, &err), 0);
	assert_int_equal(store_export(s, &all, collect_url, &got, &err), 0);
	assert_int_equal(store_export_rollup(s, &all, 3600, collect_rollup_url, &hours, &err), 0);
	store_close(s);
	assert_int_equal(got.n, 3);
	assert_string_equal(got.url[0], "http://old/health");
	assert_string_equal(got.url[1], "http://new/health");
	assert_string_equal(got.url[2], "http://new/health");
	assert_int_equal(hours.n, 3);
	assert_string_equal(hours.url[0], "http://old/health");
	assert_string_equal(hours.url[1], "http://new/health");
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM checked_url"), 2);
}

struct totals {
	uint32_t cls[3];
	struct hist h;
	double min_ms, max_ms;
};

static void sum_totals(void *user, const struct store_totals *t)
{
	struct totals *c = user;
	for (int i = 0; i < 3; i++)
		c->cls[i] += t->counts[i];
	hist_merge(&c->h, &t->latency);
	c->min_ms = t->min_ms;
	c->max_ms = t->max_ms;
}

/* The dashboard's 7 d window (store_window) and `stats --since 7d` (store_aggregate) read the
 * same rows: the raw count, though most of it comes from the hourly rollups. */
static void test_store_window_and_stats_agree_over_seven_days(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };
	int64_t a;
	enum { N = 8 * 24 * 6 };   /* every 10 minutes for 8 days, every 5th down */
	struct store_row *rows = calloc(N, sizeof(*rows));
	struct counts window;
	struct totals stats, bounded;
	int64_t since = T0 - 7 * 86400000LL + 17 * 60000, until = T0 - 25 * 60000;
	uint32_t want = 0, want_down = 0, want_bounded = 0;
	const char *source;

	memset(&window, 0, sizeof(window));
	memset(&stats, 0, sizeof(stats));
	memset(&bounded, 0, sizeof(bounded));
	assert_non_null(rows);
	assert_int_equal(store_open(f->path, &s, &err), 0);
	assert_int_equal(store_target_id(s, "a", "p", "u", &a, &err), 0);
	for (int i = 0; i < N; i++) {
		int64_t at = T0 - (int64_t)(N - 1 - i) * 600000;
		rows[i] = row(a, at, i % 5 ? HT_HEALTHY : HT_DOWN, i % 5 ? 200 : 0, 100 + i % 7);
		want += at >= since;
		want_down += at >= since && i % 5 == 0;
		want_bounded += at >= since && at < until;
	}
	assert_int_equal(store_append_batch(s, rows, N, &err), 0);
	assert_int_equal(store_window(s, since, T0, sum_window, &window, &err), 0);
	assert_int_equal(store_aggregate(s, since, INT64_MAX, sum_totals, &stats, &source, &err), 0);
	assert_int_equal(store_aggregate(s, since, until, sum_totals, &bounded, &source, &err), 0);
	assert_string_equal(source, "hourly");
	store_close(s);
	free(rows);
	assert_int_equal(window.cls[0] + window.cls[1] + window.cls[2], want);
	assert_int_equal(stats.cls[0] + stats.cls[1] + stats.cls[2], want);
	assert_int_equal(window.cls[2], want_down);
	assert_int_equal(stats.cls[2], want_down);
	assert_int_equal(window.h.total, stats.h.total);
	for (int b = 0; b < HIST_BUCKETS; b++)
		assert_int_equal(window.h.counts[b], stats.h.counts[b]);
	assert_int_equal(bounded.cls[0] + bounded.cls[1] + bounded.cls[2], want_bounded);
	assert_true(stats.min_ms == 100 && stats.max_ms == 106);
}

/* Once raw rows are pruned, the start is read from the hour that holds it, never from nothing. */
static void test_store_aggregate_rounds_to_the_hour_where_raw_is_pruned(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };
	int64_t a;
	struct store_row rows[48];
	struct store_retention keep = { .raw_days = 1, .hourly_days = 400, .daily_days = 0 };
	struct totals t;
	const char *source;
	int deleted;

	memset(&t, 0, sizeof(t));
	assert_int_equal(store_open(f->path, &s, &err), 0);
	assert_int_equal(store_target_id(s, "a", "p", "u", &a, &err), 0);
	for (int i = 0; i < 48; i++)   /* one an hour, 30 minutes in, for two days */
		rows[i] = row(a, T0 - (47 - i) * HOUR_MS + HOUR_MS / 2, HT_HEALTHY, 200, 5);
	assert_int_equal(store_append_batch(s, rows, 48, &err), 0);
	assert_int_equal(store_prune_step(s, &keep, T0, 1000, &deleted, &err), 0);
	assert_int_equal(deleted, 23);   /* older than a day */
	/* 2 h from 40 h ago: raw is gone there, so whole hours answer */
	assert_int_equal(store_aggregate(s, T0 - 40 * HOUR_MS + HOUR_MS * 3 / 4, T0 - 38 * HOUR_MS, sum_totals, &t,
					 &source, &err), 0);
	store_close(s);
	assert_string_equal(source, "hourly");
	assert_int_equal(t.cls[0], 2);   /* the hour holding the start, and the next */
}

static void test_store_reads_a_database_in_a_read_only_directory(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };
	int64_t a;
	struct store_row r = row(0, T0, HT_HEALTHY, 200, 5);
	struct totals t;
	const char *source;
	char dir[160];

	if (geteuid() == 0)
		skip();   /* root writes anywhere; tests/integration/test_history_cli.py runs it as nobody */
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_open(f->path, &s, &err), 0);
	assert_int_equal(store_target_id(s, "a", "p", "u", &a, &err), 0);
	r.target_id = a;
	assert_int_equal(store_append_batch(s, &r, 1, &err), 0);
	store_close(s);
	snprintf(dir, sizeof(dir), "%s/a/b", f->dir);
	assert_int_equal(chmod(dir, 0500), 0);
	int rc = store_open_readonly(f->path, &s, &err);
	if (rc == 0)
		rc = store_aggregate(s, 0, INT64_MAX, sum_totals, &t, &source, &err);
	store_close(s);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(rc, 0);
	assert_int_equal(t.cls[0], 1);
}

static void test_store_migrates_v1_and_backfills(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };
	sqlite3 *db;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/a/b'", f->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
		"CREATE TABLE target(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, project TEXT NOT NULL, url TEXT NOT NULL) STRICT;"
		"CREATE TABLE result(id INTEGER PRIMARY KEY, target_id INTEGER NOT NULL REFERENCES target(id),"
		" checked_at INTEGER NOT NULL, status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 2), http_code INTEGER,"
		" response_ms REAL, dns_ms REAL, connect_ms REAL, tls_ms REAL, ttfb_ms REAL, cert_expiry INTEGER,"
		" reason TEXT NOT NULL, error TEXT) STRICT;"
		"CREATE INDEX result_target_time ON result(target_id, checked_at);"
		"CREATE INDEX result_time ON result(checked_at);"
		"INSERT INTO target VALUES(1, 'a', 'p', 'u');"
		"INSERT INTO result(target_id, checked_at, status, http_code, response_ms, reason) VALUES"
		" (1, 1000, 0, 200, 10, 'ok'), (1, 2000, 2, NULL, 1, 'refused'), (1, 3000, 0, 200, 30, 'ok');"
		"PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->path, &s, &err), 0);
	store_close(s);
	assert_int_equal(query_int(f->path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(query_int(f->path, "SELECT n_healthy * 10 + n_down FROM rollup_hour"), 21);
	assert_int_equal(query_int(f->path, "SELECT n_latency FROM rollup_day"), 2);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM state_change"), 2);
	/* The target moves after the upgrade: its old results were checked at the old URL. */
	int64_t a;
	struct store_row moved = row(1, 4000, HT_HEALTHY, 200, 5);
	assert_int_equal(store_open(f->path, &s, &err), 0);
	assert_int_equal(store_target_id(s, "a", "p", "u2", &a, &err), 0);
	moved.target_id = a;
	moved.url = "u2";
	assert_int_equal(store_append_batch(s, &moved, 1, &err), 0);
	struct urls got = { 0 };
	struct store_query all = { 0, INT64_MAX, NULL, NULL };
	assert_int_equal(store_export(s, &all, collect_url, &got, &err), 0);
	store_close(s);
	assert_int_equal(got.n, 4);
	assert_string_equal(got.url[0], "u");
	assert_string_equal(got.url[2], "u");
	assert_string_equal(got.url[3], "u2");
}

static void test_store_readonly_refuses_old_schema_and_reads_current(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };

	assert_int_equal(store_open_readonly(f->path, &s, &err), -ENOENT);   /* does not exist: not created */
	/* created by the writer, not yet migrated: the daemon's reader waits for it instead of
	 * logging "storage error ... schema version 0 (run the dashboard ... to upgrade it)" */
	char fresh[600];
	snprintf(fresh, sizeof(fresh), "%s/fresh.db", f->dir);
	FILE *empty = fopen(fresh, "w");
	assert_non_null(empty);
	assert_int_equal(fclose(empty), 0);
	assert_int_equal(store_open_readonly(fresh, &s, &err), -EAGAIN);
	assert_int_equal(unlink(fresh), 0);
	assert_int_equal(store_open(f->path, &s, &err), 0);
	store_close(s);
	assert_int_equal(store_open_readonly(f->path, &s, &err), 0);
	store_close(s);
}


struct up_counts {
	uint32_t checks, up;
};

static void sum_up(void *user, int64_t id, enum ht_class cls, int bucket, uint32_t n)
{
	struct up_counts *c = user;

	if ((unsigned)cls < HT_CLASS_COUNT)
		c->checks += n;
	else if (cls == STORE_WINDOW_UP)
		c->up += n;
}

static int sum_rollup_up(void *user, const struct store_rollup *r)
{
	struct up_counts *c = user;

	c->checks += r->counts[0] + r->counts[1] + r->counts[2];
	c->up += r->n_up;
	return 0;
}

/* Each result's up flag reaches the rollups, the dashboard's window (raw and rolled up) and
 * the rollup export: a degraded timeout is not up. */
static void test_store_counts_up_checks_everywhere(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };
	int64_t a;
	struct store_row rows[8];
	struct up_counts raw = { 0 }, daily = { 0 }, exported = { 0 };
	struct store_query all = { 0, INT64_MAX, NULL, NULL };

	assert_int_equal(store_open(f->path, &s, &err), 0);
	assert_int_equal(store_target_id(s, "a", "p", "u", &a, &err), 0);
	for (int i = 0; i < 8; i++) {   /* every other check a timeout: degraded, not up */
		rows[i] = row(a, T0 - (7 - i) * 60000, i % 2 ? HT_DEGRADED : HT_HEALTHY, i % 2 ? 0 : 200, 10);
		rows[i].up = i % 2 == 0;
	}
	assert_int_equal(store_append_batch(s, rows, 8, &err), 0);
	assert_int_equal(store_window(s, T0 - HOUR_MS, T0, sum_up, &raw, &err), 0);
	assert_int_equal(store_window(s, T0 - 30 * 86400000LL, T0, sum_up, &daily, &err), 0);
	assert_int_equal(store_export_rollup(s, &all, 3600, sum_rollup_up, &exported, &err), 0);
	store_close(s);
	assert_int_equal(raw.checks, 8);
	assert_int_equal(raw.up, 4);
	assert_int_equal(daily.checks, 8);
	assert_int_equal(daily.up, 4);
	assert_int_equal(exported.up, 4);
	assert_int_equal(query_int(f->path, "SELECT sum(up) FROM result"), 4);
	assert_int_equal(query_int(f->path, "SELECT sum(n_up) FROM rollup_day"), 4);
}

/* Schema 3 as it shipped, with an hour whose raw rows remain, one pruned and one half pruned. */
static const char v3_schema[] =
	"CREATE TABLE target(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, project TEXT NOT NULL,"
	" url TEXT NOT NULL, url_at_upgrade TEXT) STRICT;"
	"CREATE TABLE checked_url(id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE) STRICT;"
	"CREATE TABLE result(id INTEGER PRIMARY KEY, target_id INTEGER NOT NULL REFERENCES target(id),"
	" checked_at INTEGER NOT NULL, status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 2), http_code INTEGER,"
	" response_ms REAL, dns_ms REAL, connect_ms REAL, tls_ms REAL, ttfb_ms REAL, cert_expiry INTEGER,"
	" reason TEXT NOT NULL, error TEXT, url_id INTEGER REFERENCES checked_url(id)) STRICT;"
	"CREATE INDEX result_target_time ON result(target_id, checked_at);"
	"CREATE INDEX result_time ON result(checked_at);"
	"CREATE TABLE rollup_hour(target_id INTEGER NOT NULL REFERENCES target(id), period INTEGER NOT NULL,"
	" n_healthy INTEGER NOT NULL, n_degraded INTEGER NOT NULL, n_down INTEGER NOT NULL,"
	" n_latency INTEGER NOT NULL, sum_ms REAL NOT NULL, min_ms REAL, max_ms REAL, hist BLOB NOT NULL,"
	" url_id INTEGER REFERENCES checked_url(id), PRIMARY KEY (target_id, period)) STRICT, WITHOUT ROWID;"
	"CREATE INDEX rollup_hour_period ON rollup_hour(period);"
	"CREATE TABLE rollup_day(target_id INTEGER NOT NULL REFERENCES target(id), period INTEGER NOT NULL,"
	" n_healthy INTEGER NOT NULL, n_degraded INTEGER NOT NULL, n_down INTEGER NOT NULL,"
	" n_latency INTEGER NOT NULL, sum_ms REAL NOT NULL, min_ms REAL, max_ms REAL, hist BLOB NOT NULL,"
	" url_id INTEGER REFERENCES checked_url(id), PRIMARY KEY (target_id, period)) STRICT, WITHOUT ROWID;"
	"CREATE INDEX rollup_day_period ON rollup_day(period);"
	"CREATE TABLE state_change(target_id INTEGER NOT NULL REFERENCES target(id), at INTEGER NOT NULL,"
	" from_status INTEGER NOT NULL, to_status INTEGER NOT NULL) STRICT;"
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;"
	"INSERT INTO target VALUES(1, 'a', 'p', 'u', 'u');"
	/* hour 7200: five raw rows, whole: ok, ok, timeout, 503, 200 whose body said down */
	"INSERT INTO result(target_id, checked_at, status, http_code, reason) VALUES"
	" (1, 7200000, 0, 200, 'ok'), (1, 7201000, 0, 200, 'ok'), (1, 7202000, 1, NULL, 'timeout'),"
	" (1, 7203000, 1, 503, 'HTTP 503'), (1, 7204000, 2, 200, 'status: down'),"
	/* hour 14400: one raw row left of three */
	" (1, 14400000, 0, 200, 'ok');"
	"INSERT INTO rollup_hour VALUES(1, 7200, 2, 2, 1, 4, 40, 10, 10, x'', NULL),"
	" (1, 3600, 3, 1, 1, 4, 40, 10, 10, x'', NULL), (1, 14400, 3, 0, 0, 3, 30, 10, 10, x'', NULL);"
	"PRAGMA user_version = 3;";

static void test_store_migration_4_recomputes_up_from_raw_where_it_remains(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };
	sqlite3 *db;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/a/b'", f->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v3_schema, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->path, &s, &err), 0);
	store_close(s);
	assert_int_equal(query_int(f->path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	/* raw: only an accepted (2xx) answer that was not down is up */
	assert_int_equal(query_int(f->path, "SELECT group_concat(up, '') FROM (SELECT up FROM result ORDER BY checked_at)"),
			 110001);
	assert_int_equal(query_int(f->path, "SELECT n_up FROM rollup_hour WHERE period = 7200"), 2);    /* from raw */
	assert_int_equal(query_int(f->path, "SELECT n_up FROM rollup_hour WHERE period = 3600"), 4);    /* not down */
	assert_int_equal(query_int(f->path, "SELECT n_up FROM rollup_hour WHERE period = 14400"), 3);   /* not down */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_creates_private_file_and_directories, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_batch_is_one_row_per_result, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_refuses_a_newer_schema, setup, teardown),
		cmocka_unit_test(test_store_reports_unwritable_path),
		cmocka_unit_test_setup_teardown(test_store_rollups_follow_every_insert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_state_changes_continue_across_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_windows_read_rollups_beyond_six_hours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_prune_works_in_bounded_steps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_migrates_v1_and_backfills, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_readonly_refuses_old_schema_and_reads_current, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_keeps_the_url_each_result_was_checked_at, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_window_and_stats_agree_over_seven_days, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_aggregate_rounds_to_the_hour_where_raw_is_pruned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_reads_a_database_in_a_read_only_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_counts_up_checks_everywhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_migration_4_recomputes_up_from_raw_where_it_remains, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

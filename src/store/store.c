#include "autoconfig.h"
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "healthtop/core/paths.h"
#include "healthtop/export/export_format.h"
#include "healthtop/core/histogram.h"
#include "healthtop/store/store.h"

struct store {
	sqlite3 *db;
	sqlite3_stmt *upsert_target;
	sqlite3_stmt *insert_result;
	sqlite3_stmt *recent;
	sqlite3_stmt *window_raw;
	sqlite3_stmt *window_hour;
	sqlite3_stmt *window_day;
	sqlite3_stmt *upsert_hour;
	sqlite3_stmt *upsert_day;
	sqlite3_stmt *insert_change;
	sqlite3_stmt *last_status;
	signed char *last_cls;   /* by target id: -2 unknown yet, -1 no result, else the class */
	size_t nlast;
	char path[1024];
};

#define LATENCY_SQL "CASE WHEN http_code IS NOT NULL THEN response_ms END"
#define ROLLUP_TABLE(name) \
	"CREATE TABLE " name "(" \
	"  target_id INTEGER NOT NULL REFERENCES target(id)," \
	"  period INTEGER NOT NULL," /* unix s of the hour's or the UTC day's start */ \
	"  n_healthy INTEGER NOT NULL, n_degraded INTEGER NOT NULL, n_down INTEGER NOT NULL," \
	"  n_latency INTEGER NOT NULL, sum_ms REAL NOT NULL, min_ms REAL, max_ms REAL," \
	"  hist BLOB NOT NULL," \
	"  PRIMARY KEY (target_id, period)" \
	") STRICT, WITHOUT ROWID;" \
	"CREATE INDEX " name "_period ON " name "(period);"
#define ROLLUP_BACKFILL(name, secs) \
	"INSERT INTO " name " SELECT target_id, checked_at / (" secs " * 1000) * " secs "," \
	" sum(status = 0), sum(status = 1), sum(status = 2), count(" LATENCY_SQL ")," \
	" coalesce(sum(" LATENCY_SQL "), 0), min(" LATENCY_SQL "), max(" LATENCY_SQL ")," \
	" ht_hist_agg(" LATENCY_SQL ") FROM result GROUP BY 1, 2;"


/* Each entry takes the schema from version i to i+1; never edit one that has shipped. */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
	"CREATE TABLE target("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  project TEXT NOT NULL,"
	"  url TEXT NOT NULL"
	") STRICT;"
	"CREATE TABLE result("
	"  id INTEGER PRIMARY KEY,"
	"  target_id INTEGER NOT NULL REFERENCES target(id),"
	"  checked_at INTEGER NOT NULL,"           /* unix ms, UTC */
	"  status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 2),"
	"  http_code INTEGER,"
	"  response_ms REAL, dns_ms REAL, connect_ms REAL, tls_ms REAL, ttfb_ms REAL,"
	"  cert_expiry INTEGER,"                   /* unix s */
	"  reason TEXT NOT NULL,"
	"  error TEXT"
	") STRICT;"
	"CREATE INDEX result_target_time ON result(target_id, checked_at);"
	"CREATE INDEX result_time ON result(checked_at);",

	/* 2: rollups and state changes, filled from what is already there */
	ROLLUP_TABLE("rollup_hour")
	ROLLUP_TABLE("rollup_day")
	"CREATE TABLE state_change("
	"  target_id INTEGER NOT NULL REFERENCES target(id),"
	"  at INTEGER NOT NULL,"
	"  from_status INTEGER NOT NULL, to_status INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX state_change_target_at ON state_change(target_id, at);"
	/* complete_since.<table>: unix ms from which pruning has left the table whole */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;"
	ROLLUP_BACKFILL("rollup_hour", "3600")
	ROLLUP_BACKFILL("rollup_day", "86400")
	"INSERT INTO state_change SELECT target_id, checked_at, prev, status FROM ("
	"  SELECT target_id, checked_at, status,"
	"  lag(status) OVER (PARTITION BY target_id ORDER BY checked_at) AS prev FROM result)"
	" WHERE prev IS NOT NULL AND prev != status;",
};

static int db_fail(struct store *s, struct ht_err *err, const char *what)
{
	ht_err_set(err, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
	return -1;
}

static int tx_begin(struct store *s, const char *what, struct ht_err *err)
{
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(s, err, what);
	return 0;
}

/* Commits when ok, else rolls back; `what` names the work in the error message. */
static int tx_end(struct store *s, bool ok, const char *what, struct ht_err *err)
{
	if (ok && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	db_fail(s, err, what);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int mkdir_parents(const char *path, struct ht_err *err)
{
	char buf[1024];
	size_t n = strlen(path);

	if (n >= sizeof(buf)) {
		ht_err_set(err, "%s: path too long", path);
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
			ht_err_set(err, "%s: cannot create directory: %s", buf, strerror(errno));
			return -1;
		}
		*p = '/';
	}
	return 0;
}

static int migrate(struct store *s, struct ht_err *err)
{
	sqlite3_stmt *st;
	int version;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return db_fail(s, err, "reading schema version");
	version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	if (version < 0)
		return db_fail(s, err, "reading schema version");
	if (version > STORE_SCHEMA_VERSION) {
		ht_err_set(err, "%s: schema version %d is newer than this healthtop knows (%d)", s->path,
			   version, STORE_SCHEMA_VERSION);
		return -1;
	}
	for (int v = version; v < STORE_SCHEMA_VERSION; v++) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (tx_begin(s, "starting migration", err) < 0)
			return -1;
		bool ok = sqlite3_exec(s->db, migrations[v], NULL, NULL, NULL) == SQLITE_OK &&
			  sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK;
		if (tx_end(s, ok, "migrating schema", err) < 0)
			return -1;
	}
	return 0;
}

static int configure(struct store *s, struct ht_err *err)
{
	static const char pragmas[] =
		"PRAGMA journal_mode=WAL;"
		"PRAGMA synchronous=NORMAL;"
		"PRAGMA foreign_keys=ON;";

	if (sqlite3_busy_timeout(s->db, 5000) != SQLITE_OK ||
	    sqlite3_exec(s->db, pragmas, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(s, err, "configuring");
	return 0;
}

static int prepare(struct store *s, struct ht_err *err)
{
	static const char upsert[] =
		"INSERT INTO target(name, project, url) VALUES(?1, ?2, ?3)"
		" ON CONFLICT(name) DO UPDATE SET project = excluded.project, url = excluded.url"
		" RETURNING id";
	static const char insert[] =
		"INSERT INTO result(target_id, checked_at, status, http_code, response_ms, dns_ms,"
		" connect_ms, tls_ms, ttfb_ms, cert_expiry, reason, error)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

	static const char recent[] =
		"SELECT target_id, checked_at, status, http_code, response_ms, dns_ms, connect_ms,"
		" tls_ms, ttfb_ms, cert_expiry, reason FROM result"
		" WHERE target_id = ?1 ORDER BY checked_at DESC LIMIT ?2";
	static const char window_raw[] =
		"SELECT target_id, status, ht_bucket(" LATENCY_SQL "), count(*) FROM result"
		/* else the planner scans all of (target_id, checked_at) to avoid a sort */
		" INDEXED BY result_time WHERE checked_at >= ?1 AND checked_at < ?2 GROUP BY 1, 2, 3";
	static const char window_hour[] =
		"SELECT target_id, n_healthy, n_degraded, n_down, hist FROM rollup_hour WHERE period >= ?1 AND period < ?2";
	static const char window_day[] =
		"SELECT target_id, n_healthy, n_degraded, n_down, hist FROM rollup_day WHERE period >= ?1 AND period < ?2";
#define UPSERT(name) \
		"INSERT INTO " name " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)" \
		" ON CONFLICT(target_id, period) DO UPDATE SET" \
		" n_healthy = n_healthy + excluded.n_healthy, n_degraded = n_degraded + excluded.n_degraded," \
		" n_down = n_down + excluded.n_down, n_latency = n_latency + excluded.n_latency," \
		" sum_ms = sum_ms + excluded.sum_ms," \
		" min_ms = coalesce(min(min_ms, excluded.min_ms), min_ms, excluded.min_ms)," \
		" max_ms = coalesce(max(max_ms, excluded.max_ms), max_ms, excluded.max_ms)," \
		" hist = ht_hist_merge(hist, excluded.hist)"
	static const char upsert_hour[] = UPSERT("rollup_hour");
	static const char upsert_day[] = UPSERT("rollup_day");
#undef UPSERT
	static const char insert_change[] = "INSERT INTO state_change VALUES(?1, ?2, ?3, ?4)";
	static const char last_status[] =
		"SELECT coalesce((SELECT status FROM result WHERE target_id = ?1 ORDER BY checked_at DESC LIMIT 1),"
		" (SELECT to_status FROM state_change WHERE target_id = ?1 ORDER BY at DESC LIMIT 1), -1)";
	const struct { const char *sql; sqlite3_stmt **st; } all[] = {
		{ upsert, &s->upsert_target }, { insert, &s->insert_result }, { recent, &s->recent },
		{ window_raw, &s->window_raw }, { window_hour, &s->window_hour }, { window_day, &s->window_day },
		{ upsert_hour, &s->upsert_hour }, { upsert_day, &s->upsert_day },
		{ insert_change, &s->insert_change }, { last_status, &s->last_status },
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (sqlite3_prepare_v3(s->db, all[i].sql, -1, SQLITE_PREPARE_PERSISTENT, all[i].st, NULL) != SQLITE_OK)
			return db_fail(s, err, "preparing statements");
	return 0;
}

/* ht_bucket(ms): the latency histogram bucket, NULL for no latency. */
static void sql_bucket(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_int(ctx, hist_bucket(sqlite3_value_double(argv[0])));
}

static void result_hist(sqlite3_context *ctx, const struct hist *h)
{
	unsigned char blob[HIST_BLOB_MAX];
	size_t n = hist_encode(h, blob, sizeof(blob));

	sqlite3_result_blob(ctx, blob, (int)n, SQLITE_TRANSIENT);
}

/* ht_hist_merge(a, b): the sum of two histogram blobs; a damaged one counts as empty. */
static void sql_hist_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct hist h;

	memset(&h, 0, sizeof(h));
	for (int i = 0; i < 2; i++)
		hist_decode_add(&h, sqlite3_value_blob(argv[i]), (size_t)sqlite3_value_bytes(argv[i]));
	result_hist(ctx, &h);
}

/* ht_hist_agg(ms): the histogram of a column, for the migration's backfill. */
static void sql_hist_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct hist *h = sqlite3_aggregate_context(ctx, sizeof(*h));

	if (h && sqlite3_value_type(argv[0]) != SQLITE_NULL)
		hist_add(h, sqlite3_value_double(argv[0]));
}

static void sql_hist_final(sqlite3_context *ctx)
{
	struct hist *h = sqlite3_aggregate_context(ctx, 0);
	struct hist empty;

	memset(&empty, 0, sizeof(empty));
	result_hist(ctx, h ? h : &empty);
}

static int register_functions(struct store *s, struct ht_err *err)
{
	const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;

	if (sqlite3_create_function_v2(s->db, "ht_bucket", 1, flags, NULL, sql_bucket, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function_v2(s->db, "ht_hist_merge", 2, flags, NULL, sql_hist_merge, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function_v2(s->db, "ht_hist_agg", 1, flags, NULL, NULL, sql_hist_step, sql_hist_final, NULL) != SQLITE_OK)
		return db_fail(s, err, "registering functions");
	return 0;
}

int store_open(const char *path, struct store **out, struct ht_err *err)
{
	struct store *s = calloc(1, sizeof(*s));
	int fd;

	*out = NULL;
	if (!s) {
		ht_err_set(err, "%s: out of memory", path);
		return -1;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	if (mkdir_parents(path, err) < 0)
		goto fail;
	/* Create it ourselves so it is 0600 from the first byte; SQLite gives -wal and -shm the
	 * same mode. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		ht_err_set(err, "%s: cannot open: %s", path, strerror(errno));
		goto fail;
	}
	close(fd);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		db_fail(s, err, "cannot open database");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	if (configure(s, err) < 0 || register_functions(s, err) < 0 || migrate(s, err) < 0 ||
	    prepare(s, err) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	store_close(s);
	return -1;
}

int store_open_readonly(const char *path, struct store **out, struct ht_err *err)
{
	struct store *s = calloc(1, sizeof(*s));
	sqlite3_stmt *st = NULL;
	int version = -1;

	*out = NULL;
	if (!s) {
		ht_err_set(err, "%s: out of memory", path);
		return -1;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		db_fail(s, err, "cannot open database");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version != STORE_SCHEMA_VERSION) {
		if (version < 0)
			db_fail(s, err, "not a healthtop database");
		else
			ht_err_set(err, "%s: schema version %d, this healthtop reads %d%s", path, version,
				   STORE_SCHEMA_VERSION, version < STORE_SCHEMA_VERSION ?
				   " (run the dashboard or 'healthtop check' once to upgrade it)" : "");
		goto fail;
	}
	if (register_functions(s, err) < 0 || prepare(s, err) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	store_close(s);
	return -1;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->upsert_target);
	sqlite3_finalize(s->insert_result);
	sqlite3_finalize(s->recent);
	sqlite3_finalize(s->window_raw);
	sqlite3_finalize(s->window_hour);
	sqlite3_finalize(s->window_day);
	sqlite3_finalize(s->upsert_hour);
	sqlite3_finalize(s->upsert_day);
	sqlite3_finalize(s->insert_change);
	sqlite3_finalize(s->last_status);
	free(s->last_cls);
	sqlite3_close(s->db);
	free(s);
}

int store_target_id(struct store *s, const char *name, const char *project, const char *url,
		    int64_t *id, struct ht_err *err)
{
	sqlite3_stmt *st = s->upsert_target;
	int rc;

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
		return db_fail(s, err, "recording target");
	return 0;
}

static void bind_ms(sqlite3_stmt *st, int col, double ms)
{
	if (ms < 0)
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_double(st, col, ms);
}

static int insert_row(struct store *s, const struct store_row *r)
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
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int upsert_rollup(sqlite3_stmt *st, const struct store_row *r, int64_t period_s)
{
	bool has_latency = r->http_code > 0 && r->response_ms >= 0;
	struct hist h;
	unsigned char blob[HIST_BLOB_MAX];
	size_t blen;
	int rc;

	memset(&h, 0, sizeof(h));
	if (has_latency)
		hist_add(&h, r->response_ms);
	blen = hist_encode(&h, blob, sizeof(blob));
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
	sqlite3_bind_blob(st, 9, blob, (int)blen, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
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

static void forget_last_classes(struct store *s)
{
	if (s->last_cls)
		memset(s->last_cls, -2, s->nlast);   /* a rolled-back batch leaves the cache unsure */
}

int store_append_batch(struct store *s, const struct store_row *rows, size_t n, struct ht_err *err)
{
	if (n == 0)
		return 0;
	if (tx_begin(s, "starting a write", err) < 0)
		return -1;
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++) {
		/* The change first: it compares with the latest row before this one is in. */
		ok = record_change(s, &rows[i]) == 0 && insert_row(s, &rows[i]) == 0 &&
		     upsert_rollup(s->upsert_hour, &rows[i], 3600) == 0 &&
		     upsert_rollup(s->upsert_day, &rows[i], 86400) == 0;
	}
	if (tx_end(s, ok, "writing results", err) < 0) {
		forget_last_classes(s);
		return -1;
	}
	return 0;
}

/* Text from the file: never NULL, whatever a damaged database holds. */
static const char *column_str(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	return t ? t : "";
}

static double column_ms(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : sqlite3_column_double(st, col);
}

int store_recent(struct store *s, int64_t target_id, int limit, store_row_fn fn, void *user,
		 struct ht_err *err)
{
	sqlite3_stmt *st = s->recent;
	int rc;

	sqlite3_bind_int64(st, 1, target_id);
	sqlite3_bind_int(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_read_row row = {
			.target_id = sqlite3_column_int64(st, 0),
			.checked_at_ms = sqlite3_column_int64(st, 1),
			.cls = (enum ht_class)sqlite3_column_int(st, 2),
			.http_code = (long)sqlite3_column_int64(st, 3),
			.response_ms = column_ms(st, 4),
			.dns_ms = column_ms(st, 5),
			.connect_ms = column_ms(st, 6),
			.tls_ms = column_ms(st, 7),
			.ttfb_ms = column_ms(st, 8),
			.cert_expiry = sqlite3_column_int64(st, 9),
			.reason = column_str(st, 10),
		};
		fn(user, &row);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(s, err, "reading history");
	return 0;
}

#define RAW_WINDOW_MAX_S (6 * 3600)
#define HOURLY_WINDOW_MAX_S (8 * 86400)

const char *store_window_source(int64_t since_ms, int64_t now_ms)
{
	int64_t span_s = (now_ms - since_ms) / 1000;

	return span_s <= RAW_WINDOW_MAX_S ? "raw" : span_s <= HOURLY_WINDOW_MAX_S ? "hourly" : "daily";
}

/* Raw results in [since, until), grouped by target, class and latency bucket. */
static int read_raw(struct store *s, int64_t since_ms, int64_t until_ms, store_window_fn fn, void *user,
		    struct ht_err *err)
{
	sqlite3_stmt *st = s->window_raw;
	int rc;

	sqlite3_bind_int64(st, 1, since_ms);
	sqlite3_bind_int64(st, 2, until_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int bucket = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 2);
		fn(user, sqlite3_column_int64(st, 0), (enum ht_class)sqlite3_column_int(st, 1), bucket,
		   (uint32_t)sqlite3_column_int64(st, 3));
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_fail(s, err, "reading history");
}

/* Rollup rows whose period starts in [since rounded down, until): counts, then buckets. */
static int read_rollup(struct store *s, sqlite3_stmt *st, int64_t period_s, int64_t since_ms,
		       int64_t until_ms, store_window_fn fn, void *user, struct ht_err *err)
{
	int rc;

	sqlite3_bind_int64(st, 1, since_ms / (period_s * 1000) * period_s);
	sqlite3_bind_int64(st, 2, until_ms == INT64_MAX ? INT64_MAX : (until_ms + 999) / 1000);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		struct hist h;
		memset(&h, 0, sizeof(h));
		for (int c = 0; c < HT_CLASS_COUNT; c++)
			fn(user, id, (enum ht_class)c, -1, (uint32_t)sqlite3_column_int64(st, 1 + c));
		if (hist_decode_add(&h, sqlite3_column_blob(st, 4), (size_t)sqlite3_column_bytes(st, 4)) < 0)
			continue;   /* a damaged histogram: the counts above still hold */
		for (int b = 0; b < HIST_BUCKETS; b++)
			if (h.counts[b])
				fn(user, id, (enum ht_class)-1, b, h.counts[b]);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_fail(s, err, "reading history");
}

int store_window(struct store *s, int64_t since_ms, int64_t now_ms, store_window_fn fn, void *user,
		 struct ht_err *err)
{
	const char *src = store_window_source(since_ms, now_ms);

	if (src[0] == 'r')
		return read_raw(s, since_ms, INT64_MAX, fn, user, err);
	if (src[0] == 'h')
		return read_rollup(s, s->window_hour, 3600, since_ms, INT64_MAX, fn, user, err);
	return read_rollup(s, s->window_day, 86400, since_ms, INT64_MAX, fn, user, err);
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

static int64_t complete_since(struct store *s, const char *table)
{
	char key[64];
	sqlite3_stmt *st;
	int64_t v = 0;

	snprintf(key, sizeof(key), "complete_since.%s", table);
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
		return INT64_MAX;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
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

	*deleted = 0;
	if (tx_begin(s, "starting to prune", err) < 0)
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
	return tx_end(s, rc == 0, "pruning old history", err);
}

/* ["a","b"] for json_each(), or NULL for no list. */
static char *json_list(const char *const *items)
{
	size_t len = 3;
	char *out, *o;

	if (!items)
		return NULL;
	for (size_t i = 0; items[i]; i++)
		len += strlen(items[i]) * 6 + 3;
	if (!(out = malloc(len)))
		return NULL;
	o = out;
	*o++ = '[';
	for (size_t i = 0; items[i]; i++) {
		o += sprintf(o, "%s\"", i ? "," : "");
		for (const unsigned char *p = (const unsigned char *)items[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				o += sprintf(o, "\\%c", *p);
			else if (*p < 0x20)
				o += sprintf(o, "\\u%04x", *p);
			else
				*o++ = (char)*p;
		}
		*o++ = '"';
	}
	*o++ = ']';
	*o = '\0';
	return out;
}

/* Prepares an export query whose ?1/?2 are the range and ?3/?4 the name and project lists. */
static sqlite3_stmt *prepare_query(struct store *s, const char *sql, const struct store_query *q,
				   int64_t lo, int64_t hi, const char *what, struct ht_err *err)
{
	char *names = json_list(q->names), *projects = json_list(q->projects);
	sqlite3_stmt *st = NULL;

	if ((q->names && !names) || (q->projects && !projects) ||
	    sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail(s, err, what);
		st = NULL;
	} else {
		sqlite3_bind_int64(st, 1, lo);
		sqlite3_bind_int64(st, 2, hi);
		sqlite3_bind_text(st, 3, names, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, projects, -1, SQLITE_TRANSIENT);
	}
	free(names);
	free(projects);
	return st;
}

struct store_cursor {
	struct store *s;
	sqlite3_stmt *st;
};

struct store_cursor *store_export_begin(struct store *s, const struct store_query *q, struct ht_err *err)
{
	static const char sql[] =
		"SELECT r.checked_at, t.project, t.name, t.url, r.status, r.http_code, r.response_ms,"
		" r.dns_ms, r.connect_ms, r.tls_ms, r.ttfb_ms, r.reason"
		" FROM result r JOIN target t ON t.id = r.target_id"
		" WHERE r.checked_at >= ?1 AND r.checked_at < ?2"
		" AND (?3 IS NULL OR t.name IN (SELECT value FROM json_each(?3)))"
		" AND (?4 IS NULL OR t.project IN (SELECT value FROM json_each(?4)))"
		" ORDER BY r.checked_at, t.name";
	struct store_cursor *c = calloc(1, sizeof(*c));

	if (!c) {
		ht_err_set(err, "out of memory");
		return NULL;
	}
	c->s = s;
	c->st = prepare_query(s, sql, q, q->since_ms, q->until_ms, "preparing the export", err);
	if (!c->st) {
		free(c);
		return NULL;
	}
	return c;
}

int store_export_step(struct store_cursor *c, int max_rows, store_export_fn fn, void *user, struct ht_err *err)
{
	sqlite3_stmt *st = c->st;
	int rc = SQLITE_ROW, stop = 0;

	for (int n = 0; !stop && n < max_rows && (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
		struct export_row row = {
			.checked_at_ms = sqlite3_column_int64(st, 0),
			.project = column_str(st, 1),
			.name = column_str(st, 2),
			.url = column_str(st, 3),
			.cls = (enum ht_class)sqlite3_column_int(st, 4),
			.http_code = (long)sqlite3_column_int64(st, 5),
			.response_ms = column_ms(st, 6), .dns_ms = column_ms(st, 7),
			.connect_ms = column_ms(st, 8), .tls_ms = column_ms(st, 9),
			.ttfb_ms = column_ms(st, 10),
			.reason = column_str(st, 11),
		};
		stop = fn(user, &row);
	}
	if (stop)
		return stop;
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : db_fail(c->s, err, "reading results to export");
}

void store_export_end(struct store_cursor *c)
{
	if (!c)
		return;
	sqlite3_finalize(c->st);
	free(c);
}

int store_export(struct store *s, const struct store_query *q, store_export_fn fn, void *user,
		 struct ht_err *err)
{
	struct store_cursor *c = store_export_begin(s, q, err);
	int rc;

	if (!c)
		return -1;
	while ((rc = store_export_step(c, 1 << 30, fn, user, err)) == 1)
		;
	store_export_end(c);
	return rc;
}

void store_set_busy_timeout(struct store *s, int ms)
{
	sqlite3_busy_timeout(s->db, ms);
}

int store_export_rollup(struct store *s, const struct store_query *q, int period_s, store_rollup_fn fn,
			void *user, struct ht_err *err)
{
	char sql[768];
	int rc = SQLITE_DONE, stop = 0;

	snprintf(sql, sizeof(sql),
		 "SELECT r.period, t.project, t.name, t.url, r.n_healthy, r.n_degraded, r.n_down, r.n_latency,"
		 " r.sum_ms, r.min_ms, r.max_ms, r.hist FROM %s r JOIN target t ON t.id = r.target_id"
		 " WHERE r.period >= ?1 AND r.period < ?2"
		 " AND (?3 IS NULL OR t.name IN (SELECT value FROM json_each(?3)))"
		 " AND (?4 IS NULL OR t.project IN (SELECT value FROM json_each(?4)))"
		 " ORDER BY r.period, t.name", period_s == 3600 ? "rollup_hour" : "rollup_day");
	/* A period that starts before `since` but reaches into it counts too. */
	sqlite3_stmt *st = prepare_query(s, sql, q, q->since_ms / 1000 / period_s * period_s,
					 q->until_ms == INT64_MAX ? INT64_MAX : (q->until_ms + 999) / 1000,
					 "preparing the rollup export", err);
	if (!st)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hist h;
		int64_t nlat = sqlite3_column_int64(st, 7);
		memset(&h, 0, sizeof(h));
		hist_decode_add(&h, sqlite3_column_blob(st, 11), (size_t)sqlite3_column_bytes(st, 11));
		struct export_rollup row = {
			.period_start_ms = sqlite3_column_int64(st, 0) * 1000,
			.project = column_str(st, 1),
			.name = column_str(st, 2),
			.url = column_str(st, 3),
			.counts = { (uint32_t)sqlite3_column_int64(st, 4), (uint32_t)sqlite3_column_int64(st, 5),
				    (uint32_t)sqlite3_column_int64(st, 6) },
			.min_ms = column_ms(st, 9), .max_ms = column_ms(st, 10),
			.avg_ms = nlat > 0 ? sqlite3_column_double(st, 8) / (double)nlat : -1,
			.p50_ms = hist_quantile(&h, 0.50), .p95_ms = hist_quantile(&h, 0.95),
			.p99_ms = hist_quantile(&h, 0.99),
		};
		stop = fn(user, &row);
	}
	sqlite3_finalize(st);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : db_fail(s, err, "reading rollups to export");
}

int store_targets(struct store *s, store_target_fn fn, void *user, struct ht_err *err)
{
	sqlite3_stmt *st;
	int rc, stop = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT id, name, project, url FROM target ORDER BY project, name", -1, &st, NULL) != SQLITE_OK)
		return db_fail(s, err, "listing targets");
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_target t = { sqlite3_column_int64(st, 0), column_str(st, 1), column_str(st, 2),
					  column_str(st, 3) };
		stop = fn(user, &t);
	}
	sqlite3_finalize(st);
	return stop ? stop : rc == SQLITE_DONE ? 0 : db_fail(s, err, "listing targets");
}

static int64_t query_i64(struct store *s, const char *sql, int64_t arg, int64_t fallback)
{
	sqlite3_stmt *st;
	int64_t v = fallback;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fallback;
	sqlite3_bind_int64(st, 1, arg);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int store_aggregate(struct store *s, int64_t since_ms, int64_t until_ms, store_window_fn fn, void *user,
		    const char **source, struct ht_err *err)
{
	if (since_ms >= complete_since(s, "result")) {
		*source = "raw";
		return read_raw(s, since_ms, until_ms, fn, user, err);
	}
	if (since_ms >= complete_since(s, "rollup_hour")) {
		*source = "hourly";
		return read_rollup(s, s->window_hour, 3600, since_ms, until_ms, fn, user, err);
	}
	*source = "daily";
	return read_rollup(s, s->window_day, 86400, since_ms, until_ms, fn, user, err);
}

int store_changes(struct store *s, int64_t until_ms, store_change_fn fn, void *user, struct ht_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT target_id, at, from_status, to_status FROM state_change"
			       " WHERE at < ?1 ORDER BY target_id, at", -1, &st, NULL) != SQLITE_OK)
		return db_fail(s, err, "reading state changes");
	sqlite3_bind_int64(st, 1, until_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(user, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int(st, 2),
		   sqlite3_column_int(st, 3));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(s, err, "reading state changes");
}

int64_t store_first_seen(struct store *s, int64_t target_id)
{
	/* From the most precise table that still holds the target's beginning: a rollup period
	 * starts before the first check in it. */
	static const struct { const char *table, *sql; } order[] = {
		{ "result", "SELECT min(checked_at) FROM result WHERE target_id = ?1" },
		{ "rollup_hour", "SELECT min(period) * 1000 FROM rollup_hour WHERE target_id = ?1" },
		{ "rollup_day", "SELECT min(period) * 1000 FROM rollup_day WHERE target_id = ?1" },
	};

	for (size_t i = 0; i < 3; i++) {
		int64_t v = query_i64(s, order[i].sql, target_id, INT64_MAX);
		if (v != INT64_MAX && (complete_since(s, order[i].table) == 0 || i == 2))
			return v;
	}
	return 0;
}

char *store_default_path(const char *file, char *buf, size_t size)
{
	return paths_xdg(PATHS_STATE, file, buf, size);
}

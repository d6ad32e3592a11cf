/* Opening the history: creating it private, migrating its schema, the SQL functions it uses. */
#include "autoconfig.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "healthtop/core/paths.h"
#include "store_priv.h"
#include "store_pg.h"

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
	" sum(status = 0), sum(status = 1), sum(status = 2), count(" STORE_LATENCY_SQL ")," \
	" coalesce(sum(" STORE_LATENCY_SQL "), 0), min(" STORE_LATENCY_SQL "), max(" STORE_LATENCY_SQL ")," \
	" ht_hist_agg(" STORE_LATENCY_SQL ") FROM result GROUP BY 1, 2;"

#define ROLLUP_UP(name, secs) \
	"ALTER TABLE " name " ADD COLUMN n_up INTEGER NOT NULL DEFAULT 0;" \
	"UPDATE " name " SET n_up = n_healthy + n_degraded;" \
	"UPDATE " name " SET n_up = g.up FROM (SELECT target_id, checked_at / (" secs " * 1000) * " secs \
	" AS period, count(*) AS n, sum(up) AS up FROM result GROUP BY 1, 2) AS g" \
	" WHERE g.target_id = " name ".target_id AND g.period = " name ".period" \
	" AND g.n = " name ".n_healthy + " name ".n_degraded + " name ".n_down;"

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

	/* 3: each result keeps the URL that was checked (an id: URLs repeat in every row), so a
	 * changed config never rewrites history. Rows from before keep the URL their target had at
	 * the upgrade (url_at_upgrade): constant time, however long the history. */
	"CREATE TABLE checked_url(id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE) STRICT;"
	"ALTER TABLE result ADD COLUMN url_id INTEGER REFERENCES checked_url(id);"
	"ALTER TABLE rollup_hour ADD COLUMN url_id INTEGER REFERENCES checked_url(id);"
	"ALTER TABLE rollup_day ADD COLUMN url_id INTEGER REFERENCES checked_url(id);"
	"ALTER TABLE target ADD COLUMN url_at_upgrade TEXT;"
	"UPDATE target SET url_at_upgrade = url;",

	/* 4: honest uptime. Each result says whether it counts as up (it answered in time with an
	 * accepted status and was not down); before this every result took the default
	 * expect_status, 2xx. Rollups count their up checks: recomputed from raw results for every
	 * period the raw table still holds whole, else (pruned) they keep the old meaning, up = not
	 * down, as docs/config.md says. */
	"ALTER TABLE result ADD COLUMN up INTEGER NOT NULL DEFAULT 0 CHECK (up IN (0, 1));"
	"UPDATE result SET up = coalesce(http_code BETWEEN 200 AND 299 AND status != 2, 0);"
	ROLLUP_UP("rollup_hour", "3600")
	ROLLUP_UP("rollup_day", "86400"),

	/* 5: notifications not yet delivered (a restart sends them, in order, once) and mutes,
	 * which outlive the process that set them and reach every poller. */
	"CREATE TABLE notify_queue("
	"  id INTEGER PRIMARY KEY,"                /* the notifier's id: delivery order per destination */
	"  dest TEXT NOT NULL,"                    /* the destination's key (never its secret URL) */
	"  name TEXT NOT NULL, project TEXT NOT NULL, url TEXT NOT NULL,"
	"  old_status INTEGER NOT NULL, new_status INTEGER NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  since INTEGER NOT NULL, at INTEGER NOT NULL, created INTEGER NOT NULL,"   /* unix ms */
	"  attempts INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE mute("
	"  scope TEXT PRIMARY KEY,"                /* NAME, or project:NAME */
	"  until_ms INTEGER NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL"
	") STRICT;",

	/* 6: one poller, many viewers. The lease names the process that probes (its heartbeat
	 * refreshed each second by its writer thread) and publishes its targets (JSON without
	 * headers: no secret is stored); viewers queue forced checks for it. */
	"CREATE TABLE poller_lease("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  pid INTEGER NOT NULL, host TEXT NOT NULL,"
	"  started INTEGER NOT NULL, heartbeat INTEGER NOT NULL,"   /* unix ms */
	"  config TEXT NOT NULL"
	") STRICT;"
	"CREATE TABLE force_request("
	"  id INTEGER PRIMARY KEY,"
	"  target TEXT NOT NULL,"                  /* a target's name; '' for every target */
	"  requested_at INTEGER NOT NULL,"
	"  pid INTEGER NOT NULL, host TEXT NOT NULL"
	") STRICT;",
};

int store_db_fail(struct store *s, struct ht_err *err, const char *what)
{
	ht_err_set(err, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
	return -1;
}

int store_tx_begin(struct store *s, const char *what, struct ht_err *err)
{
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return store_db_fail(s, err, what);
	return 0;
}

int store_tx_end(struct store *s, bool ok, const char *what, struct ht_err *err)
{
	if (ok && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	store_db_fail(s, err, what);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int store_prepare_all(struct store *s, const char *const *sql, sqlite3_stmt **const *st, size_t n,
		      struct ht_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, st[i], NULL) != SQLITE_OK)
			return store_db_fail(s, err, "preparing statements");
	return 0;
}

const char *store_column_str(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	return t ? t : "";
}

double store_column_ms(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : sqlite3_column_double(st, col);
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

static int schema_version(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int version = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return version;
}

static int migrate(struct store *s, struct ht_err *err)
{
	int version = schema_version(s);

	if (version < 0)
		return store_db_fail(s, err, "reading schema version");
	if (version > STORE_SCHEMA_VERSION) {
		ht_err_set(err, "%s: schema version %d is newer than this healthtop knows (%d)", s->path,
			   version, STORE_SCHEMA_VERSION);
		return -1;
	}
	for (int v = version; v < STORE_SCHEMA_VERSION; v++) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (store_tx_begin(s, "starting migration", err) < 0)
			return -1;
		bool ok = sqlite3_exec(s->db, migrations[v], NULL, NULL, NULL) == SQLITE_OK &&
			  sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK;
		if (store_tx_end(s, ok, "migrating schema", err) < 0)
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
		return store_db_fail(s, err, "configuring");
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
		return store_db_fail(s, err, "registering functions");
	return 0;
}

static struct store *store_new(const char *path, struct ht_err *err)
{
	struct store *s = calloc(1, sizeof(*s));

	if (!s)
		ht_err_set(err, "%s: out of memory", path);
	else
		snprintf(s->path, sizeof(s->path), "%s", path);
	return s;
}

int store_open(const char *path, struct store **out, struct ht_err *err)
{
	if (store_is_postgres(path))
		return store_pg_open(path, false, out, err);
	struct store *s = store_new(path, err);
	int fd;

	*out = NULL;
	if (!s)
		return -1;
	if (mkdir_parents(path, err) < 0)
		goto fail;
	/* Create it ourselves so it is 0600 from the first byte; SQLite gives -wal and -shm the
	 * same mode. Only when it does not exist: closing any descriptor of a file drops every POSIX
	 * lock this process holds on it, so an open and close here beside a live connection (the
	 * dashboard's reader) lets another process think it is the last one, checkpoint and delete
	 * the WAL under us, and our commits would vanish with it. */
	fd = access(path, F_OK) == 0 ? -2 : open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 && errno != EEXIST) {
		ht_err_set(err, "%s: cannot open: %s", path, strerror(errno));
		goto fail;
	}
	if (fd >= 0)
		close(fd);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		store_db_fail(s, err, "cannot open database");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	if (configure(s, err) < 0 || register_functions(s, err) < 0 || migrate(s, err) < 0 ||
	    store_prepare_write(s, err) < 0 || store_prepare_read(s, err) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	store_close(s);
	return -1;
}

/* Whether the directory holding path lets us create files (WAL's -shm) in it. */
static bool dir_writable(const char *path)
{
	char dir[1024];
	const char *slash = strrchr(path, '/');

	if (!slash)
		return access(".", W_OK) == 0;
	snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	return access(dir, W_OK) == 0;
}

/* file:PATH?immutable=1, PATH percent-escaped where a URI would read it otherwise. */
static void immutable_uri(const char *path, char *buf, size_t size)
{
	size_t o = snprintf(buf, size, "file:");

	for (const unsigned char *p = (const unsigned char *)path; *p && o + 4 < size; p++) {
		if (*p == '?' || *p == '#' || *p == '%' || *p < 0x21)
			o += (size_t)snprintf(buf + o, size - o, "%%%02X", *p);
		else
			buf[o++] = (char)*p;
	}
	snprintf(buf + o, size - o, "?immutable=1");
}

/* Opens read-only and reads the schema version; -1 when the database cannot be read. */
static int open_reader(struct store *s, const char *name, int flags)
{
	sqlite3_close(s->db);
	s->db = NULL;
	if (sqlite3_open_v2(name, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | flags, NULL) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(s->db, 5000);
	return schema_version(s);
}

int store_open_readonly(const char *path, struct store **out, struct ht_err *err)
{
	if (store_is_postgres(path))
		return store_pg_open(path, true, out, err);
	struct store *s = store_new(path, err);
	struct stat sb;
	int version, rc = -1;

	*out = NULL;
	if (!s)
		return -1;
	if (stat(path, &sb) != 0) {
		ht_err_set(err, "%s: %s", path, strerror(errno));
		store_close(s);
		return errno == ENOENT ? -ENOENT : -1;
	}
	version = open_reader(s, path, 0);
	if (version < 0 && !dir_writable(path)) {
		/* A WAL database needs a -shm file beside it; where none can be made, no writer can
		 * be running there either, so the file as it stands is the whole truth. */
		char uri[3200];
		immutable_uri(path, uri, sizeof(uri));
		version = open_reader(s, uri, SQLITE_OPEN_URI);
	}
	if (version != STORE_SCHEMA_VERSION) {
		if (version >= 0 && version < STORE_SCHEMA_VERSION)   /* a writer migrates it, maybe now */
			rc = -EAGAIN;
		if (version < 0)
			store_db_fail(s, err, "not a readable healthtop database");
		else
			ht_err_set(err, "%s: schema version %d, this healthtop reads %d%s", path, version,
				   STORE_SCHEMA_VERSION, version < STORE_SCHEMA_VERSION ?
				   " (run the dashboard or 'healthtop check' once to upgrade it)" : "");
		goto fail;
	}
	if (register_functions(s, err) < 0 || store_prepare_read(s, err) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	store_close(s);
	return rc;
}

void store_close(struct store *s)
{
	sqlite3_stmt *st;

	if (!s)
		return;
	if (s->pg) {
		store_pg_close(s);
		return;
	}
	while (s->db && (st = sqlite3_next_stmt(s->db, NULL)))
		sqlite3_finalize(st);
	free(s->last_cls);
	store_forget_urls(s);
	sqlite3_close(s->db);
	free(s);
}

bool store_usable(const struct store *s)
{
	return !s->pg || (s->pg->conn && PQstatus(s->pg->conn) == CONNECTION_OK);
}

void store_set_busy_timeout(struct store *s, int ms)
{
	if (s->pg) {
		store_pg_set_busy_timeout(s, ms);
		return;
	}
	sqlite3_busy_timeout(s->db, ms);
}

char *store_default_path(const char *file, char *buf, size_t size)
{
	return paths_xdg(PATHS_STATE, file, buf, size);
}

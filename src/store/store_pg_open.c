/* The PostgreSQL room: which --db values select it, connecting (and reconnecting after the
 * database went away), creating and migrating the schema, and the query helpers the other
 * store_pg_*.c files share. */
#include "autoconfig.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/sanitize.h"
#include "store_priv.h"
#include "store_pg.h"

/* A rollup is kept as deltas: each batch appends one row per (target, period) it touched (COPY,
 * no upsert: merging histograms row by row in SQL cost half the insert rate), readers add the
 * rows of a key up, and pruning's compaction folds them into one (store_pg_prune.c). Hourly and
 * daily are partitions of one table; since schema 5 a batch writes a third, rollup_fresh. */
#define ROLLUP_TABLES \
	"CREATE TABLE rollup(" \
	"  kind smallint NOT NULL," /* 0 hourly, 1 daily: one COPY fills both partitions */ \
	"  target_id bigint NOT NULL," \
	"  period bigint NOT NULL," /* unix s of the hour's or the UTC day's start */ \
	"  n_healthy integer NOT NULL, n_degraded integer NOT NULL, n_down integer NOT NULL," \
	"  n_up integer NOT NULL, n_latency integer NOT NULL," \
	"  sum_ms double precision NOT NULL, min_ms double precision, max_ms double precision," \
	"  hist text NOT NULL," /* JSON {"bucket": count}: sparse; text, not jsonb: parsed on read only */ \
	"  url_id bigint," \
	"  last_at bigint NOT NULL" /* the newest check in the delta: its url_id is the period's */ \
	") PARTITION BY LIST (kind);" \
	"CREATE TABLE rollup_hour PARTITION OF rollup FOR VALUES IN (0);" \
	"CREATE TABLE rollup_day PARTITION OF rollup FOR VALUES IN (1);" \
	"ALTER TABLE rollup_hour ALTER COLUMN kind SET DEFAULT 0;" \
	"ALTER TABLE rollup_day ALTER COLUMN kind SET DEFAULT 1;" \
	"CREATE INDEX rollup_key ON rollup(target_id, period);" \
	"CREATE INDEX rollup_period ON rollup(period);"

/* What readers see of a rollup row (the views of schema 5): the key, then the values. */
#define ROLLUP_VALUES " n_healthy, n_degraded, n_down, n_up, n_latency, sum_ms, min_ms, max_ms, hist, url_id, last_at"
#define ROLLUP_COLUMNS "target_id, period," ROLLUP_VALUES

/* Each entry takes the schema from version i to i+1; never edit one that has shipped. The
 * tables mean what SQLite's schema 6 means (store_open.c), with two differences: raw results are
 * partitioned by UTC day (store_pg_write.c creates the partitions; retention drops them whole)
 * and each keeps its latency bucket, which SQLite computes with a C function PostgreSQL lacks. */
static const char *const migrations[STORE_PG_SCHEMA_VERSION] = {
	"CREATE TABLE target(id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, project text NOT NULL,"
	"  url text NOT NULL);"
	"CREATE TABLE checked_url(id bigserial PRIMARY KEY, url text NOT NULL UNIQUE);"
	"CREATE SEQUENCE result_id;"
	"CREATE TABLE result("
	"  id bigint NOT NULL DEFAULT nextval('result_id'),"   /* the order viewers read new rows in */
	"  target_id bigint NOT NULL,"
	"  checked_at bigint NOT NULL,"                        /* unix ms, UTC */
	"  status smallint NOT NULL CHECK (status BETWEEN 0 AND 2),"
	"  http_code integer,"
	"  response_ms double precision, dns_ms double precision, connect_ms double precision,"
	"  tls_ms double precision, ttfb_ms double precision,"
	"  cert_expiry bigint,"                                /* unix s */
	"  reason text NOT NULL, error text,"
	"  url_id bigint,"
	"  up boolean NOT NULL,"
	"  bucket smallint"                                    /* hist_bucket(latency); NULL: none */
	") PARTITION BY RANGE (checked_at);"
	"CREATE INDEX result_target_time ON result(target_id, checked_at);"
	"CREATE INDEX result_time ON result USING brin(checked_at);"
	"CREATE INDEX result_id_idx ON result(id);"
	ROLLUP_TABLES
	"CREATE TABLE state_change(target_id bigint NOT NULL, at bigint NOT NULL,"
	"  from_status smallint NOT NULL, to_status smallint NOT NULL);"
	"CREATE INDEX state_change_target_at ON state_change(target_id, at);"
	"CREATE INDEX state_change_at ON state_change(at);"
	"CREATE TABLE meta(key text PRIMARY KEY, value bigint NOT NULL);"
	"CREATE TABLE notify_queue(id bigint PRIMARY KEY, dest text NOT NULL, name text NOT NULL,"
	"  project text NOT NULL, url text NOT NULL, old_status integer NOT NULL, new_status integer NOT NULL,"
	"  reason text NOT NULL, since bigint NOT NULL, at bigint NOT NULL, created bigint NOT NULL,"
	"  attempts integer NOT NULL);"
	"CREATE TABLE mute(scope text PRIMARY KEY, until_ms bigint NOT NULL, reason text NOT NULL,"
	"  created_ms bigint NOT NULL);"
	"CREATE TABLE poller_lease(id integer PRIMARY KEY CHECK (id = 1), pid bigint NOT NULL,"
	"  host text NOT NULL, started bigint NOT NULL, heartbeat bigint NOT NULL, config text NOT NULL);"
	"CREATE TABLE force_request(id bigserial PRIMARY KEY, target text NOT NULL,"
	"  requested_at bigint NOT NULL, pid bigint NOT NULL, host text NOT NULL);",

	/* 2: several pollers, one fleet (store_shard.h): who is alive, and who holds each shard */
	"CREATE TABLE poller(id text PRIMARY KEY, heartbeat bigint NOT NULL);"   /* database ms */
	"CREATE TABLE shard_lease(shard integer PRIMARY KEY, holder text, expires bigint NOT NULL DEFAULT 0);"
	"INSERT INTO shard_lease(shard) SELECT generate_series(0, 63);",

	/* 3: which poller checked each result (store_set_poller: host:pid); NULL before schema 3 */
	"ALTER TABLE result ADD COLUMN poller text;",

	/* 4: locations (--location): each leases its own shards; results say where from */
	"ALTER TABLE result ADD COLUMN location text;"
	"ALTER TABLE poller ADD COLUMN location text NOT NULL DEFAULT '';"
	"ALTER TABLE shard_lease ADD COLUMN location text NOT NULL DEFAULT '';"
	"ALTER TABLE shard_lease DROP CONSTRAINT shard_lease_pkey;"
	"ALTER TABLE shard_lease ADD PRIMARY KEY (location, shard);",

	/* 5: a batch writes one rollup delta per (target, hour), not two (store_pg_write.c): into
	 * the partition rollup_fresh, counted by both views below until pruning folds it into the
	 * hourly and daily tables (store_pg_prune.c). Readers keep their names: rollup_hour and
	 * rollup_day are views now, over the tables renamed rollup_h and rollup_d. */
	"ALTER TABLE rollup_hour RENAME TO rollup_h;"
	"ALTER TABLE rollup_day RENAME TO rollup_d;"
	"CREATE TABLE rollup_fresh PARTITION OF rollup FOR VALUES IN (2);"
	"CREATE VIEW rollup_hour AS SELECT " ROLLUP_COLUMNS " FROM rollup WHERE kind IN (0, 2);"
	"CREATE VIEW rollup_day AS SELECT " ROLLUP_COLUMNS " FROM rollup_d UNION ALL"
	"  SELECT target_id, period - period % 86400," ROLLUP_VALUES " FROM rollup_fresh;",

	/* 6: the quorum across locations (store_quorum.h): each location's displayed class of each
	 * target, numbered by change so that pollers read only what changed, and the class the fleet
	 * last notified (one notification per change, whoever sees it) */
	"CREATE SEQUENCE location_state_seq;"
	"CREATE TABLE location_state(target text NOT NULL, location text NOT NULL, cls smallint NOT NULL,"
	"  since bigint NOT NULL, poller text, seq bigint NOT NULL, PRIMARY KEY (target, location));"
	"CREATE INDEX location_state_by_seq ON location_state(seq);"
	"CREATE TABLE quorum_notified(target text PRIMARY KEY, cls smallint, since bigint);",
};

bool store_is_postgres(const char *db)
{
	const char *p = db;

	if (!db)
		return false;
	if (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0)
		return true;
	/* key=value conninfo: it starts with a keyword (letters and '_') then '=' */
	while (*p == ' ')
		p++;
	const char *k = p;
	while (isalpha((unsigned char)*p) || *p == '_')
		p++;
	while (*p == ' ')
		p++;
	return p > k && *p == '=';
}

/* The end of a conninfo or URI-query value starting at v: quoted ('...', \ escapes) or up to a
 * space or '&'. */
static const char *value_end(const char *v)
{
	if (*v != '\'')
		return v + strcspn(v, " &");
	for (v++; *v && *v != '\''; v++)
		if (*v == '\\' && v[1])
			v++;
	return *v ? v + 1 : v;
}

size_t store_db_shown(const char *db, char *out, size_t size)
{
	char in[2048];
	size_t o = 0;

	if (size == 0)
		return 0;
	sanitize_mask_password(db, in, sizeof(in));   /* user:secret@ in a URI */
	/* password=SECRET in a conninfo or in a URI's query: the value becomes *** */
	for (const char *p = in; *p && o + 1 < size;) {
		const char *v = p + 8;
		if (strncmp(p, "password", 8) == 0 && *(v += strspn(v, " ")) == '=') {
			v++;
			v += strspn(v, " ");
			size_t keep = (size_t)(v - p);
			for (size_t i = 0; i < keep + 3 && o + 1 < size; i++)
				out[o++] = i < keep ? p[i] : '*';
			p = value_end(v);
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	return o;
}

int store_pg_fail(struct store *s, struct ht_err *err, const char *what)
{
	const char *msg = s->pg->conn ? PQerrorMessage(s->pg->conn) : "out of memory";
	char one[400];
	size_t o = 0;

	/* libpq's messages span lines ("...failed: refused\n\tIs the server running..."): one line
	 * for logs and the status line */
	for (const char *p = msg; *p && o + 1 < sizeof(one); p++) {
		if (*p == '\n' || *p == '\t') {
			if (o > 0 && one[o - 1] != ' ')
				one[o++] = ' ';
		} else {
			one[o++] = *p;
		}
	}
	while (o > 0 && one[o - 1] == ' ')
		o--;
	one[o] = '\0';
	ht_err_set(err, "%s: %s: %s", s->path, what, one);
	return -1;
}

static int pg_connect(struct store *s, struct ht_err *err)
{
	/* Ours first: the conninfo (expanded from dbname) overrides any of them it names. */
	const char *const keys[] = { "connect_timeout", "application_name", "keepalives_idle",
				     "keepalives_interval", "keepalives_count", "tcp_user_timeout",
				     "dbname", NULL };
	const char *const vals[] = { "5", "healthtop", "10", "5", "3", "15000", s->pg->conninfo, NULL };

	PQfinish(s->pg->conn);
	s->pg->conn = PQconnectdbParams(keys, vals, 1);
	if (!s->pg->conn || PQstatus(s->pg->conn) != CONNECTION_OK)
		return store_pg_fail(s, err, "cannot connect");
	char sql[128];
	snprintf(sql, sizeof(sql), "SET client_min_messages = warning; SET TIME ZONE 'UTC'; SET lock_timeout = %d",
		 s->pg->lock_timeout_ms);
	PGresult *r = PQexec(s->pg->conn, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	return ok ? 0 : store_pg_fail(s, err, "configuring the session");
}

int store_pg_ready(struct store *s, const char *what, struct ht_err *err)
{
	if (s->pg->conn && PQstatus(s->pg->conn) == CONNECTION_OK)
		return 0;
	if (s->pg->readonly) {   /* see store_usable: its owner reopens it when the database is back */
		ht_err_set(err, "%s: %s: the connection to the database was lost", s->path, what);
		return -1;
	}
	return pg_connect(s, err);
}

PGresult *store_pg_exec(struct store *s, const char *sql, int n, const char *const *params, const char *what,
			struct ht_err *err)
{
	if (store_pg_ready(s, what, err) < 0)
		return NULL;
	PGresult *r = PQexecParams(s->pg->conn, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return r;
	store_pg_fail(s, err, what);
	PQclear(r);
	return NULL;
}

int store_pg_run(struct store *s, const char *sql, int n, const char *const *params, const char *what,
		 struct ht_err *err)
{
	PGresult *r = store_pg_exec(s, sql, n, params, what, err);

	PQclear(r);
	return r ? 0 : -1;
}

int64_t store_pg_i64(const PGresult *r, int row, int col)
{
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

double store_pg_ms(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? -1 : strtod(PQgetvalue(r, row, col), NULL);
}

char *store_pg_text_array(const char *const *items)
{
	size_t len = 3;
	char *out, *o;

	if (!items)
		return NULL;
	for (size_t i = 0; items[i]; i++)
		len += strlen(items[i]) * 2 + 3;
	if (!(out = malloc(len)))
		return NULL;
	o = out;
	*o++ = '{';
	for (size_t i = 0; items[i]; i++) {
		if (i)
			*o++ = ',';
		*o++ = '"';
		for (const char *p = items[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				*o++ = '\\';
			*o++ = *p;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	return out;
}

/* The schema's version, creating the table that keeps it (0: a new database). */
static int schema_version(struct store *s, bool create, struct ht_err *err)
{
	const char *sql = "SELECT coalesce(max(version), 0) FROM schema_version";
	PGresult *r;
	int v;

	if (create) {   /* two statements: the simple protocol, no parameters */
		r = PQexec(s->pg->conn, "CREATE TABLE IF NOT EXISTS schema_version(version integer NOT NULL);"
			   "SELECT coalesce(max(version), 0) FROM schema_version");
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			PQclear(r);
			return store_pg_fail(s, err, "reading schema version");
		}
	} else {
		/* Asked apart: a statement naming a table that is not there fails whole, even in a
		 * CASE branch never taken, and a new database has none (version 0). */
		r = store_pg_exec(s, "SELECT to_regclass('schema_version') IS NOT NULL", 0, NULL,
				  "reading schema version", err);
		bool exists = r && PQgetvalue(r, 0, 0)[0] == 't';
		PQclear(r);
		if (!r)
			return -1;
		if (!exists)
			return 0;
		if (!(r = store_pg_exec(s, sql, 0, NULL, "reading schema version", err)))
			return -1;
	}
	v = (int)store_pg_i64(r, 0, 0);
	PQclear(r);
	return v;
}

static int migrate(struct store *s, struct ht_err *err)
{
	/* One migrator at a time across every poller: the lock lasts the transaction. */
	static const char begin[] = "BEGIN; SELECT pg_advisory_xact_lock(7365472013)";
	int version;

	PGresult *r = PQexec(s->pg->conn, begin);
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
	PQclear(r);
	if (!ok || (version = schema_version(s, true, err)) < 0)
		goto fail;
	if (version > STORE_PG_SCHEMA_VERSION) {
		ht_err_set(err, "%s: schema version %d is newer than this healthtop knows (%d)", s->path, version,
			   STORE_PG_SCHEMA_VERSION);
		PQclear(PQexec(s->pg->conn, "ROLLBACK"));
		return -1;
	}
	for (int v = version; v < STORE_PG_SCHEMA_VERSION; v++) {
		char sql[96];
		snprintf(sql, sizeof(sql), "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d)", v + 1);
		r = PQexec(s->pg->conn, migrations[v]);
		ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		r = ok ? PQexec(s->pg->conn, sql) : NULL;
		ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		if (!ok)
			goto fail;
	}
	r = PQexec(s->pg->conn, "COMMIT");
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	return ok ? 0 : store_pg_fail(s, err, "migrating schema");
fail:
	if (!err->msg[0])
		store_pg_fail(s, err, "migrating schema");
	PQclear(PQexec(s->pg->conn, "ROLLBACK"));
	return -1;
}

int store_pg_open(const char *conninfo, bool readonly, struct store **out, struct ht_err *err)
{
	struct store *s = calloc(1, sizeof(*s));
	int version;

	*out = NULL;
	if (!s || !(s->pg = calloc(1, sizeof(*s->pg))) || !(s->pg->conninfo = strdup(conninfo))) {
		ht_err_set(err, "out of memory");
		if (s)
			free(s->pg);
		free(s);
		return -1;
	}
	store_db_shown(conninfo, s->path, sizeof(s->path));
	s->pg->readonly = readonly;
	if (pg_connect(s, err) < 0 || (!readonly && migrate(s, err) < 0))
		goto fail;
	if (readonly && (version = schema_version(s, false, err)) != STORE_PG_SCHEMA_VERSION) {
		if (version >= 0)
			ht_err_set(err, "%s: schema version %d, this healthtop reads %d%s", s->path, version,
				   STORE_PG_SCHEMA_VERSION, version < STORE_PG_SCHEMA_VERSION ?
				   " (run the dashboard or 'healthtop check' once to create or upgrade it)" : "");
		store_close(s);
		/* like a missing file: a writer creates it, maybe now */
		return version >= 0 && version < STORE_PG_SCHEMA_VERSION ? -EAGAIN : -1;
	}
	*out = s;
	return 0;
fail:
	store_close(s);
	return -1;
}

void store_pg_close(struct store *s)
{
	struct store_pg *pg = s->pg;

	PQfinish(pg->conn);
	free(pg->conninfo);
	free(pg->last_cls);
	for (size_t i = 0; i < pg->ncache; i++)
		free(pg->url_text[i]);
	free(pg->url_text);
	free(pg->url_id);
	free(pg->days);
	free(pg->poller);
	free(pg->location);
	free(pg->put.p);   /* a migration that never ended */
	free(pg);
	free(s);
}

void store_pg_set_busy_timeout(struct store *s, int ms)
{
	char sql[128];

	/* SQLite's busy timeout is how long to wait for another's lock: lock_timeout here. */
	s->pg->lock_timeout_ms = ms;
	snprintf(sql, sizeof(sql), "SET lock_timeout = %d", ms);
	if (s->pg->conn && PQstatus(s->pg->conn) == CONNECTION_OK)
		PQclear(PQexec(s->pg->conn, sql));
}

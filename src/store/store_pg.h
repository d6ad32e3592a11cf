/* The PostgreSQL room behind the store interface (--db postgresql://... or a key=value conninfo).
 * The public functions in store_*.c hand over to these when s->pg is set; nothing outside
 * src/store/ includes this. libpq, blocking, on whichever thread owns the store: the writer
 * thread for writes, a command's main thread; the event loop reads through store_pg_async.c. */
#ifndef HEALTHTOP_STORE_PG_H
#define HEALTHTOP_STORE_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include "healthtop/store/store.h"
#include "healthtop/store/store_alert.h"
#include "healthtop/store/store_lease.h"
#include "healthtop/store/store_async.h"

/* PostgreSQL's own schema versions, kept in its schema_version table (SQLite's is user_version). */
#define STORE_PG_SCHEMA_VERSION 6
/* The advisory lock day partitions are created under (the schema's is 7365472013). */
#define STORE_PG_PARTITION_LOCK 7365472

/* A growing buffer (store_pg_copy.c). */
struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

struct store_pg {
	PGconn *conn;
	char *conninfo;          /* as given, password included: only ever handed to libpq */
	bool readonly;
	/* write path caches, all by target id; valid across reconnects (they name committed rows) */
	signed char *last_cls;   /* -2 unknown yet, -1 no result, else the class */
	int64_t *url_id;         /* the id of url_text[i] in checked_url, 0 unknown */
	char **url_text;
	size_t ncache;
	int64_t *days;           /* UTC days (unix s / 86400) whose result partition exists */
	size_t ndays, days_cap;
	uint64_t version;        /* store_data_version's counter */
	int lock_timeout_ms;     /* store_set_busy_timeout's, set again on each new connection */
	char *poller;            /* store_set_poller's: stored with each result, NULL none */
	char *location;          /* store_set_location's: likewise, and the shards leased */
	struct sbuf put;         /* store_rollup_put's rows not yet sent (store_pg_migrate.c) */
	size_t put_rows;
};

/* Statements the synchronous reads and the loop's (store_pg_aread.c) share; each has one parser. */
#define STORE_PG_NEW_ROWS_SQL \
	"SELECT id, target_id, checked_at, status, http_code, response_ms, dns_ms, connect_ms, tls_ms, ttfb_ms," \
	" cert_expiry, reason, up, " POLLER_SQL ", location FROM result"
/* $1 a bigint[] of target ids, $2 the limit: each target's newest, by target */
#define STORE_PG_RECENT_SQL \
	"SELECT r.* FROM unnest($1::bigint[]) AS t(id) CROSS JOIN LATERAL (SELECT target_id, checked_at, status," \
	" http_code, response_ms, dns_ms, connect_ms, tls_ms, ttfb_ms, cert_expiry, reason, " POLLER_SQL ", location" \
	" FROM result WHERE target_id = t.id ORDER BY checked_at DESC LIMIT $2::integer) r"
#define STORE_PG_WINDOW_RAW_SQL \
	"SELECT target_id, status, bucket, count(*), min(CASE WHEN http_code IS NOT NULL THEN response_ms END)," \
	" max(CASE WHEN http_code IS NOT NULL THEN response_ms END), count(*) FILTER (WHERE up) FROM result" \
	" WHERE checked_at >= $1::bigint AND checked_at < $2::bigint GROUP BY 1, 2, 3"
#define STORE_PG_MUTES_SQL "SELECT scope, until_ms, reason, created_ms FROM mute WHERE until_ms > $1 ORDER BY scope"
#define STORE_PG_NOTIFY_SQL \
	"SELECT id, dest, name, project, url, old_status, new_status, reason, since, at, created, attempts" \
	" FROM notify_queue ORDER BY id"

/* Who checked a result, as shown: "host:pid" or "host:pid in eu-west" (NULL: unknown). */
#define POLLER_SQL "CASE WHEN location IS NULL THEN poller ELSE poller || ' in ' || location END"

/* Connects (connect_timeout 5 s unless the conninfo says otherwise) and, unless readonly,
 * creates or migrates the schema. */
int store_pg_open(const char *conninfo, bool readonly, struct store **out, struct ht_err *err);
void store_pg_close(struct store *s);
void store_pg_set_busy_timeout(struct store *s, int ms);

/* Reconnects a broken connection (the database restarted); -1 with err when it cannot. */
int store_pg_ready(struct store *s, const char *what, struct ht_err *err);
/* Runs sql with text parameters; the result on success (tuples or command ok), else NULL with
 * "<conninfo without password>: <what>: <server's message>" in err. */
PGresult *store_pg_exec(struct store *s, const char *sql, int n, const char *const *params, const char *what,
			struct ht_err *err);
/* store_pg_exec for a statement whose result is not needed: 0 or -1. */
int store_pg_run(struct store *s, const char *sql, int n, const char *const *params, const char *what,
		 struct ht_err *err);
int store_pg_fail(struct store *s, struct ht_err *err, const char *what);

int64_t store_pg_i64(const PGresult *r, int row, int col);
double store_pg_ms(const PGresult *r, int row, int col);   /* -1 for NULL */
/* {"a","b"} for a text[] parameter (malloc'd), NULL for a NULL list or out of memory. */
char *store_pg_text_array(const char *const *items);

/* COPY data (store_pg_copy.c): text, or binary between sb_copy_begin and sb_copy_end, where a
 * tuple is sb_tuple(fields) then one sb_<type> or sb_null per field. */
void sb_put(struct sbuf *b, const void *s, size_t n);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_copy_begin(struct sbuf *b);
void sb_copy_end(struct sbuf *b);
void sb_tuple(struct sbuf *b, int16_t fields);
void sb_null(struct sbuf *b);
void sb_i16(struct sbuf *b, int16_t v);         /* raw: a tuple's count; use sb_field_i16 for a field */
void sb_field_i16(struct sbuf *b, int16_t v);
void sb_i32(struct sbuf *b, int32_t v);
void sb_i64(struct sbuf *b, int64_t v);
void sb_f64(struct sbuf *b, double v);
void sb_bool(struct sbuf *b, bool v);
void sb_bytes(struct sbuf *b, const void *p, size_t n);
void sb_str(struct sbuf *b, const char *s);
int store_pg_copy_in(struct store *s, const char *sql, const struct sbuf *b, const char *what, struct ht_err *err);

/* write (store_pg_write.c) */
int store_pg_target_id(struct store *s, const char *name, const char *project, const char *url, int64_t *id,
		       struct ht_err *err);
int store_pg_append_batch(struct store *s, const struct store_row *rows, size_t n, struct ht_err *err);
/* Folds the fresh rollup deltas (schema 5) into the hourly and daily tables: before anything
 * replaces rows of those tables by period, so that no fresh delta counts beside its replacement. */
int store_pg_fold_fresh(struct store *s, struct ht_err *err);
int store_pg_prune_step(struct store *s, const struct store_retention *r, int64_t now_ms, int limit, int *deleted,
			struct ht_err *err);

/* read (store_pg_read.c); the aggregate's pieces, handed to store_read.c's one walker */
typedef void (*store_pg_id_fn)(void *user, int64_t id);
int store_pg_target_ids(struct store *s, store_pg_id_fn fn, void *user, struct ht_err *err);
typedef void (*store_pg_raw_fn)(void *user, int64_t target_id, int cls, int bucket, uint32_t n, double min_ms,
				double max_ms, uint32_t up);
int store_pg_window_raw(struct store *s, int64_t a_ms, int64_t b_ms, store_pg_raw_fn fn, void *user,
			struct ht_err *err);
typedef void (*store_pg_rollup_fn)(void *user, int64_t target_id, const uint32_t *counts, uint32_t up,
				   const struct hist *h, double min_ms, double max_ms);
int store_pg_window_rollup(struct store *s, const char *table, int64_t a_s, int64_t b_s, store_pg_rollup_fn fn,
			   void *user, struct ht_err *err);
int64_t store_pg_complete_since(struct store *s, const char *table);
int64_t store_pg_query_i64(struct store *s, const char *sql, int64_t arg, int64_t fallback);
int store_pg_recent(struct store *s, int64_t target_id, int limit, store_row_fn fn, void *user, struct ht_err *err);
int store_pg_targets(struct store *s, store_target_fn fn, void *user, struct ht_err *err);
int store_pg_changes(struct store *s, int64_t until_ms, store_change_fn fn, void *user, struct ht_err *err);
struct store_cursor *store_pg_export_begin(struct store *s, const struct store_query *q, struct ht_err *err);
int store_pg_export_step(struct store_cursor *c, int max_rows, store_result_fn fn, void *user, struct ht_err *err);
void store_pg_export_end(struct store_cursor *c);
int store_pg_export_rollup(struct store *s, const struct store_query *q, int period_s, store_rollup_fn fn,
			   void *user, struct ht_err *err);
/* The parsers of those statements' results, one for both paths. */
void store_pg_parse_raw(const PGresult *r, store_pg_raw_fn fn, void *user);
void store_pg_parse_rollup(const PGresult *r, store_pg_rollup_fn fn, void *user);
void store_pg_rollup_sql(char *sql, size_t size, const char *table);
void store_pg_range_params(char a[24], char b[24], int64_t lo, int64_t hi);
void store_pg_parse_recent(const PGresult *r, store_row_fn fn, void *user);
int store_pg_parse_targets(const PGresult *r, store_target_fn fn, void *user);   /* fn's stop, else 0 */
void store_pg_parse_mutes(const PGresult *r, store_mute_fn fn, void *user);
void store_pg_parse_notify(const PGresult *r, store_notify_fn fn, void *user);
/* The newest id handed over, -1 for none. */
int64_t store_pg_parse_new_rows(const PGresult *r, store_new_row_fn fn, void *user);

/* The loop's asynchronous connection (store_pg_async.c): fn gets the result (NULL when rc < 0,
 * with err's text), on the loop, in the order sent. A PGresult lives only during fn. */
struct store_async;
typedef void (*store_pga_fn)(void *user, const PGresult *r, int rc, const char *err);
/* 0 sent; else the last failure's rc (the connection backs off), err set, fn never called. */
int store_pga_send(struct store_async *a, const char *sql, int n, const char *const *params, const char *what,
		   store_pga_fn fn, void *user, struct ht_err *err);
void store_pga_kick(struct store_async *a);

/* Host names looked up off the loop (store_pg_resolve.c). */
#define STORE_PG_HOSTS_MAX 8
struct gaicb;
struct store_pg_resolve {
	struct gaicb *gai;
	struct gaicb **list;
	char *hosts[STORE_PG_HOSTS_MAX];
	size_t nhosts;
	bool port_list;          /* port=a,b: one entry per host, to line up */
};
/* What libpq is given in place of the conninfo's host list: names and their addresses. */
struct store_pg_hosts {
	char host[2048];
	char hostaddr[2048];
};
/* 1 started, 0 nothing to look up (libpq connects without blocking), -1 failed (why). */
int store_pg_resolve_start(struct store_pg_resolve *r, const char *conninfo, char *why, size_t size);
/* 0 still looking; 1 done, out holds libpq's host and hostaddr lists; -1 failed (why). */
int store_pg_resolve_poll(struct store_pg_resolve *r, struct store_pg_hosts *out, char *why, size_t wsize);
void store_pg_resolve_end(struct store_pg_resolve *r);

/* A histogram kept as JSON text {"bucket": count, ...} added into h. */
void store_pg_hist_add(struct hist *h, const char *json);

/* alerts, mutes, lease (store_pg_alert.c) */
int store_pg_notify_put(struct store *s, const struct store_notify_row *row, struct ht_err *err);
int store_pg_notify_delete(struct store *s, int64_t id, struct ht_err *err);
int store_pg_notify_each(struct store *s, store_notify_fn fn, void *user, struct ht_err *err);
int store_pg_last_state(struct store *s, const char *name, int *cls, int64_t *since_ms, struct ht_err *err);
int store_pg_mute_set(struct store *s, const struct store_mute_row *row, struct ht_err *err);
int store_pg_mute_clear(struct store *s, const char *scope, int64_t now_ms, bool *removed, struct ht_err *err);
int store_pg_mute_each(struct store *s, int64_t now_ms, store_mute_fn fn, void *user, struct ht_err *err);
int store_pg_lease_read(struct store *s, struct store_lease *out, struct ht_err *err);
int store_pg_lease_take(struct store *s, const struct store_lease *me, int64_t now_ms, struct store_lease *holder,
			struct ht_err *err);
int store_pg_lease_beat(struct store *s, int64_t pid, const char *host, int64_t now_ms, struct ht_err *err);
int store_pg_lease_release(struct store *s, int64_t pid, const char *host, struct ht_err *err);
int store_pg_force_request(struct store *s, const char *name, int64_t pid, const char *host, int64_t now_ms,
			   struct ht_err *err);
int store_pg_last_id(struct store *s, const char *table, int64_t *id, struct ht_err *err);
int store_pg_force_since(struct store *s, int64_t *after, store_force_fn fn, void *user, struct ht_err *err);
int store_pg_results_since(struct store *s, int64_t *after, int limit, store_new_row_fn fn, void *user,
			   struct ht_err *err);

/* the migration's puts (store_pg_migrate.c) */
int store_pg_first_raw(struct store *s, int64_t target_id, int64_t *at_ms, struct ht_err *err);
int store_pg_rollup_put(struct store *s, int period_s, int64_t target_id, const struct store_rollup *r,
			struct ht_err *err);
int store_pg_change_put(struct store *s, int64_t target_id, int64_t at_ms, int from, int to, struct ht_err *err);
int store_pg_put_end(struct store *s, struct ht_err *err);   /* sends the rollups still buffered */
void store_pg_put_discard(struct store *s);

#endif

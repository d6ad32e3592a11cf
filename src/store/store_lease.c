/* The lease (one poller per database), viewers' forced checks, new results by id. Statements
 * are prepared per call: each runs about once a second, where preparing costs microseconds. */
#include "autoconfig.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/store/store_lease.h"
#include "store_priv.h"
#include "store_pg.h"

/* The heartbeat's own row. In the lease row, refreshing it each second rewrote the published
 * config with it (SQLite rewrites a whole row): 23 MB of JSON read, copied and written to the
 * WAL every second at 100 000 targets. The lease row's heartbeat is set when it is written;
 * readers take the fresher of the two. */
#define LEASE_BEAT_KEY "lease.heartbeat"

/* Requests kept for viewers arriving late; older ones go as new ones come. */
#define FORCE_KEEP 1000

void store_lease_fini(struct store_lease *l)
{
	free(l->config);
	l->config = NULL;
}

/* "PID (comm) S ..." of /proc/PID/stat: comm into out, the state letter returned (0: none). */
static char proc_stat(const char *pid, char *out, size_t size)
{
	char path[64], buf[512];
	FILE *f;
	char state = 0;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if (!(f = fopen(path, "r")))
		return 0;
	if (fgets(buf, sizeof(buf), f)) {
		const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
		if (open && close && close > open && close[1] == ' ') {
			snprintf(out, size, "%.*s", (int)(close - open - 1), open + 1);
			state = close[2];
		}
	}
	fclose(f);
	return state;
}

/* A zombie or a recycled pid is not our poller: /proc says what the process is now. It is
 * healthtop, or named as this process is (a renamed binary, or both under valgrind). */
static bool healthtop_running(int64_t pid)
{
	char me[64] = "", it[64] = "", num[32];
	char state;

	if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno != EPERM))
		return false;
	snprintf(num, sizeof(num), "%lld", (long long)pid);
	if (!proc_stat("self", me, sizeof(me)))
		return true;   /* no /proc here: the pid's existence is all we can know */
	state = proc_stat(num, it, sizeof(it));
	return state && state != 'Z' && state != 'X' && (strcmp(it, "healthtop") == 0 || strcmp(me, it) == 0);
}

bool store_lease_alive(const struct store_lease *l, const char *my_host, int64_t now_ms)
{
	if (strcmp(l->host, my_host) == 0)
		return healthtop_running(l->pid);
	return now_ms - l->heartbeat_ms <= STORE_LEASE_STALE_MS;
}

static int prepare(struct store *s, const char *sql, sqlite3_stmt **st, struct ht_err *err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return store_db_fail(s, err, "preparing a lease statement");
	return 0;
}

/* Runs st to its end (a write); the number of rows it changed, or -1. */
static int run_write(struct store *s, sqlite3_stmt *st, const char *what, struct ht_err *err)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(s, err, what);
	return sqlite3_changes(s->db);
}

int store_lease_read(struct store *s, struct store_lease *out, struct ht_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (s->pg)
		return store_pg_lease_read(s, out, err);
	memset(out, 0, sizeof(*out));
	/* the heartbeat is the lease row's or, fresher, the one kept apart (store_lease_beat) */
	if (prepare(s, "SELECT pid, host, started, max(heartbeat, coalesce((SELECT value FROM meta WHERE key = '"
		    LEASE_BEAT_KEY "'), 0)), config FROM poller_lease WHERE id = 1", &st, err) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->pid = sqlite3_column_int64(st, 0);
		snprintf(out->host, sizeof(out->host), "%s", store_column_str(st, 1));
		out->started_ms = sqlite3_column_int64(st, 2);
		out->heartbeat_ms = sqlite3_column_int64(st, 3);
		out->config = strdup(store_column_str(st, 4));
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "reading the poller lease");
}

static bool is_me(const struct store_lease *l, const struct store_lease *me)
{
	return l->pid == me->pid && strcmp(l->host, me->host) == 0;
}

static int write_lease(struct store *s, const struct store_lease *me, int64_t now_ms, bool mine,
		       struct ht_err *err)
{
	sqlite3_stmt *st;

	if (prepare(s, "INSERT OR REPLACE INTO poller_lease(id, pid, host, started, heartbeat, config)"
		    " VALUES (1, ?1, ?2, ?3, ?4, ?5)", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, me->pid);
	sqlite3_bind_text(st, 2, me->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, mine && me->started_ms ? me->started_ms : now_ms);
	sqlite3_bind_int64(st, 4, now_ms);
	sqlite3_bind_text(st, 5, me->config ? me->config : "", -1, SQLITE_STATIC);
	if (run_write(s, st, "taking the poller lease", err) < 0)
		return -1;
	if (prepare(s, "INSERT INTO meta VALUES('" LEASE_BEAT_KEY "', ?1)"
		    " ON CONFLICT(key) DO UPDATE SET value = excluded.value", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, now_ms);
	return run_write(s, st, "taking the poller lease", err) < 0 ? -1 : 0;
}

/* Inside the write transaction: the holder read again, since another viewer may have won. */
static int take_locked(struct store *s, const struct store_lease *me, int64_t now_ms,
		       struct store_lease *holder, struct ht_err *err)
{
	int found = store_lease_read(s, holder, err);

	if (found < 0)
		return -1;
	if (found && !is_me(holder, me) && store_lease_alive(holder, me->host, now_ms))
		return 0;
	if (write_lease(s, me, now_ms, found && is_me(holder, me), err) < 0)
		return -1;
	store_lease_fini(holder);
	return 1;
}

int store_lease_take(struct store *s, const struct store_lease *me, int64_t now_ms,
		     struct store_lease *holder, struct ht_err *err)
{
	int found, rc;

	if (s->pg)
		return store_pg_lease_take(s, me, now_ms, holder, err);
	found = store_lease_read(s, holder, err);
	if (found < 0)
		return -1;
	if (found && !is_me(holder, me) && store_lease_alive(holder, me->host, now_ms))
		return 0;   /* the common case for a viewer: no lock taken */
	store_lease_fini(holder);
	if (store_tx_begin(s, "taking the poller lease", err) < 0)
		return -1;
	rc = take_locked(s, me, now_ms, holder, err);
	if (store_tx_end(s, rc >= 0, "taking the poller lease", err) < 0) {
		store_lease_fini(holder);
		return -1;
	}
	return rc;
}

int store_lease_beat(struct store *s, int64_t pid, const char *host, int64_t now_ms, struct ht_err *err)
{
	sqlite3_stmt *st;

	if (s->pg)
		return store_pg_lease_beat(s, pid, host, now_ms, err);
	/* 0 rows when the lease is not ours, or its heartbeat row is missing (a lease written by an
	 * older healthtop): the caller then writes the lease again, heartbeat row included */
	if (prepare(s, "UPDATE meta SET value = ?3 WHERE key = '" LEASE_BEAT_KEY "' AND EXISTS"
		    " (SELECT 1 FROM poller_lease WHERE id = 1 AND pid = ?1 AND host = ?2)", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_text(st, 2, host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	int n = run_write(s, st, "refreshing the poller lease", err);
	return n < 0 ? -1 : n > 0;
}

int store_lease_release(struct store *s, int64_t pid, const char *host, struct ht_err *err)
{
	sqlite3_stmt *st;

	if (s->pg)
		return store_pg_lease_release(s, pid, host, err);
	if (prepare(s, "DELETE FROM poller_lease WHERE id = 1 AND pid = ?1 AND host = ?2", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_text(st, 2, host, -1, SQLITE_STATIC);
	return run_write(s, st, "giving up the poller lease", err) < 0 ? -1 : 0;
}

int store_force_request(struct store *s, const char *name, int64_t pid, const char *host, int64_t now_ms,
			struct ht_err *err)
{
	sqlite3_stmt *st;

	if (s->pg)
		return store_pg_force_request(s, name, pid, host, now_ms, err);
	if (prepare(s, "INSERT INTO force_request(target, requested_at, pid, host) VALUES (?1, ?2, ?3, ?4)", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	sqlite3_bind_int64(st, 3, pid);
	sqlite3_bind_text(st, 4, host, -1, SQLITE_STATIC);
	if (run_write(s, st, "queueing a forced check", err) < 0)
		return -1;
	if (prepare(s, "DELETE FROM force_request WHERE id <= last_insert_rowid() - ?1", &st, err) < 0)
		return -1;
	sqlite3_bind_int(st, 1, FORCE_KEEP);
	return run_write(s, st, "forgetting old forced checks", err) < 0 ? -1 : 0;
}

static int last_id(struct store *s, const char *sql, int64_t *id, struct ht_err *err)
{
	sqlite3_stmt *st;
	int rc;

	*id = 0;
	if (prepare(s, sql, &st, err) < 0)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "reading the newest id");
}

int store_force_last(struct store *s, int64_t *id, struct ht_err *err)
{
	return s->pg ? store_pg_last_id(s, "force_request", id, err)
		     : last_id(s, "SELECT coalesce(max(id), 0) FROM force_request", id, err);
}

int store_results_last(struct store *s, int64_t *id, struct ht_err *err)
{
	return s->pg ? store_pg_last_id(s, "result", id, err)
		     : last_id(s, "SELECT coalesce(max(id), 0) FROM result", id, err);
}

int store_force_since(struct store *s, int64_t *after, store_force_fn fn, void *user, struct ht_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (s->pg)
		return store_pg_force_since(s, after, fn, user, err);
	if (prepare(s, "SELECT id, target FROM force_request WHERE id > ?1 ORDER BY id", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, *after);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*after = sqlite3_column_int64(st, 0);
		fn(user, store_column_str(st, 1));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "reading forced checks");
}

int store_results_since(struct store *s, int64_t *after, int limit, store_new_row_fn fn, void *user,
			struct ht_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (s->pg)
		return store_pg_results_since(s, after, limit, fn, user, err);
	if (prepare(s, "SELECT id, target_id, checked_at, status, http_code, response_ms, dns_ms, connect_ms,"
		    " tls_ms, ttfb_ms, cert_expiry, reason, up FROM result WHERE id > ?1 ORDER BY id LIMIT ?2", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, *after);
	sqlite3_bind_int(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_read_row row = {
			.target_id = sqlite3_column_int64(st, 1),
			.checked_at_ms = sqlite3_column_int64(st, 2),
			.cls = (enum ht_class)sqlite3_column_int(st, 3),
			.http_code = (long)sqlite3_column_int64(st, 4),
			.response_ms = store_column_ms(st, 5),
			.dns_ms = store_column_ms(st, 6),
			.connect_ms = store_column_ms(st, 7),
			.tls_ms = store_column_ms(st, 8),
			.ttfb_ms = store_column_ms(st, 9),
			.cert_expiry = sqlite3_column_int64(st, 10),
			.reason = store_column_str(st, 11),
			.id = sqlite3_column_int64(st, 0),
		};
		*after = row.id;
		fn(user, &row, sqlite3_column_int(st, 12) != 0);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "reading new results");
}

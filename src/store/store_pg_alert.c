/* The PostgreSQL room's small tables: the notification queue, mutes, the last state of a
 * target, the poller lease, viewers' forced checks and new results by id. Each statement runs
 * about once a second at most, so they are plain parameterised queries. */
#include "autoconfig.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_priv.h"
#include "store_pg.h"

#define FORCE_KEEP 1000

struct nums {
	char v[8][24];
};

static const char *num(struct nums *n, int k, int64_t v)
{
	snprintf(n->v[k], sizeof(n->v[k]), "%lld", (long long)v);
	return n->v[k];
}

int store_pg_notify_put(struct store *s, const struct store_notify_row *r, struct ht_err *err)
{
	static const char sql[] =
		"INSERT INTO notify_queue(id, dest, name, project, url, old_status, new_status, reason, since, at,"
		" created, attempts) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
		" ON CONFLICT(id) DO UPDATE SET dest = excluded.dest, name = excluded.name,"
		" project = excluded.project, url = excluded.url, old_status = excluded.old_status,"
		" new_status = excluded.new_status, reason = excluded.reason, since = excluded.since,"
		" at = excluded.at, created = excluded.created, attempts = excluded.attempts";
	struct nums n;
	const char *p[] = { num(&n, 0, r->id), r->dest, r->name, r->project, r->url, num(&n, 1, r->old_cls),
			    num(&n, 2, r->new_cls), r->reason, num(&n, 3, r->since_ms), num(&n, 4, r->at_ms),
			    num(&n, 5, r->created_ms), num(&n, 6, r->attempts) };

	return store_pg_run(s, sql, 12, p, "keeping a notification", err);
}

int store_pg_notify_delete(struct store *s, int64_t id, struct ht_err *err)
{
	struct nums n;
	const char *p[] = { num(&n, 0, id) };

	return store_pg_run(s, "DELETE FROM notify_queue WHERE id = $1", 1, p, "forgetting a notification", err);
}

void store_pg_parse_notify(const PGresult *r, store_notify_fn fn, void *user)
{
	for (int i = 0; i < PQntuples(r); i++) {
		struct store_notify_row row = {
			.id = store_pg_i64(r, i, 0),
			.dest = PQgetvalue(r, i, 1),
			.name = PQgetvalue(r, i, 2),
			.project = PQgetvalue(r, i, 3),
			.url = PQgetvalue(r, i, 4),
			.old_cls = (int)store_pg_i64(r, i, 5),
			.new_cls = (int)store_pg_i64(r, i, 6),
			.reason = PQgetvalue(r, i, 7),
			.since_ms = store_pg_i64(r, i, 8),
			.at_ms = store_pg_i64(r, i, 9),
			.created_ms = store_pg_i64(r, i, 10),
			.attempts = (int)store_pg_i64(r, i, 11),
		};
		fn(user, &row);
	}
}

int store_pg_notify_each(struct store *s, store_notify_fn fn, void *user, struct ht_err *err)
{
	PGresult *r = store_pg_exec(s, STORE_PG_NOTIFY_SQL, 0, NULL, "reading waiting notifications", err);

	if (r)
		store_pg_parse_notify(r, fn, user);
	PQclear(r);
	return r ? 0 : -1;
}

int store_pg_last_state(struct store *s, const char *name, int *cls, int64_t *since_ms, struct ht_err *err)
{
	static const char sql[] =
		"SELECT (SELECT status FROM result WHERE target_id = t.id ORDER BY checked_at DESC LIMIT 1),"
		" (SELECT max(at) FROM state_change WHERE target_id = t.id),"
		" (SELECT min(checked_at) FROM result WHERE target_id = t.id)"
		" FROM target t WHERE t.name = $1";
	const char *p[] = { name };
	PGresult *r = store_pg_exec(s, sql, 1, p, "reading the last state", err);

	*cls = -1;
	*since_ms = 0;
	if (r && PQntuples(r) && !PQgetisnull(r, 0, 0)) {
		*cls = (int)store_pg_i64(r, 0, 0);
		/* no change kept: the state began no later than the oldest result kept */
		*since_ms = store_pg_i64(r, 0, PQgetisnull(r, 0, 1) ? 2 : 1);
	}
	PQclear(r);
	return r ? 0 : -1;
}

int store_pg_mute_set(struct store *s, const struct store_mute_row *m, struct ht_err *err)
{
	struct nums n;
	const char *p[] = { m->scope, num(&n, 0, m->until_ms), m->reason ? m->reason : "", num(&n, 1, m->created_ms) };

	return store_pg_run(s, "INSERT INTO mute(scope, until_ms, reason, created_ms) VALUES($1, $2, $3, $4)"
			    " ON CONFLICT(scope) DO UPDATE SET until_ms = excluded.until_ms, reason = excluded.reason,"
			    " created_ms = excluded.created_ms", 4, p, "muting", err);
}

int store_pg_mute_clear(struct store *s, const char *scope, int64_t now_ms, bool *removed, struct ht_err *err)
{
	const char *p[] = { scope };
	PGresult *r = store_pg_exec(s, "DELETE FROM mute WHERE scope = $1 RETURNING until_ms", 1, p, "unmuting", err);

	*removed = false;
	for (int i = 0; r && i < PQntuples(r); i++)
		if (store_pg_i64(r, i, 0) > now_ms)
			*removed = true;
	PQclear(r);
	return r ? 0 : -1;
}

void store_pg_parse_mutes(const PGresult *r, store_mute_fn fn, void *user)
{
	for (int i = 0; i < PQntuples(r); i++) {
		struct store_mute_row m = { PQgetvalue(r, i, 0), store_pg_i64(r, i, 1), PQgetvalue(r, i, 2),
					    store_pg_i64(r, i, 3) };
		fn(user, &m);
	}
}

int store_pg_mute_each(struct store *s, int64_t now_ms, store_mute_fn fn, void *user, struct ht_err *err)
{
	struct nums n;
	const char *p[] = { num(&n, 0, now_ms) };
	PGresult *r = store_pg_exec(s, STORE_PG_MUTES_SQL, 1, p, "reading mutes", err);

	if (r)
		store_pg_parse_mutes(r, fn, user);
	PQclear(r);
	return r ? 0 : -1;
}

int store_pg_lease_read(struct store *s, struct store_lease *out, struct ht_err *err)
{
	PGresult *r = store_pg_exec(s, "SELECT pid, host, started, heartbeat, config FROM poller_lease WHERE id = 1",
				    0, NULL, "reading the poller lease", err);
	int found;

	memset(out, 0, sizeof(*out));
	if (!r)
		return -1;
	found = PQntuples(r) > 0;
	if (found) {
		out->pid = store_pg_i64(r, 0, 0);
		snprintf(out->host, sizeof(out->host), "%s", PQgetvalue(r, 0, 1));
		out->started_ms = store_pg_i64(r, 0, 2);
		out->heartbeat_ms = store_pg_i64(r, 0, 3);
		out->config = strdup(PQgetvalue(r, 0, 4));
	}
	PQclear(r);
	return found;
}

static bool is_me(const struct store_lease *l, const struct store_lease *me)
{
	return l->pid == me->pid && strcmp(l->host, me->host) == 0;
}

/* Inside the transaction holding the lease table's lock: the holder read again. */
static int take_locked(struct store *s, const struct store_lease *me, int64_t now_ms, struct store_lease *holder,
		       struct ht_err *err)
{
	struct nums n;
	int found = store_pg_lease_read(s, holder, err);

	if (found < 0)
		return -1;
	if (found && !is_me(holder, me) && store_lease_alive(holder, me->host, now_ms))
		return 0;
	bool mine = found && is_me(holder, me);
	const char *p[] = { num(&n, 0, me->pid), me->host, num(&n, 1, mine && me->started_ms ? me->started_ms : now_ms),
			    num(&n, 2, now_ms), me->config ? me->config : "" };
	store_lease_fini(holder);
	if (store_pg_run(s, "INSERT INTO poller_lease(id, pid, host, started, heartbeat, config)"
			 " VALUES (1, $1, $2, $3, $4, $5) ON CONFLICT(id) DO UPDATE SET pid = excluded.pid,"
			 " host = excluded.host, started = excluded.started, heartbeat = excluded.heartbeat,"
			 " config = excluded.config", 5, p, "taking the poller lease", err) < 0)
		return -1;
	return 1;
}

int store_pg_lease_take(struct store *s, const struct store_lease *me, int64_t now_ms, struct store_lease *holder,
			struct ht_err *err)
{
	int found = store_pg_lease_read(s, holder, err), rc;

	if (found < 0)
		return -1;
	if (found && !is_me(holder, me) && store_lease_alive(holder, me->host, now_ms))
		return 0;   /* the common case for a viewer: no lock taken */
	store_lease_fini(holder);
	if (store_pg_run(s, "BEGIN", 0, NULL, "taking the poller lease", err) < 0)
		return -1;
	if (store_pg_run(s, "LOCK TABLE poller_lease IN EXCLUSIVE MODE", 0, NULL, "taking the poller lease", err) < 0) {
		PQclear(PQexec(s->pg->conn, "ROLLBACK"));
		return -1;
	}
	rc = take_locked(s, me, now_ms, holder, err);
	if (rc >= 0 && store_pg_run(s, "COMMIT", 0, NULL, "taking the poller lease", err) == 0)
		return rc;
	PQclear(PQexec(s->pg->conn, "ROLLBACK"));
	store_lease_fini(holder);
	return -1;
}

int store_pg_lease_beat(struct store *s, int64_t pid, const char *host, int64_t now_ms, struct ht_err *err)
{
	struct nums n;
	const char *p[] = { num(&n, 0, pid), host, num(&n, 1, now_ms) };
	PGresult *r = store_pg_exec(s, "UPDATE poller_lease SET heartbeat = $3 WHERE id = 1 AND pid = $1 AND host = $2",
				    3, p, "refreshing the poller lease", err);
	int changed = r ? atoi(PQcmdTuples(r)) > 0 : -1;

	PQclear(r);
	return changed;
}

int store_pg_lease_release(struct store *s, int64_t pid, const char *host, struct ht_err *err)
{
	struct nums n;
	const char *p[] = { num(&n, 0, pid), host };

	return store_pg_run(s, "DELETE FROM poller_lease WHERE id = 1 AND pid = $1 AND host = $2", 2, p,
			    "giving up the poller lease", err);
}

int store_pg_force_request(struct store *s, const char *name, int64_t pid, const char *host, int64_t now_ms,
			   struct ht_err *err)
{
	struct nums n;
	const char *p[] = { name, num(&n, 0, now_ms), num(&n, 1, pid), host };
	PGresult *r = store_pg_exec(s, "INSERT INTO force_request(target, requested_at, pid, host)"
				    " VALUES ($1, $2, $3, $4) RETURNING id", 4, p, "queueing a forced check", err);

	if (!r)
		return -1;
	const char *q[] = { num(&n, 2, store_pg_i64(r, 0, 0) - FORCE_KEEP) };
	PQclear(r);
	return store_pg_run(s, "DELETE FROM force_request WHERE id <= $1", 1, q, "forgetting old forced checks", err);
}

int store_pg_last_id(struct store *s, const char *table, int64_t *id, struct ht_err *err)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "SELECT coalesce(max(id), 0) FROM %s", table);
	PGresult *r = store_pg_exec(s, sql, 0, NULL, "reading the newest id", err);
	*id = r ? store_pg_i64(r, 0, 0) : 0;
	PQclear(r);
	return r ? 0 : -1;
}

int store_pg_force_since(struct store *s, int64_t *after, store_force_fn fn, void *user, struct ht_err *err)
{
	struct nums n;
	const char *p[] = { num(&n, 0, *after) };
	PGresult *r = store_pg_exec(s, "SELECT id, target FROM force_request WHERE id > $1 ORDER BY id", 1, p,
				    "reading forced checks", err);

	for (int i = 0; r && i < PQntuples(r); i++) {
		*after = store_pg_i64(r, i, 0);
		fn(user, PQgetvalue(r, i, 1));
	}
	PQclear(r);
	return r ? 0 : -1;
}

int64_t store_pg_parse_new_rows(const PGresult *r, store_new_row_fn fn, void *user)
{
	int64_t last = -1;

	for (int i = 0; i < PQntuples(r); i++) {
		struct store_read_row row = {
			.target_id = store_pg_i64(r, i, 1),
			.checked_at_ms = store_pg_i64(r, i, 2),
			.cls = (enum ht_class)store_pg_i64(r, i, 3),
			.http_code = (long)store_pg_i64(r, i, 4),
			.response_ms = store_pg_ms(r, i, 5),
			.dns_ms = store_pg_ms(r, i, 6),
			.connect_ms = store_pg_ms(r, i, 7),
			.tls_ms = store_pg_ms(r, i, 8),
			.ttfb_ms = store_pg_ms(r, i, 9),
			.cert_expiry = store_pg_i64(r, i, 10),
			.reason = PQgetvalue(r, i, 11),
			.poller = PQgetisnull(r, i, 13) ? NULL : PQgetvalue(r, i, 13),
			.id = store_pg_i64(r, i, 0),
			.location = PQgetisnull(r, i, 14) ? NULL : PQgetvalue(r, i, 14),
		};
		last = row.id;
		fn(user, &row, PQgetvalue(r, i, 12)[0] == 't');
	}
	return last;
}

int store_pg_results_since(struct store *s, int64_t *after, int limit, store_new_row_fn fn, void *user,
			   struct ht_err *err)
{
	struct nums n;
	const char *p[] = { num(&n, 0, *after), num(&n, 1, limit) };
	PGresult *r = store_pg_exec(s, STORE_PG_NEW_ROWS_SQL " WHERE id > $1 ORDER BY id LIMIT $2", 2, p,
				    "reading new results", err);
	int64_t last = r ? store_pg_parse_new_rows(r, fn, user) : -1;

	if (last >= 0)
		*after = last;
	PQclear(r);
	return r ? 0 : -1;
}

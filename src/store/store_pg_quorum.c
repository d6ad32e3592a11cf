/* The quorum across locations in PostgreSQL (store_quorum.h). Every time compared is the
 * database's clock, as for the shard leases. */
#include "autoconfig.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/store/store_quorum.h"
#include "store_priv.h"
#include "store_pg.h"

#define NOW_MS "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
#define QUORUM_VOTES_MAX QUORUM_MAX

/* The locations' rows for name, locked behind the notified row: claims on one target take
 * turns, and each sees what the ones before it committed. */
static int read_votes(struct store *s, const char *name, struct quorum_vote *v, size_t *n, PGresult **keep,
		      struct ht_err *err)
{
	const char *p[] = { name };

	/* a location counts while one of its pollers is alive: its age is that of its last round,
	 * its row being current however long ago its class last changed */
	PGresult *r = store_pg_exec(s, "SELECT l.location, l.cls, " NOW_MS " - coalesce(p.hb, 0) FROM location_state l"
				    " LEFT JOIN (SELECT location, max(heartbeat) AS hb FROM poller GROUP BY location) p"
				    " USING (location) WHERE l.target = $1 ORDER BY l.location", 1, p,
				    "reading the locations' classes", err);
	if (!r)
		return -1;
	*n = 0;
	for (int i = 0; i < PQntuples(r) && *n < QUORUM_VOTES_MAX; i++) {
		int64_t age = store_pg_i64(r, i, 2);
		v[*n] = (struct quorum_vote){ PQgetvalue(r, i, 0), (int)store_pg_i64(r, i, 1), age };
		(*n)++;
	}
	*keep = r;
	return 0;
}

static int publish_locked(struct store *s, const char *name, const char *cls, int quorum, int64_t max_age_ms,
			  bool settle, struct store_quorum_claim *out, struct ht_err *err)
{
	const char *loc = s->pg->location;
	const char *p[] = { name, loc, cls, s->pg->poller };
	PGresult *r = store_pg_exec(s, "INSERT INTO location_state(target, location, cls, since, poller, seq)"
				    " VALUES ($1, $2, $3::smallint, " NOW_MS ", $4, nextval('location_state_seq'))"
				    " ON CONFLICT (target, location) DO UPDATE SET cls = excluded.cls, since = excluded.since,"
				    " poller = excluded.poller, seq = excluded.seq WHERE location_state.cls <> excluded.cls"
				    " RETURNING 1", 4, p, "recording the location's class", err);
	if (!r)
		return -1;
	int changed = PQntuples(r);
	PQclear(r);
	if (!changed && !settle)   /* what this location says is what it said: the combined class is unmoved */
		return 0;
	if (store_pg_run(s, "INSERT INTO quorum_notified(target, cls) VALUES ($1, NULL) ON CONFLICT DO NOTHING", 1, p,
			 "settling the quorum", err) < 0 ||
	    !(r = store_pg_exec(s, "SELECT cls, since FROM quorum_notified WHERE target = $1 FOR UPDATE", 1, p,
				"settling the quorum", err)))
		return -1;
	int was = PQntuples(r) && !PQgetisnull(r, 0, 0) ? (int)store_pg_i64(r, 0, 0) : -1;
	int64_t since = PQntuples(r) && !PQgetisnull(r, 0, 1) ? store_pg_i64(r, 0, 1) : 0;
	PQclear(r);
	struct quorum_vote v[QUORUM_VOTES_MAX];
	size_t n;
	PGresult *keep = NULL;
	if (read_votes(s, name, v, &n, &keep, err) < 0)
		return -1;
	int rc = quorum_combine(v, n, quorum, max_age_ms, &out->v);
	PQclear(keep);
	if (rc < 0 || (int)out->v.cls == was)
		return 0;
	char now[8];
	snprintf(now, sizeof(now), "%d", (int)out->v.cls);
	if (!(r = store_pg_exec(s, "UPDATE quorum_notified SET cls = $2::smallint, since = " NOW_MS " WHERE target = $1"
				" RETURNING since", 2, (const char *const[]){ name, now }, "settling the quorum", err)))
		return -1;
	out->at_ms = PQntuples(r) ? store_pg_i64(r, 0, 0) : 0;
	PQclear(r);
	out->claimed = was >= 0;   /* the first class known is no change to announce */
	out->old_cls = was;
	out->since_ms = since ? since : out->at_ms;
	return 0;
}

int store_quorum_publish(struct store *s, const char *name, int cls, int quorum, int64_t max_age_ms, bool settle,
			 struct store_quorum_claim *out, struct ht_err *err)
{
	char c[8];

	memset(out, 0, sizeof(*out));
	out->old_cls = -1;
	if (!s->pg || !s->pg->location)
		return 0;
	snprintf(c, sizeof(c), "%d", cls);
	if (store_pg_run(s, "BEGIN", 0, NULL, "settling the quorum", err) < 0)
		return -1;
	if (publish_locked(s, name, c, quorum, max_age_ms, settle, out, err) < 0 ||
	    store_pg_run(s, "COMMIT", 0, NULL, "settling the quorum", err) < 0) {
		if (s->pg->conn)
			PQclear(PQexec(s->pg->conn, "ROLLBACK"));
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

int store_quorum_since(struct store *s, int64_t *after, int limit, store_quorum_fn fn, void *user, struct ht_err *err)
{
	char a[24], l[16];
	const char *p[] = { a, l, s->pg && s->pg->location ? s->pg->location : "" };

	if (!s->pg)
		return 0;
	snprintf(a, sizeof(a), "%lld", (long long)*after);
	snprintf(l, sizeof(l), "%d", limit);
	PGresult *r = store_pg_exec(s, "SELECT seq, target, location, cls, poller FROM location_state WHERE seq > $1::bigint"
				    " AND location <> $3 ORDER BY seq LIMIT $2::integer", 3, p,
				    "reading the locations' classes", err);
	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		fn(user, PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), (int)store_pg_i64(r, i, 3),
		   PQgetisnull(r, i, 4) ? NULL : PQgetvalue(r, i, 4));
		*after = store_pg_i64(r, i, 0);
	}
	PQclear(r);
	return 0;
}

int store_quorum_live(struct store *s, int64_t lease_ms, store_location_fn fn, void *user, struct ht_err *err)
{
	char lease[24];
	const char *p[] = { lease };

	if (!s->pg)
		return 0;
	snprintf(lease, sizeof(lease), "%lld", (long long)lease_ms);
	PGresult *r = store_pg_exec(s, "SELECT DISTINCT location FROM poller WHERE heartbeat > " NOW_MS " - 2 * $1::bigint",
				    1, p, "reading the live locations", err);
	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		fn(user, PQgetvalue(r, i, 0));
	PQclear(r);
	return 0;
}

/* Shard leases in PostgreSQL (store_shard.h): one transaction per round, every time the
 * database's own clock. SQLite has one poller per database: it holds every shard. */
#include "autoconfig.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/store/store_shard.h"
#include "store_priv.h"
#include "store_pg.h"

#define NOW_MS "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"

unsigned store_shard_of(const char *name)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % STORE_SHARDS;
}

/* Runs sql; the shards in its first column added to *bits, their number returned (-1: error). */
static int shard_query(struct store *s, const char *sql, int n, const char *const *p, uint64_t *bits,
		       struct ht_err *err)
{
	PGresult *r = store_pg_exec(s, sql, n, p, "leasing shards", err);

	if (!r)
		return -1;
	int rows = PQntuples(r);
	for (int i = 0; i < rows; i++) {
		int64_t shard = store_pg_i64(r, i, 0);
		if (shard >= 0 && shard < STORE_SHARDS)
			*bits |= 1ull << shard;
	}
	PQclear(r);
	return rows;
}

static int popcount(uint64_t v)
{
	return __builtin_popcountll(v);
}

/* Inside the round's transaction: renew mine, give back extras, take free ones up to fair. */
static int round_locked(struct store *s, const char *me, const char *lease, uint64_t *held, struct ht_err *err)
{
	const char *loc = s->pg->location ? s->pg->location : "";
	const char *p[] = { me, lease, loc };
	char take[16], extra[600];

	/* each location shares the fleet among its own pollers: every location checks every target */
	PGresult *r = store_pg_exec(s, "SELECT count(*) FROM poller WHERE heartbeat > " NOW_MS " - 2 * $1::bigint"
				    " AND location = $2", 2, p + 1, "leasing shards", err);
	if (!r)
		return -1;
	int64_t live = store_pg_i64(r, 0, 0);
	PQclear(r);
	int fair = (int)((STORE_SHARDS + (live > 0 ? live : 1) - 1) / (live > 0 ? live : 1));
	if (shard_query(s, "UPDATE shard_lease SET expires = " NOW_MS " + $2::bigint WHERE holder = $1"
			" AND location = $3 RETURNING shard", 3, p, held, err) < 0)
		return -1;
	int extras = popcount(*held) - fair;
	if (extras > 0) {   /* the highest go back: another poller takes them at its next round */
		size_t o = (size_t)snprintf(extra, sizeof(extra), "{");
		for (int i = STORE_SHARDS - 1; i >= 0 && extras > 0; i--)
			if (*held & (1ull << i)) {
				o += (size_t)snprintf(extra + o, sizeof(extra) - o, "%s%d", o > 1 ? "," : "", i);
				*held &= ~(1ull << i);
				extras--;
			}
		snprintf(extra + o, sizeof(extra) - o, "}");
		const char *q[] = { me, extra, loc };
		return store_pg_run(s, "UPDATE shard_lease SET holder = NULL, expires = 0 WHERE holder = $1"
				    " AND shard = ANY($2::integer[]) AND location = $3", 3, q, "giving shards back", err);
	}
	if (popcount(*held) >= fair)
		return 0;
	snprintf(take, sizeof(take), "%d", fair - popcount(*held));
	const char *q[] = { me, lease, take, loc };
	return shard_query(s, "UPDATE shard_lease SET holder = $1, expires = " NOW_MS " + $2::bigint WHERE location = $4"
			   " AND shard IN (SELECT shard FROM shard_lease WHERE location = $4 AND (holder IS NULL OR"
			   " expires < " NOW_MS ") ORDER BY shard LIMIT $3::integer FOR UPDATE SKIP LOCKED) RETURNING shard",
			   4, q, held, err) < 0 ? -1 : 0;
}

int store_shard_round(struct store *s, const char *me, int64_t lease_ms, uint64_t *held, struct ht_err *err)
{
	char lease[24];
	const char *loc = s->pg && s->pg->location ? s->pg->location : "";
	const char *p[] = { me, lease, loc };

	*held = 0;
	if (!s->pg) {
		*held = ~0ull;
		return 0;
	}
	snprintf(lease, sizeof(lease), "%lld", (long long)lease_ms);
	if (store_pg_run(s, "BEGIN", 0, NULL, "leasing shards", err) < 0)
		return -1;
	/* pollers gone for ten lease periods are forgotten: the table stays the live set */
	if (store_pg_run(s, "DELETE FROM poller WHERE heartbeat < " NOW_MS " - 10 * $1::bigint", 1, p + 1,
			 "leasing shards", err) < 0 ||
	    store_pg_run(s, "INSERT INTO poller(id, heartbeat, location) VALUES ($1, " NOW_MS ", $2) ON CONFLICT (id)"
			 " DO UPDATE SET heartbeat = excluded.heartbeat, location = excluded.location", 2,
			 (const char *const[]){ me, loc }, "leasing shards", err) < 0 ||
	    /* a location's 64 lease rows, made by its first poller ('' has them from schema 2) */
	    store_pg_run(s, "INSERT INTO shard_lease(location, shard) SELECT $1::text, generate_series(0, 63)"
			 " ON CONFLICT DO NOTHING", 1, p + 2, "leasing shards", err) < 0 ||
	    round_locked(s, me, lease, held, err) < 0 ||
	    store_pg_run(s, "COMMIT", 0, NULL, "leasing shards", err) < 0) {
		if (s->pg->conn)
			PQclear(PQexec(s->pg->conn, "ROLLBACK"));
		*held = 0;
		return -1;
	}
	return 0;
}

int store_shard_leave(struct store *s, const char *me, struct ht_err *err)
{
	const char *p[] = { me };

	if (!s->pg)
		return 0;
	return store_pg_run(s, "UPDATE shard_lease SET holder = NULL, expires = 0 WHERE holder = $1", 1, p,
			    "giving shards back", err) < 0 ||
	       store_pg_run(s, "DELETE FROM poller WHERE id = $1", 1, p, "giving shards back", err) < 0 ? -1 : 0;
}

void store_set_poller(struct store *s, const char *id)
{
	char *c = NULL;

	if (!s || !s->pg || (s->pg->poller && id && strcmp(s->pg->poller, id) == 0))
		return;
	if (id && !(c = strdup(id)))
		return;   /* out of memory: results keep the old name (or none) */
	free(s->pg->poller);
	s->pg->poller = id ? c : NULL;
}

int store_last_checked(struct store *s, int64_t since_ms, store_last_fn fn, void *user, struct ht_err *err)
{
	char since[24];
	const char *p[] = { since };

	if (!s->pg)
		return 0;
	snprintf(since, sizeof(since), "%lld", (long long)since_ms);
	/* one backward probe of result_target_time per target, not a scan of every recent row */
	PGresult *r = store_pg_exec(s, "SELECT t.name, m.at FROM target t CROSS JOIN LATERAL (SELECT max(r.checked_at) AS at"
				    " FROM result r WHERE r.target_id = t.id AND r.checked_at >= $1::bigint) m"
				    " WHERE m.at IS NOT NULL", 1, p, "reading last results", err);
	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		fn(user, PQgetvalue(r, i, 0), store_pg_i64(r, i, 1));
	PQclear(r);
	return 0;
}

int store_shard_live(struct store *s, int64_t lease_ms, struct ht_err *err)
{
	char lease[24];
	const char *p[] = { lease };

	if (!s->pg)
		return 0;
	snprintf(lease, sizeof(lease), "%lld", (long long)lease_ms);
	/* before schema 2 (an older poller's database) there are none */
	PGresult *r = store_pg_exec(s, "SELECT CASE WHEN to_regclass('poller') IS NULL THEN 0 ELSE (SELECT count(*)"
				    " FROM poller WHERE heartbeat > " NOW_MS " - 2 * $1::bigint) END", 1, p,
				    "reading pollers", err);
	if (!r)
		return -1;
	int n = (int)store_pg_i64(r, 0, 0);
	PQclear(r);
	return n;
}

void store_set_location(struct store *s, const char *location)
{
	char *c = NULL;

	if (!s || !s->pg || (s->pg->location && location && strcmp(s->pg->location, location) == 0))
		return;
	if (location && !(c = strdup(location)))
		return;
	free(s->pg->location);
	s->pg->location = c;
}

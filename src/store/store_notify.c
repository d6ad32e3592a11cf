/* The durable notification queue: the notifier hands every message here before its first
 * attempt and takes it out once delivered or given up. */
#include "autoconfig.h"
#include "healthtop/store/store_alert.h"
#include "store_priv.h"
#include "store_pg.h"

static int run(struct store *s, sqlite3_stmt *st, const char *what, struct ht_err *err)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, what);
}

int store_notify_put(struct store *s, const struct store_notify_row *r, struct ht_err *err)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO notify_queue(id, dest, name, project, url, old_status, new_status,"
		" reason, since, at, created, attempts) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
	sqlite3_stmt *st = NULL;

	if (s->pg)
		return store_pg_notify_put(s, r, err);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_db_fail(s, err, "keeping a notification");
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_text(st, 2, r->dest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->project, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->url, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, r->old_cls);
	sqlite3_bind_int(st, 7, r->new_cls);
	sqlite3_bind_text(st, 8, r->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, r->since_ms);
	sqlite3_bind_int64(st, 10, r->at_ms);
	sqlite3_bind_int64(st, 11, r->created_ms);
	sqlite3_bind_int(st, 12, r->attempts);
	return run(s, st, "keeping a notification", err);
}

int store_notify_delete(struct store *s, int64_t id, struct ht_err *err)
{
	sqlite3_stmt *st = NULL;

	if (s->pg)
		return store_pg_notify_delete(s, id, err);
	if (sqlite3_prepare_v2(s->db, "DELETE FROM notify_queue WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return store_db_fail(s, err, "forgetting a notification");
	sqlite3_bind_int64(st, 1, id);
	return run(s, st, "forgetting a notification", err);
}

int store_notify_each(struct store *s, store_notify_fn fn, void *user, struct ht_err *err)
{
	static const char sql[] =
		"SELECT id, dest, name, project, url, old_status, new_status, reason, since, at, created,"
		" attempts FROM notify_queue ORDER BY id";
	sqlite3_stmt *st = NULL;
	int rc;

	if (s->pg)
		return store_pg_notify_each(s, fn, user, err);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_db_fail(s, err, "reading waiting notifications");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_notify_row r = {
			.id = sqlite3_column_int64(st, 0),
			.dest = store_column_str(st, 1),
			.name = store_column_str(st, 2),
			.project = store_column_str(st, 3),
			.url = store_column_str(st, 4),
			.old_cls = sqlite3_column_int(st, 5),
			.new_cls = sqlite3_column_int(st, 6),
			.reason = store_column_str(st, 7),
			.since_ms = sqlite3_column_int64(st, 8),
			.at_ms = sqlite3_column_int64(st, 9),
			.created_ms = sqlite3_column_int64(st, 10),
			.attempts = sqlite3_column_int(st, 11),
		};
		fn(user, &r);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "reading waiting notifications");
}

int64_t store_data_version(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	/* PostgreSQL has no cheap "did another connection commit?": every call says yes, so a
	 * reader asking each second re-reads (mutes: one small indexed query). */
	if (s->pg)
		return (int64_t)++s->pg->version;
	if (sqlite3_prepare_v2(s->db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int store_last_state(struct store *s, const char *name, int *cls, int64_t *since_ms, struct ht_err *err)
{
	static const char sql[] =
		"SELECT (SELECT status FROM result WHERE target_id = t.id ORDER BY checked_at DESC LIMIT 1),"
		" (SELECT max(at) FROM state_change WHERE target_id = t.id),"
		" (SELECT min(checked_at) FROM result WHERE target_id = t.id)"
		" FROM target t WHERE t.name = ?1";
	sqlite3_stmt *st = NULL;
	int rc;

	if (s->pg)
		return store_pg_last_state(s, name, cls, since_ms, err);
	*cls = -1;
	*since_ms = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_db_fail(s, err, "reading the last state");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*cls = sqlite3_column_int(st, 0);
		/* no change kept: the state began no later than the oldest result kept */
		*since_ms = sqlite3_column_int64(st, sqlite3_column_type(st, 1) != SQLITE_NULL ? 1 : 2);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "reading the last state");
}

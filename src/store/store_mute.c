/* Mutes: a target or a project silenced until a time, whoever set it (dashboard or CLI). */
#include "autoconfig.h"
#include "healthtop/store/store_alert.h"
#include "store_priv.h"
#include "store_pg.h"

int store_mute_set(struct store *s, const struct store_mute_row *r, struct ht_err *err)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO mute(scope, until_ms, reason, created_ms) VALUES(?1, ?2, ?3, ?4)";
	sqlite3_stmt *st = NULL;
	int rc;

	if (s->pg)
		return store_pg_mute_set(s, r, err);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_db_fail(s, err, "muting");
	sqlite3_bind_text(st, 1, r->scope, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->until_ms);
	sqlite3_bind_text(st, 3, r->reason ? r->reason : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, r->created_ms);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "muting");
}

int store_mute_clear(struct store *s, const char *scope, int64_t now_ms, bool *removed, struct ht_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (s->pg)
		return store_pg_mute_clear(s, scope, now_ms, removed, err);
	*removed = false;
	/* RETURNING tells whether a mute still in force went, in the same statement */
	if (sqlite3_prepare_v2(s->db, "DELETE FROM mute WHERE scope = ?1 RETURNING until_ms", -1, &st, NULL) != SQLITE_OK)
		return store_db_fail(s, err, "unmuting");
	sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (sqlite3_column_int64(st, 0) > now_ms)
			*removed = true;
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "unmuting");
}

int store_mute_each(struct store *s, int64_t now_ms, store_mute_fn fn, void *user, struct ht_err *err)
{
	static const char sql[] =
		"SELECT scope, until_ms, reason, created_ms FROM mute WHERE until_ms > ?1 ORDER BY scope";
	sqlite3_stmt *st = NULL;
	int rc;

	if (s->pg)
		return store_pg_mute_each(s, now_ms, fn, user, err);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_db_fail(s, err, "reading mutes");
	sqlite3_bind_int64(st, 1, now_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_mute_row r = {
			.scope = store_column_str(st, 0),
			.until_ms = sqlite3_column_int64(st, 1),
			.reason = store_column_str(st, 2),
			.created_ms = sqlite3_column_int64(st, 3),
		};
		fn(user, &r);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "reading mutes");
}

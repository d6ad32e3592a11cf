/* What the store's rooms (open, write, read, export cursors) share; nothing outside src/store/
 * includes this. */
#ifndef HEALTHTOP_STORE_PRIV_H
#define HEALTHTOP_STORE_PRIV_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include "healthtop/store/store.h"

struct store_pg;

/* The URL id a target's rows were last stored with: most rows repeat it (issue 12's profile:
 * looking it up cost 16 % of writing a row). */
struct store_url_seen {
	char *url;
	int64_t id;
};

struct store {
	struct store_pg *pg;    /* non-NULL: the PostgreSQL room (store_pg.h) serves every call */
	sqlite3 *db;
	/* write path (store_write.c); NULL in a read-only store */
	sqlite3_stmt *upsert_target;
	sqlite3_stmt *find_url;
	sqlite3_stmt *insert_url;
	sqlite3_stmt *insert_result;
	sqlite3_stmt *upsert_hour;
	sqlite3_stmt *upsert_day;
	sqlite3_stmt *update_hour;
	sqlite3_stmt *update_day;
	sqlite3_stmt *insert_change;
	sqlite3_stmt *last_status;
	/* read path (store_read.c) */
	sqlite3_stmt *recent;
	sqlite3_stmt *window_raw;
	sqlite3_stmt *window_hour;
	sqlite3_stmt *window_day;
	sqlite3_stmt *window_raw_id, *window_hour_id, *window_day_id;   /* one target's (?3) */
	signed char *last_cls;   /* by target id: -2 unknown yet, -1 no result, else the class */
	size_t nlast;
	struct store_url_seen *url_seen;   /* by target id */
	size_t nurl_seen;
	char path[1024];        /* as shown in messages: a conninfo's password masked */
};

/* An export in progress: a statement (SQLite) or a server-side cursor (PostgreSQL). */
struct store_cursor {
	struct store *s;
	sqlite3_stmt *st;
	bool done;
};

/* The latency a result counts with: only a check that got an HTTP answer has one. */
#define STORE_LATENCY_SQL "CASE WHEN http_code IS NOT NULL THEN response_ms END"
/* The URL shown for a result or rollup row r of target t (url_id NULL: stored before v3). */
#define STORE_URL_SQL "coalesce(u.url, t.url_at_upgrade, t.url)"

/* Writes "<path>: <what>: <sqlite's message>" into err; returns -1. */
int store_db_fail(struct store *s, struct ht_err *err, const char *what);
int store_tx_begin(struct store *s, const char *what, struct ht_err *err);
/* Commits when ok, else rolls back; `what` names the work in the error message. */
int store_tx_end(struct store *s, bool ok, const char *what, struct ht_err *err);

int store_prepare_write(struct store *s, struct ht_err *err);
/* Forgets the URL ids learned (a rolled-back batch may have taken new ones back); frees them. */
void store_forget_urls(struct store *s);
int store_prepare_read(struct store *s, struct ht_err *err);
int store_prepare_all(struct store *s, const char *const *sql, sqlite3_stmt **const *st, size_t n,
		      struct ht_err *err);

/* Unix ms from which pruning has left table whole (0: never pruned; INT64_MAX: unknown). */
int64_t store_complete_since(struct store *s, const char *table);

/* Text from the file: never NULL, whatever a damaged database holds. */
const char *store_column_str(sqlite3_stmt *st, int col);
/* A duration column: -1 for NULL. */
double store_column_ms(sqlite3_stmt *st, int col);

#endif

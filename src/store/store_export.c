/* Lists of stored results and rollup rows for readers that walk them (export, the dashboard's
 * `e`): selection by time, name and project; each row with the URL checked at the time. */
#include "autoconfig.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_priv.h"
#include "store_pg.h"

#define SELECTION_SQL \
	" AND (?3 IS NULL OR t.name IN (SELECT value FROM json_each(?3)))" \
	" AND (?4 IS NULL OR t.project IN (SELECT value FROM json_each(?4)))"

/* ["a","b"] for json_each(), or NULL for no list. */
static char *json_list(const char *const *items)
{
	size_t len = 3;
	char *out, *o;

	if (!items)
		return NULL;
	for (size_t i = 0; items[i]; i++)
		len += strlen(items[i]) * 6 + 3;
	if (!(out = malloc(len)))
		return NULL;
	o = out;
	*o++ = '[';
	for (size_t i = 0; items[i]; i++) {
		o += sprintf(o, "%s\"", i ? "," : "");
		for (const unsigned char *p = (const unsigned char *)items[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				o += sprintf(o, "\\%c", *p);
			else if (*p < 0x20)
				o += sprintf(o, "\\u%04x", *p);
			else
				*o++ = (char)*p;
		}
		*o++ = '"';
	}
	*o++ = ']';
	*o = '\0';
	return out;
}

/* Prepares a query whose ?1/?2 are the range and ?3/?4 the name and project lists. */
static sqlite3_stmt *prepare_query(struct store *s, const char *sql, const struct store_query *q,
				   int64_t lo, int64_t hi, const char *what, struct ht_err *err)
{
	char *names = json_list(q->names), *projects = json_list(q->projects);
	sqlite3_stmt *st = NULL;

	if ((q->names && !names) || (q->projects && !projects) ||
	    sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_db_fail(s, err, what);
		st = NULL;
	} else {
		sqlite3_bind_int64(st, 1, lo);
		sqlite3_bind_int64(st, 2, hi);
		sqlite3_bind_text(st, 3, names, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, projects, -1, SQLITE_TRANSIENT);
	}
	free(names);
	free(projects);
	return st;
}

struct store_cursor *store_export_begin(struct store *s, const struct store_query *q, struct ht_err *err)
{
	static const char sql[] =
		"SELECT r.checked_at, t.project, t.name, " STORE_URL_SQL ", r.status, r.http_code, r.response_ms,"
		" r.dns_ms, r.connect_ms, r.tls_ms, r.ttfb_ms, r.reason"
		" FROM result r JOIN target t ON t.id = r.target_id LEFT JOIN checked_url u ON u.id = r.url_id"
		" WHERE r.checked_at >= ?1 AND r.checked_at < ?2" SELECTION_SQL
		" ORDER BY r.checked_at, t.name";
	struct store_cursor *c;

	if (s->pg)
		return store_pg_export_begin(s, q, err);
	if (!(c = calloc(1, sizeof(*c)))) {
		ht_err_set(err, "out of memory");
		return NULL;
	}
	c->s = s;
	c->st = prepare_query(s, sql, q, q->since_ms, q->until_ms, "preparing the export", err);
	if (!c->st) {
		free(c);
		return NULL;
	}
	return c;
}

int store_export_step(struct store_cursor *c, int max_rows, store_result_fn fn, void *user, struct ht_err *err)
{
	sqlite3_stmt *st = c->st;
	int rc = SQLITE_ROW, stop = 0;

	if (c->s->pg)
		return store_pg_export_step(c, max_rows, fn, user, err);
	for (int n = 0; !stop && n < max_rows && (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
		struct store_result row = {
			.checked_at_ms = sqlite3_column_int64(st, 0),
			.project = store_column_str(st, 1),
			.name = store_column_str(st, 2),
			.url = store_column_str(st, 3),
			.cls = (enum ht_class)sqlite3_column_int(st, 4),
			.http_code = (long)sqlite3_column_int64(st, 5),
			.response_ms = store_column_ms(st, 6), .dns_ms = store_column_ms(st, 7),
			.connect_ms = store_column_ms(st, 8), .tls_ms = store_column_ms(st, 9),
			.ttfb_ms = store_column_ms(st, 10),
			.reason = store_column_str(st, 11),
		};
		stop = fn(user, &row);
	}
	if (stop)
		return stop;
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_db_fail(c->s, err, "reading results to export");
}

void store_export_end(struct store_cursor *c)
{
	if (!c)
		return;
	if (c->s->pg) {
		store_pg_export_end(c);
		return;
	}
	sqlite3_finalize(c->st);
	free(c);
}

int store_export(struct store *s, const struct store_query *q, store_result_fn fn, void *user,
		 struct ht_err *err)
{
	struct store_cursor *c = store_export_begin(s, q, err);
	int rc;

	if (!c)
		return -1;
	while ((rc = store_export_step(c, 1 << 30, fn, user, err)) == 1)
		;
	store_export_end(c);
	return rc;
}

static void rollup_row(sqlite3_stmt *st, struct store_rollup *row)
{
	memset(row, 0, sizeof(*row));
	row->period_start_ms = sqlite3_column_int64(st, 0) * 1000;
	row->project = store_column_str(st, 1);
	row->name = store_column_str(st, 2);
	row->url = store_column_str(st, 3);
	for (int c = 0; c < HT_CLASS_COUNT; c++)
		row->counts[c] = (uint32_t)sqlite3_column_int64(st, 4 + c);
	row->n_latency = (uint32_t)sqlite3_column_int64(st, 7);
	row->sum_ms = sqlite3_column_double(st, 8);
	row->min_ms = store_column_ms(st, 9);
	row->max_ms = store_column_ms(st, 10);
	hist_decode_add(&row->latency, sqlite3_column_blob(st, 11), (size_t)sqlite3_column_bytes(st, 11));
	row->n_up = (uint32_t)sqlite3_column_int64(st, 12);
}

int store_export_rollup(struct store *s, const struct store_query *q, int period_s, store_rollup_fn fn,
			void *user, struct ht_err *err)
{
	char sql[1024];
	int rc = SQLITE_DONE, stop = 0;
	struct store_rollup row;

	if (s->pg)
		return store_pg_export_rollup(s, q, period_s, fn, user, err);
	snprintf(sql, sizeof(sql),
		 "SELECT r.period, t.project, t.name, " STORE_URL_SQL ", r.n_healthy, r.n_degraded, r.n_down,"
		 " r.n_latency, r.sum_ms, r.min_ms, r.max_ms, r.hist, r.n_up FROM %s r JOIN target t ON t.id = r.target_id"
		 " LEFT JOIN checked_url u ON u.id = r.url_id"
		 " WHERE r.period >= ?1 AND r.period < ?2" SELECTION_SQL
		 " ORDER BY r.period, t.name", period_s == 3600 ? "rollup_hour" : "rollup_day");
	/* A period that starts before `since` but reaches into it counts too. */
	sqlite3_stmt *st = prepare_query(s, sql, q, q->since_ms / 1000 / period_s * period_s,
					 q->until_ms == INT64_MAX ? INT64_MAX : (q->until_ms + 999) / 1000,
					 "preparing the rollup export", err);
	if (!st)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		rollup_row(st, &row);
		stop = fn(user, &row);
	}
	sqlite3_finalize(st);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "reading rollups to export");
}

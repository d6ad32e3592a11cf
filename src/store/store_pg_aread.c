/* The loop's reads on PostgreSQL (store_async.h): the same statements and parsers as the
 * synchronous reads, sent on the loop's connection (store_pg_async.c). Each read owns a small
 * context that lives until its done. */
#include "autoconfig.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_priv.h"
#include "store_pg.h"
#include "store_walk.h"

/* One read: the row callback of its kind, and done. */
struct aread {
	union {
		store_new_row_fn new_row;
		store_i64_fn i64;
		store_row_fn row;
		store_window_fn window;
		store_target_fn target;
		store_mute_fn mute;
		store_notify_fn notify;
	} fn;
	store_done_fn done;
	void *user;
	int64_t after;    /* targets_after */
	int64_t rows;     /* window_between */
};

static struct aread *aread_new(store_done_fn done, void *user, struct ht_err *err)
{
	struct aread *r = calloc(1, sizeof(*r));

	if (!r)
		ht_err_set(err, "out of memory");
	else
		*r = (struct aread){ .done = done, .user = user };
	return r;
}

/* Sends; a read that cannot be sent is freed and its rc returned (done never called). */
static int send(struct store_async *a, const char *sql, int n, const char *const *p, const char *what,
		store_pga_fn fn, struct aread *r, struct ht_err *err)
{
	int rc;

	if (!r)
		return -1;
	if ((rc = store_pga_send(a, sql, n, p, what, fn, r, err)) < 0)
		free(r);
	return rc < 0 ? rc : 0;
}

static void finish(struct aread *r, int rc, const char *err)
{
	r->done(r->user, rc, err);
	free(r);
}

static char *id_array(const int64_t *ids, size_t n)
{
	char *s = malloc(n * 21 + 3), *o = s;

	if (!s)
		return NULL;
	*o++ = '{';
	for (size_t i = 0; i < n; i++)
		o += sprintf(o, "%s%lld", i ? "," : "", (long long)ids[i]);
	*o++ = '}';
	*o = '\0';
	return s;
}

static void got_new_rows(void *user, const PGresult *res, int rc, const char *err)
{
	struct aread *r = user;

	if (res)
		store_pg_parse_new_rows(res, r->fn.new_row, r->user);
	finish(r, rc, err);
}

int store_async_results_since(struct store_async *a, int64_t after, const int64_t *gaps, size_t ngaps, int limit,
			      store_new_row_fn fn, store_done_fn done, void *user, struct ht_err *err)
{
	char x[24], l[16], *g = id_array(gaps, ngaps);
	const char *p[] = { x, l, g };
	struct aread *r = g ? aread_new(done, user, err) : NULL;
	int rc;

	if (!g)
		ht_err_set(err, "out of memory");
	if (r)
		r->fn.new_row = fn;
	snprintf(x, sizeof(x), "%lld", (long long)after);
	snprintf(l, sizeof(l), "%d", limit);
	/* ids in gaps come first (below after): a late commit is drawn before what is new */
	rc = send(a, STORE_PG_NEW_ROWS_SQL " WHERE id > $1::bigint OR id = ANY($3::bigint[]) ORDER BY id LIMIT $2::integer",
		  3, p, "reading new results", got_new_rows, r, err);
	free(g);
	return rc;
}

static void got_i64(void *user, const PGresult *res, int rc, const char *err)
{
	struct aread *r = user;

	if (res && PQntuples(res) && !PQgetisnull(res, 0, 0))
		r->fn.i64(r->user, store_pg_i64(res, 0, 0));
	finish(r, rc, err);
}

int store_async_results_last(struct store_async *a, store_i64_fn fn, store_done_fn done, void *user,
			     struct ht_err *err)
{
	struct aread *r = aread_new(done, user, err);

	if (r)
		r->fn.i64 = fn;
	return send(a, "SELECT coalesce(max(id), 0) FROM result", 0, NULL, "reading the newest id", got_i64, r, err);
}

static void got_recent(void *user, const PGresult *res, int rc, const char *err)
{
	struct aread *r = user;

	if (res)
		store_pg_parse_recent(res, r->fn.row, r->user);
	finish(r, rc, err);
}

int store_async_recent(struct store_async *a, const int64_t *ids, size_t nids, int limit, store_row_fn fn,
		       store_done_fn done, void *user, struct ht_err *err)
{
	char l[16], *g = id_array(ids, nids);
	const char *p[] = { g, l };
	struct aread *r = g ? aread_new(done, user, err) : NULL;
	int rc;

	if (!g)
		ht_err_set(err, "out of memory");
	if (r)
		r->fn.row = fn;
	snprintf(l, sizeof(l), "%d", limit);
	rc = send(a, STORE_PG_RECENT_SQL, 2, p, "reading history", got_recent, r, err);
	free(g);
	return rc;
}

static int after_filter(void *user, const struct store_target *t)
{
	struct aread *r = user;

	return t->id > r->after ? r->fn.target(r->user, t) : 0;
}

static void got_targets(void *user, const PGresult *res, int rc, const char *err)
{
	struct aread *r = user;

	if (res)
		store_pg_parse_targets(res, after_filter, r);
	finish(r, rc, err);
}

int store_async_targets_after(struct store_async *a, int64_t after_id, store_target_fn fn, store_done_fn done,
			      void *user, struct ht_err *err)
{
	char x[24];
	const char *p[] = { x };
	struct aread *r = aread_new(done, user, err);

	if (r) {
		r->fn.target = fn;
		r->after = after_id;
	}
	snprintf(x, sizeof(x), "%lld", (long long)after_id);
	return send(a, "SELECT id, name, project, url FROM target WHERE id > $1::bigint ORDER BY id", 1, p,
		    "listing targets", got_targets, r, err);
}

static void got_mutes(void *user, const PGresult *res, int rc, const char *err)
{
	struct aread *r = user;

	if (res)
		store_pg_parse_mutes(res, r->fn.mute, r->user);
	finish(r, rc, err);
}

int store_async_mutes(struct store_async *a, int64_t now_ms, store_mute_fn fn, store_done_fn done, void *user,
		      struct ht_err *err)
{
	char x[24];
	const char *p[] = { x };
	struct aread *r = aread_new(done, user, err);

	if (r)
		r->fn.mute = fn;
	snprintf(x, sizeof(x), "%lld", (long long)now_ms);
	return send(a, STORE_PG_MUTES_SQL, 1, p, "reading mutes", got_mutes, r, err);
}

static void got_notify(void *user, const PGresult *res, int rc, const char *err)
{
	struct aread *r = user;

	if (res)
		store_pg_parse_notify(res, r->fn.notify, r->user);
	finish(r, rc, err);
}

int store_async_notify_each(struct store_async *a, store_notify_fn fn, store_done_fn done, void *user,
			    struct ht_err *err)
{
	struct aread *r = aread_new(done, user, err);

	if (r)
		r->fn.notify = fn;
	return send(a, STORE_PG_NOTIFY_SQL, 0, NULL, "reading waiting notifications", got_notify, r, err);
}

static void between_group(void *user, int64_t id, int cls, int bucket, uint32_t n, double min_ms, double max_ms,
			  uint32_t up)
{
	struct aread *r = user;

	walk_between_group(r->fn.window, r->user, &r->rows, id, cls, bucket, n, up);
}

static void got_between(void *user, const PGresult *res, int rc, const char *err)
{
	struct aread *r = user;

	if (res)
		store_pg_parse_raw(res, between_group, r);
	finish(r, rc < 0 ? rc : (int)(r->rows > 0x7fffffff ? 0x7fffffff : r->rows), err);
}

int store_async_window_between(struct store_async *a, int64_t since_ms, int64_t until_ms, store_window_fn fn,
			       store_done_fn done, void *user, struct ht_err *err)
{
	char x[24], y[24];
	const char *p[] = { x, y };
	struct aread *r = aread_new(done, user, err);

	if (r)
		r->fn.window = fn;
	store_pg_range_params(x, y, since_ms, until_ms);
	return send(a, STORE_PG_WINDOW_RAW_SQL, 2, p, "reading history", got_between, r, err);
}

/* ---- the window: the one walker (store_walk.c), its pieces sent one after another ---- */

struct awalk {
	struct store_async *a;
	struct tally t;
	int64_t since_ms;
	store_window_fn fn;
	store_done_fn done;
	void *user;
	int pending;      /* queries sent and not answered */
	int rc;
	char err[1536];
};

static void walk_step_done(struct awalk *w, int rc, const char *err)
{
	if (rc < 0 && w->rc >= 0) {
		w->rc = rc;
		snprintf(w->err, sizeof(w->err), "%s", err ? err : "");
	}
	if (--w->pending > 0)
		return;
	if (w->rc >= 0)
		walk_window_end(&w->t, w->fn, w->user);
	free(w->t.t);
	w->done(w->user, w->rc, w->rc < 0 ? w->err : NULL);
	free(w);
}

static void got_raw_piece(void *user, const PGresult *res, int rc, const char *err)
{
	struct awalk *w = user;

	if (res)
		store_pg_parse_raw(res, walk_raw_group, &w->t);
	walk_step_done(w, rc, err);
}

static void got_rollup_piece(void *user, const PGresult *res, int rc, const char *err)
{
	struct awalk *w = user;

	if (res)
		store_pg_parse_rollup(res, walk_rollup_group, &w->t);
	walk_step_done(w, rc, err);
}

/* The walker's piece, sent instead of read: it is answered after the ones before it. */
static int send_piece(struct store *s, struct tally *t, enum level l, int64_t a, int64_t b, struct ht_err *err)
{
	struct awalk *w = t->piece_user;
	char sql[256], x[24], y[24];
	const char *p[] = { x, y };
	int rc;

	if (l == LEVEL_RAW) {
		store_pg_range_params(x, y, a, b);
		rc = store_pga_send(w->a, STORE_PG_WINDOW_RAW_SQL, 2, p, "reading history", got_raw_piece, w, err);
	} else {
		store_pg_rollup_sql(sql, sizeof(sql), store_levels[l].table);
		store_pg_range_params(x, y, a / 1000, b == INT64_MAX ? INT64_MAX : b / 1000);
		rc = store_pga_send(w->a, sql, 2, p, "reading history", got_rollup_piece, w, err);
	}
	if (rc < 0)
		return rc;
	w->pending++;
	return 0;
}

static void got_ids(void *user, const PGresult *res, int rc, const char *err)
{
	struct awalk *w = user;

	for (int i = 0; res && i < PQntuples(res); i++)
		tally_add(&w->t, store_pg_i64(res, i, 0));
	if (w->t.cap == (size_t)-1 && rc >= 0) {
		rc = -1;
		err = "out of memory reading the window";
	}
	walk_step_done(w, rc, err);
}

/* How far pruning has left each table whole; then the pieces, planned and sent at once. */
static void got_complete(void *user, const PGresult *res, int rc, const char *err)
{
	struct awalk *w = user;
	struct ht_err e = { "" };
	enum level l;

	for (int i = 0; res && i < PQntuples(res); i++)
		for (int k = 0; k < LEVEL_COUNT; k++)
			if (strcmp(PQgetvalue(res, i, 0) + strlen("complete_since."), store_levels[k].table) == 0)
				w->t.complete[k] = store_pg_i64(res, i, 1);
	if (res && w->rc >= 0) {
		w->t.piece = send_piece;
		w->t.piece_user = w;
		if ((rc = walk_cover(NULL, &w->t, w->since_ms, INT64_MAX, &l, &e)) < 0)
			err = e.msg;
	}
	walk_step_done(w, rc, err);
}

int store_async_window(struct store_async *a, int64_t since_ms, store_window_fn fn, store_done_fn done, void *user,
		       struct ht_err *err)
{
	struct awalk *w = calloc(1, sizeof(*w));
	int rc;

	if (!w) {
		ht_err_set(err, "out of memory");
		return -1;
	}
	*w = (struct awalk){ .a = a, .since_ms = since_ms, .fn = fn, .done = done, .user = user };
	if ((rc = store_pga_send(a, "SELECT id FROM target ORDER BY id", 0, NULL, "listing targets", got_ids, w,
				 err)) < 0) {
		free(w);
		return rc;
	}
	w->pending = 1;
	/* answered after the ids: the walk is planned once both are in */
	if ((rc = store_pga_send(a, "SELECT key, value FROM meta WHERE key LIKE 'complete\\_since.%'", 0, NULL,
				 "reading history", got_complete, w, err)) < 0) {
		w->rc = rc;   /* the first one's answer ends the walk, with this error */
		snprintf(w->err, sizeof(w->err), "%s", err->msg);
	}
	else
		w->pending++;
	return 0;
}

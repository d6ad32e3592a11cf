/* The raw results between two times, for every target in one read by time: the slice that aged
 * out of a window. A one-hour window of 100 000 targets holds 6 million results; the minute that
 * leaves it between two refreshes, 100 000. */
#include "autoconfig.h"
#include "healthtop/core/histogram.h"
#include "store_priv.h"
#include "store_pg.h"
#include "store_walk.h"

struct between {
	store_window_fn fn;
	void *user;
	int64_t rows;
};

static void pg_group(void *user, int64_t id, int cls, int bucket, uint32_t n, double min_ms, double max_ms,
		     uint32_t up)
{
	struct between *b = user;

	walk_between_group(b->fn, b->user, &b->rows, id, cls, bucket, n, up);
}

int64_t store_window_between(struct store *s, int64_t since_ms, int64_t until_ms, store_window_fn fn, void *user,
			     struct ht_err *err)
{
	struct between b = { fn, user, 0 };
	sqlite3_stmt *st = s->window_raw;   /* by time (result_time), grouped by target, class, bucket */
	int rc;

	if (s->pg)
		return store_pg_window_raw(s, since_ms, until_ms, pg_group, &b, err) < 0 ? -1 : b.rows;
	sqlite3_bind_int64(st, 1, since_ms);
	sqlite3_bind_int64(st, 2, until_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		walk_between_group(fn, user, &b.rows, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1),
			  sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 2),
			  (uint32_t)sqlite3_column_int64(st, 3), (uint32_t)sqlite3_column_int64(st, 6));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? b.rows : store_db_fail(s, err, "reading history");
}

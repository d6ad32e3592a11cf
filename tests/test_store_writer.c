#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <unistd.h>
#include <cmocka.h>
#include "healthtop/store/store.h"
#include "healthtop/store/store_writer.h"

struct fixture {
	char dir[64];
	char path[128];
	struct ev_loop *loop;
	sqlite3 *locker;
};

static const struct store_retention keep = { 14, 90, 0 };

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/ht-writer-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/history.db", f->dir);
	f->loop = ev_loop_new(EVFLAG_AUTO);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	if (f->locker)
		sqlite3_close(f->locker);
	ev_loop_destroy(f->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static long long count_rows(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Another process's write lock, as a sqlite3 shell's BEGIN EXCLUSIVE would hold it. */
static void lock_database(struct fixture *f)
{
	struct store *s;
	struct ht_err err = { "" };

	assert_int_equal(store_open(f->path, &s, &err), 0);   /* create and migrate first */
	store_close(s);
	assert_int_equal(sqlite3_open(f->path, &f->locker), SQLITE_OK);
	assert_int_equal(sqlite3_exec(f->locker, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
}

static void unlock_database(struct fixture *f)
{
	assert_int_equal(sqlite3_exec(f->locker, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(f->locker);
	f->locker = NULL;
}

static void push(struct store_writer *w, const char *name, int64_t at_ms)
{
	struct store_writer_target t = { name, "proj", "http://127.0.0.1:1/health" };
	struct store_row r = { .checked_at_ms = at_ms, .cls = HT_HEALTHY, .http_code = 200,
			       .response_ms = 3, .dns_ms = -1, .connect_ms = -1, .tls_ms = -1,
			       .ttfb_ms = -1, .reason = "ok", .error = "" };

	assert_int_equal(store_writer_push(w, &t, &r), 0);
}

/* The writer's attempts are counted, not timed: wait until it has failed at least once (the
 * 60 s ceiling only matters when it never does). */
static void wait_for_failure(struct store_writer *w)
{
	struct store_writer_status st;

	for (int i = 0; i < 12000; i++) {
		store_writer_status(w, &st);
		if (st.errors > 0)
			return;
		usleep(5000);
	}
	fail_msg("the writer never reported the locked database");
}

static void test_writer_commits_every_result_on_close(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	struct store_writer *w = store_writer_new(f->loop, f->path, 0, &keep, NULL, NULL, &err);

	assert_non_null(w);
	for (int i = 0; i < 1500; i++)
		push(w, i % 2 ? "a" : "b", 1700000000000LL + i);
	assert_int_equal(store_writer_close(w, 30.0), 0);
	assert_int_equal(count_rows(f->path, "SELECT count(*) FROM result"), 1500);
	assert_int_equal(count_rows(f->path, "SELECT count(*) FROM target"), 2);
}

static void test_writer_keeps_results_while_locked_and_writes_them_after(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	struct store_writer_status st;
	struct store_writer *w;

	lock_database(f);
	w = store_writer_new(f->loop, f->path, 0, &keep, NULL, NULL, &err);
	assert_non_null(w);
	for (int i = 0; i < 700; i++)
		push(w, "a", 1700000000000LL + i);
	wait_for_failure(w);
	store_writer_status(w, &st);
	assert_int_equal(st.written, 0);
	assert_int_equal(st.pending, 700);
	assert_true(strlen(st.last_error) > 0);
	assert_true(st.failing_since_ms > 0);
	unlock_database(f);
	assert_int_equal(store_writer_close(w, 30.0), 0);
	assert_int_equal(count_rows(f->path, "SELECT count(*) FROM result"), 700);
}

/* The URL a result was checked at is the writer's own copy: the daemon's came from its config,
 * which a reload frees while results still wait (here the caller's buffer is reused at once). */
static void test_writer_keeps_the_checked_url_after_the_caller_reuses_it(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	struct store_writer_target t = { "a", "proj", "http://127.0.0.1:1/health" };
	char url[64];
	struct store_row r = { .checked_at_ms = 1700000000000LL, .cls = HT_HEALTHY, .http_code = 200,
			       .response_ms = 3, .dns_ms = -1, .connect_ms = -1, .tls_ms = -1,
			       .ttfb_ms = -1, .reason = "ok", .error = "", .url = url };
	struct store_writer *w;

	lock_database(f);   /* nothing is written before the buffer has changed */
	w = store_writer_new(f->loop, f->path, 0, &keep, NULL, NULL, &err);
	assert_non_null(w);
	snprintf(url, sizeof(url), "http://127.0.0.1:1/old");
	assert_int_equal(store_writer_push(w, &t, &r), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:1/reused-buffer");
	unlock_database(f);
	assert_int_equal(store_writer_close(w, 30.0), 0);
	assert_int_equal(count_rows(f->path, "SELECT count(*) FROM result r JOIN checked_url u ON u.id = r.url_id"
				    " WHERE u.url = 'http://127.0.0.1:1/old'"), 1);
}

static void test_writer_drops_the_oldest_past_its_bound_and_counts_them(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	struct store_writer_status st;
	struct store_writer *w;

	lock_database(f);
	w = store_writer_new(f->loop, f->path, 10, &keep, NULL, NULL, &err);
	assert_non_null(w);
	push(w, "a", 1000);
	wait_for_failure(w);   /* the first result is now in the batch being retried */
	for (int i = 1; i < 25; i++)
		push(w, "a", 1000 + i);
	store_writer_status(w, &st);
	assert_int_equal(st.dropped, 15);
	assert_int_equal(st.pending, 10);
	unlock_database(f);
	assert_int_equal(store_writer_close(w, 30.0), 0);
	/* what survived is the batch being written (the first) and the newest nine behind it */
	assert_int_equal(count_rows(f->path, "SELECT count(*) FROM result"), 10);
	assert_int_equal(count_rows(f->path, "SELECT count(*) FROM result WHERE checked_at = 1000"), 1);
	assert_int_equal(count_rows(f->path, "SELECT min(checked_at) FROM result WHERE checked_at > 1000"), 1016);
}

static void test_writer_close_gives_up_after_its_deadline_and_says_how_many(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	struct store_writer *w;

	lock_database(f);
	w = store_writer_new(f->loop, f->path, 0, &keep, NULL, NULL, &err);
	assert_non_null(w);
	for (int i = 0; i < 42; i++)
		push(w, "a", 1000 + i);
	wait_for_failure(w);
	assert_int_equal(store_writer_close(w, 0.3), 42);
	unlock_database(f);
	assert_int_equal(count_rows(f->path, "SELECT count(*) FROM result"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_writer_commits_every_result_on_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_keeps_results_while_locked_and_writes_them_after,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_keeps_the_checked_url_after_the_caller_reuses_it,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_drops_the_oldest_past_its_bound_and_counts_them,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_close_gives_up_after_its_deadline_and_says_how_many,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* What alerting keeps in the database: the notification queue, mutes, and the writer thread's
 * ops that write them in order while another process holds the lock. */
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
#include "healthtop/store/store_alert.h"
#include "healthtop/store/store_writer.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/ht-nstore-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/history.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

struct seen {
	int n;
	int64_t ids[8];
	char names[8][32];
	int attempts[8];
};

static void collect(void *user, const struct store_notify_row *r)
{
	struct seen *s = user;

	if (s->n < 8) {
		s->ids[s->n] = r->id;
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", r->name);
		s->attempts[s->n] = r->attempts;
	}
	s->n++;
}

static struct store_notify_row row(int64_t id, const char *name, int attempts)
{
	return (struct store_notify_row){ id, "webhook http://x #1", name, "p", "http://x/", 0, 2, "HTTP 503",
					  1000, 2000, 2000, attempts };
}

static void test_notify_store_queue_keeps_order_and_updates(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };
	struct seen seen = { 0 };

	assert_int_equal(store_open(f->path, &s, &err), 0);
	struct store_notify_row a = row(20, "second", 0), b = row(10, "first", 0), c = row(30, "third", 0);
	assert_int_equal(store_notify_put(s, &a, &err), 0);
	assert_int_equal(store_notify_put(s, &b, &err), 0);
	assert_int_equal(store_notify_put(s, &c, &err), 0);
	a.attempts = 3;   /* a failed attempt is counted in place */
	assert_int_equal(store_notify_put(s, &a, &err), 0);
	assert_int_equal(store_notify_delete(s, 30, &err), 0);
	store_close(s);
	assert_int_equal(store_open(f->path, &s, &err), 0);   /* as a restart finds it */
	assert_int_equal(store_notify_each(s, collect, &seen, &err), 0);
	store_close(s);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.names[0], "first");
	assert_string_equal(seen.names[1], "second");
	assert_int_equal(seen.attempts[1], 3);
}

struct mutes {
	int n;
	char scope[4][64];
	int64_t until[4];
};

static void collect_mute(void *user, const struct store_mute_row *r)
{
	struct mutes *m = user;

	if (m->n < 4) {
		snprintf(m->scope[m->n], sizeof(m->scope[0]), "%s", r->scope);
		m->until[m->n] = r->until_ms;
	}
	m->n++;
}

static void test_notify_store_mutes_expire_replace_and_clear(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };
	struct mutes m = { 0 };
	bool removed;

	assert_int_equal(store_open(f->path, &s, &err), 0);
	struct store_mute_row api = { "api", 5000, "deploy", 1 }, shop = { "project:shop", 1500, "", 1 };
	assert_int_equal(store_mute_set(s, &api, &err), 0);
	assert_int_equal(store_mute_set(s, &shop, &err), 0);
	api.until_ms = 9000;   /* muting again replaces */
	assert_int_equal(store_mute_set(s, &api, &err), 0);
	assert_int_equal(store_mute_each(s, 2000, collect_mute, &m, &err), 0);
	assert_int_equal(m.n, 1);   /* the project's mute ended at 1500 */
	assert_string_equal(m.scope[0], "api");
	assert_int_equal(m.until[0], 9000);
	assert_int_equal(store_mute_clear(s, "project:shop", 2000, &removed, &err), 0);
	assert_false(removed);   /* it had already ended */
	assert_int_equal(store_mute_clear(s, "api", 2000, &removed, &err), 0);
	assert_true(removed);
	m.n = 0;
	assert_int_equal(store_mute_each(s, 0, collect_mute, &m, &err), 0);
	assert_int_equal(m.n, 0);
	store_close(s);
}

/* A CLI's mute must reach a running poller: its connection sees the version move. */
static void test_notify_store_data_version_moves_on_other_commits(void **state)
{
	struct fixture *f = *state;
	struct store *reader, *cli;
	struct ht_err err = { "" };

	assert_int_equal(store_open(f->path, &reader, &err), 0);
	assert_int_equal(store_open(f->path, &cli, &err), 0);
	int64_t v0 = store_data_version(reader);
	assert_int_equal(store_data_version(reader), v0);   /* nothing happened: nothing to read */
	struct store_mute_row r = { "api", 5000, "", 1 };
	assert_int_equal(store_mute_set(cli, &r, &err), 0);
	assert_true(store_data_version(reader) != v0);
	store_close(cli);
	store_close(reader);
}

static int put_op(struct store *s, void *arg, struct ht_err *err)
{
	return store_notify_put(s, arg, err);
}

static void free_row(void *arg)
{
	free(arg);
}

/* Ops wait for another process's lock on the writer thread, then run in the order pushed. */
static void test_notify_store_writer_ops_survive_a_held_lock(void **state)
{
	struct fixture *f = *state;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct store *s;
	struct ht_err err = { "" };
	const struct store_retention keep = { 14, 90, 0 };
	sqlite3 *locker;

	assert_int_equal(store_open(f->path, &s, &err), 0);
	store_close(s);
	assert_int_equal(sqlite3_open(f->path, &locker), SQLITE_OK);
	assert_int_equal(sqlite3_exec(locker, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	struct store_writer *w = store_writer_new(loop, f->path, 0, &keep, NULL, NULL, &err);
	assert_non_null(w);
	uint64_t last = 0;
	for (int i = 0; i < 3; i++) {
		struct store_notify_row *r = malloc(sizeof(*r));
		*r = row(100 + i, i == 0 ? "one" : i == 1 ? "two" : "three", 0);
		last = store_writer_push_op(w, put_op, free_row, r);
	}
	assert_int_equal(last, 3);
	assert_int_equal(store_writer_ops_done(w), 0);   /* pushing never waited for the lock */
	assert_int_equal(sqlite3_exec(locker, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(locker);
	assert_int_equal(store_writer_close(w, 30.0), 0);
	struct seen seen = { 0 };
	assert_int_equal(store_open(f->path, &s, &err), 0);
	assert_int_equal(store_notify_each(s, collect, &seen, &err), 0);
	store_close(s);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.names[0], "one");
	assert_string_equal(seen.names[2], "three");
	ev_loop_destroy(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_notify_store_queue_keeps_order_and_updates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_store_mutes_expire_replace_and_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_store_data_version_moves_on_other_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_store_writer_ops_survive_a_held_lock, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The monitor's side of alerting: a dashboard mute is kept in the database and holds for the
 * next run; a mute written by another process reaches a running monitor. */
#include "autoconfig.h"
#include <curl/curl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>
#include "healthtop/core/clock.h"
#include "healthtop/monitor/monitor.h"
#include "healthtop/store/store.h"
#include "healthtop/store/store_alert.h"

/* A closed loopback port: each check is refused at once, no server needed. */
#define FLEET "{\"targets\":[" \
	"{\"name\":\"api\",\"project\":\"shop\",\"url\":\"http://127.0.0.1:9\",\"interval_s\":3600}," \
	"{\"name\":\"db\",\"project\":\"core\",\"url\":\"http://127.0.0.1:7\",\"interval_s\":3600}]}"

struct fixture {
	char dir[64];
	char db[128];
	struct ev_loop *loop;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/ht-nmon-XXXXXX");
	if (!f || !mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/history.db", f->dir);
	f->loop = ev_loop_new(EVFLAG_AUTO);
	*state = f;
	return f->loop ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	ev_loop_destroy(f->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static struct monitor *start(struct fixture *f)
{
	struct ht_err err = { "" };
	struct ht_config *cfg = calloc(1, sizeof(*cfg));

	assert_non_null(cfg);
	assert_int_equal(config_parse(FLEET, strlen(FLEET), "t.json", NULL, cfg, &err), 0);
	struct monitor *m = monitor_new(f->loop, cfg, f->db, NULL, &err);
	assert_non_null(m);
	monitor_start(m);
	return m;
}

struct scan {
	int n;
	char scope[64];
};

static void one_mute(void *user, const struct store_mute_row *r)
{
	struct scan *s = user;

	snprintf(s->scope, sizeof(s->scope), "%s", r->scope);
	s->n++;
}

/* Turns the loop until target i's mute says want. The bound only ends a test that has already
 * failed: the monitor polls the mute table every second. */
static bool spin_until_muted(struct fixture *f, struct monitor *m, size_t i, bool want)
{
	for (int turn = 0; turn < 6000; turn++) {
		if (monitor_muted(m, i, clock_wall_ms()) == want)
			return true;
		ev_run(f->loop, EVRUN_ONCE);
		usleep(10000);
	}
	return false;
}

static void test_notify_monitor_dashboard_mute_outlives_the_process(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	struct monitor *m = start(f);
	int64_t until = clock_wall_ms() + 3600 * 1000;

	assert_int_equal(monitor_mute(m, "project:shop", until, &err), 1);
	assert_true(monitor_muted(m, 0, clock_wall_ms()));
	assert_false(monitor_muted(m, 1, clock_wall_ms()));
	assert_int_equal(monitor_close(m, 10.0), 0);   /* the writer writes the mute before it stops */

	struct store *s;
	struct scan scan = { 0 };
	assert_int_equal(store_open(f->db, &s, &err), 0);
	assert_int_equal(store_mute_each(s, clock_wall_ms(), one_mute, &scan, &err), 0);
	store_close(s);
	assert_int_equal(scan.n, 1);
	assert_string_equal(scan.scope, "project:shop");

	m = start(f);   /* the next run */
	assert_true(spin_until_muted(f, m, 0, true));
	assert_false(monitor_muted(m, 1, clock_wall_ms()));
	monitor_free(m);
}

static void test_notify_monitor_picks_up_a_mute_from_another_process(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	struct monitor *m = start(f);
	struct store *cli;
	bool removed;

	assert_false(monitor_muted(m, 1, clock_wall_ms()));
	assert_int_equal(store_open(f->db, &cli, &err), 0);   /* as healthtop mute does */
	struct store_mute_row r = { "db", clock_wall_ms() + 60000, "maintenance", clock_wall_ms() };
	assert_int_equal(store_mute_set(cli, &r, &err), 0);
	assert_true(spin_until_muted(f, m, 1, true));
	assert_false(monitor_muted(m, 0, clock_wall_ms()));
	assert_int_equal(store_mute_clear(cli, "db", clock_wall_ms(), &removed, &err), 0);
	assert_true(removed);
	assert_true(spin_until_muted(f, m, 1, false));
	store_close(cli);
	monitor_free(m);
}

/* Turns the loop until the monitor has read the mute rows more than `after` times. */
static bool spin_until_read(struct fixture *f, struct monitor *m, uint64_t after)
{
	uint64_t reads, scans;

	for (int turn = 0; turn < 6000; turn++) {
		monitor_mute_counts(m, &reads, &scans);
		if (reads > after)
			return true;
		ev_run(f->loop, EVRUN_ONCE);
		usleep(10000);
	}
	return false;
}

/* Issue 12: every batch the writer commits changes the database; a change that is not a mute
 * reads the few mute rows, and every target's mute is computed again only when they differ
 * (100 000 targets: a scan of all of them per batch was 1.5 % of the daemon's CPU). */
static void test_notify_monitor_other_writes_do_not_rescan_mutes(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	struct monitor *m = start(f);
	uint64_t reads, scans, scans0;
	struct store *cli;
	sqlite3 *db;
	char sql[128];

	assert_true(spin_until_read(f, m, 0));
	monitor_mute_counts(m, &reads, &scans0);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	for (int k = 0; k < 3; k++) {   /* another process writes, not a mute */
		monitor_mute_counts(m, &reads, &scans);
		snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO meta(key, value) VALUES('test.%d', %d)", k, k);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
		assert_true(spin_until_read(f, m, reads));
	}
	sqlite3_close(db);
	monitor_mute_counts(m, &reads, &scans);
	assert_int_equal(scans, scans0);
	assert_int_equal(store_open(f->db, &cli, &err), 0);
	struct store_mute_row r = { "db", clock_wall_ms() + 60000, "maintenance", clock_wall_ms() };
	assert_int_equal(store_mute_set(cli, &r, &err), 0);
	assert_true(spin_until_muted(f, m, 1, true));
	monitor_mute_counts(m, &reads, &scans);
	assert_int_equal(scans, scans0 + 1);   /* a mute: every target's, once */
	store_close(cli);
	monitor_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_notify_monitor_dashboard_mute_outlives_the_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_monitor_picks_up_a_mute_from_another_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_monitor_other_writes_do_not_rescan_mutes, setup, teardown),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}

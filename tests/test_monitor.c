#include "autoconfig.h"
#include <curl/curl.h>
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
#include "healthtop/core/clock.h"
#include "healthtop/core/histogram.h"
#include "healthtop/core/observe.h"
#include "healthtop/monitor/monitor.h"
#include "healthtop/store/store.h"

/* Closed loopback ports: each check is refused at once, so results come without a server. */
#define TWO_TARGETS "{\"targets\":[" \
	"{\"name\":\"a\",\"url\":\"http://127.0.0.1:9\",\"interval_s\":3600}," \
	"{\"name\":\"b\",\"url\":\"http://127.0.0.1:7\",\"interval_s\":3600}]}"
#define B_MOVED "{\"targets\":[{\"name\":\"b\",\"url\":\"http://127.0.0.1:13\",\"interval_s\":3600}]}"
#define C_THEN_B "{\"targets\":[{\"name\":\"c\",\"url\":\"http://127.0.0.1:7\",\"interval_s\":3600}," \
	"{\"name\":\"b\",\"url\":\"http://127.0.0.1:7\",\"interval_s\":3600}]}"
#define ONLY_B "{\"targets\":[{\"name\":\"b\",\"url\":\"http://127.0.0.1:7\",\"interval_s\":3600}]}"

struct fixture {
	char dir[64];
	char db[128];
	struct ev_loop *loop;
	int results;
	int want;
	uint64_t dropped_told;
	uint64_t want_dropped;
};

static void break_when_done(struct fixture *f)
{
	if (f->results >= f->want && f->dropped_told >= f->want_dropped)
		ev_break(f->loop, EVBREAK_ALL);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/ht-monitor-XXXXXX");
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

static struct ht_config *config(const char *text)
{
	struct ht_err err = { "" };
	struct ht_config *cfg = calloc(1, sizeof(*cfg));

	assert_non_null(cfg);
	assert_int_equal(config_parse(text, strlen(text), "t.json", NULL, cfg, &err), 0);
	return cfg;
}

static void on_result(void *user, size_t idx, bool changed, enum ht_class from)
{
	struct fixture *f = user;

	f->results++;
	break_when_done(f);
}

static void on_dropped(void *user, uint64_t count, uint64_t total, const char *why)
{
	struct fixture *f = user;

	f->dropped_told += count;
	break_when_done(f);
}

static struct monitor *start(struct fixture *f, const char *text, int want)
{
	struct ht_err err = { "" };
	struct monitor_hooks hooks = { on_result, NULL, f };
	struct monitor *m = monitor_new(f->loop, config(text), f->db, &hooks, &err);

	assert_non_null(m);
	monitor_set_drop_hook(m, on_dropped, f);
	f->want = want;
	monitor_start(m);
	ev_run(f->loop, 0);   /* until the first check of each target has reported */
	assert_int_equal(f->results, want);
	return m;
}

/* The writer thread reports on the loop; its attempts are counted, not timed (the 60 s ceiling
 * only matters when it never reports). */
static void wait_storage_error(struct fixture *f, struct monitor *m)
{
	for (int i = 0; i < 12000 && !monitor_storage_error(m); i++) {
		ev_run(f->loop, EVRUN_NOWAIT);
		usleep(5000);
	}
	assert_non_null(monitor_storage_error(m));
}

/* Another process's write lock on a healthtop database (WAL), as a sqlite3 shell would hold it. */
static sqlite3 *lock_db(const char *path)
{
	sqlite3 *db;
	struct store *s;
	struct ht_err err = { "" };

	assert_int_equal(store_open(path, &s, &err), 0);
	store_close(s);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	return db;
}

static long long query_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Another process holds the write lock while the config is reloaded: the results waiting for
 * the database stay, and are written once the lock is gone. The old monitor dropped them. */
static void test_monitor_reload_against_a_locked_database_keeps_pending(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	sqlite3 *holder = lock_db(f->db);   /* before the first result: none can be written */
	struct monitor *m = start(f, TWO_TARGETS, 2);

	assert_int_equal(monitor_pending(m), 2);
	assert_int_equal(monitor_reload(m, config(TWO_TARGETS), &err), 0);
	assert_int_equal(monitor_pending(m), 2);
	wait_storage_error(f, m);
	assert_int_equal(sqlite3_exec(holder, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(holder);
	assert_int_equal(monitor_drain(m, 60), 0);
	assert_int_equal(monitor_pending(m), 0);
	assert_int_equal(monitor_dropped(m), 0);
	assert_int_equal(f->dropped_told, 0);
	monitor_free(m);
	/* every result delivered, before and after the reload, is in the database */
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM result"), f->results);
}

/* The reload removes a target whose result is still waiting: it is written under its own name. */
static void test_monitor_removed_target_pending_result_is_written_under_its_name(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	sqlite3 *holder = lock_db(f->db);   /* before the first result: none can be written */
	struct monitor *m = start(f, TWO_TARGETS, 2);

	assert_int_equal(monitor_reload(m, config(ONLY_B), &err), 0);
	assert_int_equal(monitor_count(m), 1);
	assert_string_equal(monitor_target(m, 0)->name, "b");
	assert_int_equal(monitor_pending(m), 2);
	sqlite3_exec(holder, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(holder);
	assert_int_equal(monitor_drain(m, 60), 0);
	monitor_free(m);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM result JOIN target t ON t.id = target_id "
				   "WHERE t.name = 'a'"), 1);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM result JOIN target t ON t.id = target_id "
				   "WHERE t.name = 'b'"), 1);
}

/* A reload moves b to another URL while its result waits: that result is written, under the
 * same stored target, and the result checked at the new URL joins it. */
static void test_monitor_reload_with_a_new_url_keeps_the_pending_result(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	sqlite3 *holder = lock_db(f->db);   /* before the first result: none can be written */
	struct monitor *m = start(f, ONLY_B, 1);

	assert_int_equal(monitor_reload(m, config(B_MOVED), &err), 0);
	assert_int_equal(monitor_pending(m), 1);
	sqlite3_exec(holder, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(holder);
	f->want = 2;
	ev_run(f->loop, 0);   /* the check at the new URL */
	assert_int_equal(monitor_drain(m, 60), 0);
	monitor_free(m);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM target"), 1);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM result"), 2);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM target WHERE url LIKE '%:13/%'"), 1);
}

/* What the dashboard's and the daemon's monitor stores is what observe() says of the result. */
static void test_monitor_stores_what_observe_says(void **state)
{
	struct fixture *f = *state;
	struct monitor *m = start(f, ONLY_B, 1);
	const struct target_state *s = monitor_state(m, 0);
	struct probe_result r = { .started_ms = s->last.at_ms, .outcome = PROBE_REFUSED,
				  .total_ms = -1, .dns_ms = -1, .connect_ms = -1, .tls_ms = -1, .ttfb_ms = -1 };
	struct observation o;

	observe(monitor_target(m, 0), &r, NULL, 0, &o);
	assert_int_equal(s->last.cls, o.verdict.cls);
	assert_string_equal(s->last.reason, o.verdict.reason);
	assert_int_equal(monitor_live_results(m, 0), 1);
	monitor_free(m);
	assert_int_equal(query_int(f->db, "SELECT status FROM result"), o.row.cls);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM result WHERE reason = 'connection refused'"), 1);
}

/* History read back at start is not a result of this run: the daemon's "first result" counts. */
static void test_monitor_history_is_not_a_live_result(void **state)
{
	struct fixture *f = *state;
	struct monitor *m = start(f, ONLY_B, 1);
	struct ht_err err = { "" };

	monitor_free(m);
	m = monitor_new(f->loop, config(ONLY_B), f->db, NULL, &err);
	assert_non_null(m);
	assert_int_equal(monitor_state(m, 0)->ring_n, 1);   /* the past is on screen at once */
	assert_int_equal(monitor_live_results(m, 0), 0);
	monitor_free(m);
}

/* Issue 12: a large fleet's history is read 64 targets per loop turn, the first slice at once,
 * so that the first frame waits for no more than that; every target has its past in the end. */
static void test_monitor_history_read_in_slices(void **state)
{
	enum { N = 150 };
	struct fixture *f = *state;
	size_t size = 64 + N * 96, o = 0;
	char *text = malloc(size);
	struct ht_err err = { "" };
	int turns = 0;

	assert_non_null(text);
	o += (size_t)snprintf(text + o, size - o, "{\"targets\":[");
	for (int i = 0; i < N; i++)
		o += (size_t)snprintf(text + o, size - o, "%s{\"name\":\"t%03d\",\"url\":\"http://127.0.0.1:9\",\"interval_s\":3600}",
				      i ? "," : "", i);
	snprintf(text + o, size - o, "]}");
	struct monitor *m = start(f, text, N);
	monitor_free(m);
	m = monitor_new(f->loop, config(text), f->db, NULL, &err);
	assert_non_null(m);
	assert_int_equal(monitor_state(m, 63)->ring_n, 1);   /* the first slice: read at once */
	assert_int_equal(monitor_state(m, 64)->ring_n, 0);   /* the rest: on the next loop turns */
	assert_true(monitor_history_reading(m));
	while (monitor_history_reading(m) && turns++ < 100)
		ev_run(f->loop, EVRUN_NOWAIT);
	assert_false(monitor_history_reading(m));
	for (int i = 0; i < N; i++)
		assert_int_equal(monitor_state(m, (size_t)i)->ring_n, 1);
	assert_int_equal(monitor_history_slices(m), 3);   /* 64 + 64 + 22 */
	monitor_free(m);
	free(text);
}

/* Checks running when a reload comes still report: for the target that kept its name, as its
 * result (and it is not checked twice at once meanwhile); for the one removed, as a counted and
 * told drop, never in silence. */
static void test_monitor_checks_running_at_reload_are_applied_or_counted(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	struct monitor_hooks hooks = { on_result, NULL, f };
	struct monitor *m = monitor_new(f->loop, config(TWO_TARGETS), f->db, &hooks, &err);

	assert_non_null(m);
	monitor_set_drop_hook(m, on_dropped, f);
	monitor_start(m);   /* a and b in flight */
	assert_true(monitor_in_flight(m, 0) && monitor_in_flight(m, 1));
	assert_int_equal(monitor_reload(m, config(ONLY_B), &err), 0);
	assert_true(monitor_in_flight(m, 0));              /* b's check from before the reload */
	assert_int_equal(monitor_force(m, 0), 1);          /* so it is not started a second time */
	f->want = 1;          /* b's */
	f->want_dropped = 1;  /* a's */
	ev_run(f->loop, 0);
	assert_int_equal(f->results, 1);
	assert_int_equal(monitor_dropped(m), 1);
	assert_int_equal(f->dropped_told, 1);
	assert_int_equal(monitor_live_results(m, 0), 1);
	assert_false(monitor_in_flight(m, 0));
	assert_int_equal(monitor_drain(m, 60), 0);
	monitor_free(m);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM result"), 1);
}


/* A check that outlived two reloads reports for its target where the newest config has it. */
static void test_monitor_check_running_across_two_reloads_finds_its_target(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	struct monitor_hooks hooks = { on_result, NULL, f };
	struct monitor *m = monitor_new(f->loop, config(TWO_TARGETS), f->db, &hooks, &err);

	assert_non_null(m);
	monitor_set_drop_hook(m, on_dropped, f);
	monitor_start(m);   /* a and b in flight */
	assert_int_equal(monitor_reload(m, config(ONLY_B), &err), 0);
	assert_int_equal(monitor_reload(m, config(C_THEN_B), &err), 0);
	assert_true(monitor_in_flight(m, 1));   /* b's check from the first config */
	f->want = 2;          /* b's and c's */
	f->want_dropped = 1;  /* a's */
	ev_run(f->loop, 0);
	assert_int_equal(monitor_live_results(m, 1), 1);
	assert_int_equal(monitor_live_results(m, 0), 1);
	assert_int_equal(monitor_dropped(m), 1);
	assert_int_equal(monitor_drain(m, 60), 0);
	monitor_free(m);
}

static char *fleet(size_t n, bool reversed)
{
	size_t size = 64 + n * 80, len;
	char *text = malloc(size);

	assert_non_null(text);
	len = (size_t)snprintf(text, size, "{\"targets\":[");
	for (size_t k = 0; k < n; k++)
		len += (size_t)snprintf(text + len, size - len, "%s{\"name\":\"t%zu\",\"url\":\"http://127.0.0.1:7\","
					"\"interval_s\":3600}", k ? "," : "", reversed ? n - 1 - k : k);
	snprintf(text + len, size - len, "]}");
	return text;
}

/* A reload matches old targets with new by name: about one comparison per target, where a walk
 * of the old names for each new one made 100 000 targets a minute of 5e9 comparisons. */
static void test_monitor_reload_compares_each_name_about_once(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	const size_t n = 5000;
	char *before = fleet(n, false), *after = fleet(n, true);
	struct monitor *m = monitor_new(f->loop, config(before), f->db, NULL, &err);

	assert_non_null(m);
	assert_int_equal(monitor_reload(m, config(after), &err), 0);
	assert_true(monitor_reload_compares(m) >= n);
	assert_true(monitor_reload_compares(m) <= n + n / 100);
	monitor_free(m);
	free(before);
	free(after);
}

struct window_want {
	int64_t id[2];
	struct store_totals t[2];
};

static void keep_totals(void *user, const struct store_totals *t)
{
	struct window_want *w = user;

	for (int i = 0; i < 2; i++)
		if (w->id[i] == t->target_id)
			w->t[i] = *t;
}

/* Issue 12: the window refresh takes back only the minutes that left the window (a read of the
 * whole window was 6 million results at 100 000 targets), and the counts then equal a full
 * read of the store over the new window. */
static void test_monitor_window_refresh_takes_back_only_what_aged_out(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	struct monitor *m = start(f, TWO_TARGETS, 2);
	int64_t now = clock_wall_ms();
	char sql[600];
	sqlite3 *db;
	struct store *s;
	struct window_want want;
	const char *source;

	memset(&want, 0, sizeof(want));
	monitor_free(m);
	/* a result a minute for two hours, each target its own classes and latencies */
	snprintf(sql, sizeof(sql), "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 120)"
		 " INSERT INTO result(target_id, checked_at, status, http_code, response_ms, reason, up)"
		 " SELECT t.id, %lld - i * 60000 - t.id * 7, (i + t.id) %% 3, 200, 5 + i * i %% 97 + t.id, 'x',"
		 " (i + t.id) %% 3 = 0 FROM k, target t", (long long)now);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	m = monitor_new(f->loop, config(TWO_TARGETS), f->db, NULL, &err);
	assert_non_null(m);
	monitor_window_refresh(m, now);   /* the first: a full read */
	while (monitor_history_reading(m))
		ev_run(f->loop, EVRUN_NOWAIT);
	monitor_window_refresh(m, now + 10 * 60000);
	assert_true(monitor_window_rows(m) > 0);
	assert_true(monitor_window_rows(m) <= 2 * 10);   /* ten minutes of two targets, not 60 */
	assert_int_equal(store_open_readonly(f->db, &s, &err), 0);
	want.id[0] = query_int(f->db, "SELECT id FROM target WHERE name = 'a'");
	want.id[1] = query_int(f->db, "SELECT id FROM target WHERE name = 'b'");
	assert_int_equal(store_aggregate(s, now + 10 * 60000 - 3600 * 1000, INT64_MAX, keep_totals, &want, &source, &err), 0);
	store_close(s);
	for (size_t i = 0; i < 2; i++) {
		const struct target_state *st = monitor_state(m, i);
		assert_true(want.t[i].counts[0] + want.t[i].counts[1] + want.t[i].counts[2] >= 49);
		assert_memory_equal(st->win_counts, want.t[i].counts, sizeof(st->win_counts));
		assert_int_equal(st->win_up, want.t[i].up);
		assert_true(state_p95(st) == hist_quantile(&want.t[i].latency, 0.95));
	}
	monitor_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_monitor_reload_against_a_locked_database_keeps_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_removed_target_pending_result_is_written_under_its_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_reload_with_a_new_url_keeps_the_pending_result, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_stores_what_observe_says, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_history_is_not_a_live_result, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_history_read_in_slices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_checks_running_at_reload_are_applied_or_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_check_running_across_two_reloads_finds_its_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_reload_compares_each_name_about_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_window_refresh_takes_back_only_what_aged_out, setup, teardown),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}

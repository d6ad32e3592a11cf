/* The store suite both rooms pass: only the public interface, no SQL. It runs on a fresh SQLite
 * file; with HT_TEST_DB set (tests/integration/test_pg_store.py sets a PostgreSQL URL, on a
 * database it empties before each test) the same tests run against that database. */
#include "autoconfig.h"
#include <libpq-fe.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "healthtop/core/histogram.h"
#include "healthtop/store/store.h"
#include "healthtop/store/store_alert.h"
#include "healthtop/store/store_lease.h"
#include "healthtop/store/store_shard.h"

#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL

struct fixture {
	char dir[64];
	char db[1024];
};

/* A PostgreSQL database emptied: every test starts from no schema, as a new file does. */
static int empty_pg(const char *url)
{
	PGconn *c = PQconnectdb(url);
	PGresult *r = PQexec(c, "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	PQclear(r);
	PQfinish(c);
	return ok ? 0 : -1;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *env = getenv("HT_TEST_DB");

	if (!f)
		return -1;
	*state = f;
	if (env && *env) {
		snprintf(f->db, sizeof(f->db), "%s", env);
		return empty_pg(env);
	}
	snprintf(f->dir, sizeof(f->dir), "/tmp/ht-both-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/history.db", f->dir);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	if (f->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
		if (system(cmd) != 0)
			return -1;
	}
	free(f);
	return 0;
}

static struct store_row row(int64_t id, int64_t at_ms, enum ht_class cls, long code, double ms)
{
	return (struct store_row){ .target_id = id, .checked_at_ms = at_ms, .cls = cls, .http_code = code,
				   .up = cls != HT_DOWN && code == 200, .response_ms = ms, .dns_ms = -1,
				   .connect_ms = -1, .tls_ms = -1, .ttfb_ms = -1, .reason = "r\tx\\y" };
}

static struct store *open_store(struct fixture *f)
{
	struct ht_err err = { "" };
	struct store *s = NULL;

	if (store_open(f->db, &s, &err) < 0)
		fail_msg("%s", err.msg);
	return s;
}

struct rollups {
	int n;
	struct store_rollup r[8];
	char url[8][64];
};

static int keep_rollup(void *user, const struct store_rollup *r)
{
	struct rollups *k = user;

	if (k->n < 8) {
		k->r[k->n] = *r;
		snprintf(k->url[k->n], sizeof(k->url[k->n]), "%s", r->url);
		k->n++;
	}
	return 0;
}

static void read_rollups(struct store *s, int64_t since, int period_s, struct rollups *k)
{
	struct store_query q = { since, INT64_MAX, NULL, NULL };
	struct ht_err err = { "" };

	memset(k, 0, sizeof(*k));
	assert_int_equal(store_export_rollup(s, &q, period_s, keep_rollup, k, &err), 0);
}

/* Whatever the batches, one rollup row per (target, period), with every check in it; pruning
 * (which folds PostgreSQL's deltas) changes nothing of what is read. */
static void test_both_rollups_follow_every_batch(void **state)
{
	struct store *s = open_store(*state);
	struct ht_err err = { "" };
	int64_t a, t0 = (int64_t)time(NULL) * 1000 / HOUR_MS * HOUR_MS - 2 * HOUR_MS;
	struct rollups before, after, days[2];

	assert_int_equal(store_target_id(s, "a", "p", "http://a/", &a, &err), 0);
	struct store_row rows[] = {
		row(a, t0 + 1000, HT_HEALTHY, 200, 10), row(a, t0 + 2000, HT_DEGRADED, 503, 30),
		row(a, t0 + 3000, HT_DOWN, 0, 0.2), row(a, t0 + HOUR_MS + 5, HT_HEALTHY, 200, 20),
	};
	rows[3].url = "http://a/new";
	for (int i = 0; i < 4; i++)   /* one batch each */
		assert_int_equal(store_append_batch(s, &rows[i], 1, &err), 0);
	read_rollups(s, t0, 3600, &before);
	read_rollups(s, t0, 86400, &days[0]);
	struct store_retention keep = { 365, 365, 365 };
	int deleted = -1;
	assert_int_equal(store_prune_step(s, &keep, t0 + 3 * HOUR_MS, 100, &deleted, &err), 0);
	read_rollups(s, t0, 3600, &after);
	read_rollups(s, t0, 86400, &days[1]);
	for (int pass = 0; pass < 2; pass++) {   /* the days hold every check, before the fold and after */
		uint32_t checks = 0, up = 0;
		for (int i = 0; i < days[pass].n; i++) {
			checks += days[pass].r[i].counts[0] + days[pass].r[i].counts[1] + days[pass].r[i].counts[2];
			up += days[pass].r[i].n_up;
		}
		assert_int_equal(checks * 10 + up, 42);
		assert_string_equal(days[pass].url[days[pass].n - 1], "http://a/new");
	}
	for (int pass = 0; pass < 2; pass++) {
		struct rollups *k = pass ? &after : &before;
		assert_int_equal(k->n, 2);
		assert_int_equal(k->r[0].counts[0] * 100 + k->r[0].counts[1] * 10 + k->r[0].counts[2], 111);
		assert_int_equal(k->r[0].n_latency, 2);   /* the refused check has no latency */
		assert_true(k->r[0].min_ms == 10 && k->r[0].max_ms == 30 && k->r[0].sum_ms == 40);
		assert_int_equal(k->r[0].latency.total, 2);
		assert_int_equal(k->r[0].n_up, 1);
		assert_string_equal(k->url[1], "http://a/new");   /* the URL checked then */
	}
	assert_int_equal(days[1].n, 1 + (t0 / DAY_MS != (t0 + HOUR_MS) / DAY_MS));
	store_close(s);
}

static void add_change(void *user, int64_t id, int64_t at, int from, int to)
{
	int *v = user;

	(void)id;
	(void)at;
	*v = *v * 100 + from * 10 + to;
}

/* healthy -> degraded -> down -> healthy across batches and a reopen: three changes, in order. */
static void test_both_state_changes_continue_across_reopen(void **state)
{
	struct store *s = open_store(*state);
	struct ht_err err = { "" };
	int64_t a, t0 = 1795000000000LL;
	int seen = 0;

	assert_int_equal(store_target_id(s, "a", "p", "http://a/", &a, &err), 0);
	struct store_row rows[] = { row(a, t0, HT_HEALTHY, 200, 1), row(a, t0 + 1, HT_DEGRADED, 503, 1),
				    row(a, t0 + 2, HT_DOWN, 0, 1), row(a, t0 + 3, HT_HEALTHY, 200, 1) };
	assert_int_equal(store_append_batch(s, rows, 3, &err), 0);
	store_close(s);
	s = open_store(*state);
	assert_int_equal(store_append_batch(s, rows + 3, 1, &err), 0);
	assert_int_equal(store_changes(s, INT64_MAX, add_change, &seen, &err), 0);
	assert_int_equal(seen, 1 * 10000 + 1200 + 20);   /* 0->1, 1->2, 2->0 */
	int cls;
	int64_t since;
	assert_int_equal(store_last_state(s, "a", &cls, &since, &err), 0);
	assert_int_equal(cls, HT_HEALTHY);
	assert_int_equal(since, t0 + 3);
	store_close(s);
}

struct results {
	int n;
	char reason[32];
};

static int count_result(void *user, const struct store_result *r)
{
	struct results *k = user;

	k->n++;
	snprintf(k->reason, sizeof(k->reason), "%s", r->reason);
	return 0;
}

static void totals(void *user, const struct store_totals *t)
{
	uint32_t *n = user;

	*n += t->counts[0] + t->counts[1] + t->counts[2];
}

/* Raw results older than raw_days go (PostgreSQL: whole day partitions); the rollups keep
 * counting them, and the export reads back exactly what was written. */
static void test_both_prune_keeps_rollups_and_exports_what_remains(void **state)
{
	struct store *s = open_store(*state);
	struct ht_err err = { "" };
	int64_t a, now = (int64_t)time(NULL) * 1000;
	struct store_row rows[20];
	struct results k = { 0 };
	const char *source;
	uint32_t n = 0;

	assert_int_equal(store_target_id(s, "a", "p", "http://a/", &a, &err), 0);
	for (int i = 0; i < 20; i++)   /* one a day for 20 days, the newest now */
		rows[i] = row(a, now - (19 - i) * DAY_MS, HT_HEALTHY, 200, 5);
	assert_int_equal(store_append_batch(s, rows, 20, &err), 0);
	struct store_query q = { 0, INT64_MAX, NULL, NULL };
	assert_int_equal(store_export(s, &q, count_result, &k, &err), 0);
	assert_int_equal(k.n, 20);
	assert_string_equal(k.reason, "r\tx\\y");
	struct store_retention r = { 7, 400, 400 };
	int deleted = 0;
	for (int step = 0; step < 20; step++)
		assert_int_equal(store_prune_step(s, &r, now, 1000, &deleted, &err), 0);
	memset(&k, 0, sizeof(k));
	assert_int_equal(store_export(s, &q, count_result, &k, &err), 0);
	assert_true(k.n >= 7 && k.n <= 8);   /* 7 days kept; a day partition goes only once whole */
	assert_int_equal(store_aggregate(s, now - 30 * DAY_MS, INT64_MAX, totals, &n, &source, &err), 0);
	assert_int_equal(n, 20);
	store_close(s);
}

static void count_mute(void *user, const struct store_mute_row *m)
{
	(*(int *)user)++;
	assert_string_equal(m->reason, "deploy");
}

static void test_both_mutes_and_notifications(void **state)
{
	struct store *s = open_store(*state);
	struct ht_err err = { "" };
	int n = 0;
	bool removed;

	struct store_mute_row m = { "project:web", 5000, "deploy", 1000 };
	assert_int_equal(store_mute_set(s, &m, &err), 0);
	m.until_ms = 6000;
	assert_int_equal(store_mute_set(s, &m, &err), 0);   /* replaces */
	assert_int_equal(store_mute_each(s, 4000, count_mute, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_mute_clear(s, "project:web", 7000, &removed, &err), 0);
	assert_false(removed);   /* expired: it was not muted any more */
	struct store_notify_row nr = { 7, "hook", "a", "p", "http://a/", 0, 2, "HTTP 500", 1, 2, 3, 0 };
	assert_int_equal(store_notify_put(s, &nr, &err), 0);
	nr.attempts = 2;
	assert_int_equal(store_notify_put(s, &nr, &err), 0);
	assert_int_equal(store_notify_delete(s, 7, &err), 0);
	store_close(s);
}

static void new_row(void *user, const struct store_read_row *r, bool up)
{
	(void)r;
	*(int *)user += up ? 10 : 1;
}

static void forced(void *user, const char *name)
{
	(void)name;
	(*(int *)user)++;
}

static void test_both_lease_and_viewers(void **state)
{
	struct store *s = open_store(*state);
	struct ht_err err = { "" };
	struct store_lease me = { .pid = getpid(), .host = "here", .config = "{}" }, holder;
	int64_t a, after = 0, fafter = 0;
	int n = 0, f = 0;

	assert_int_equal(store_lease_take(s, &me, 1000, &holder, &err), 1);
	assert_int_equal(store_lease_beat(s, me.pid, "here", 2000, &err), 1);
	assert_int_equal(store_lease_beat(s, me.pid + 1, "there", 2000, &err), 0);
	assert_int_equal(store_lease_read(s, &holder, &err), 1);
	assert_int_equal(holder.heartbeat_ms, 2000);
	store_lease_fini(&holder);
	assert_int_equal(store_force_request(s, "a", 1, "v", 1, &err), 0);
	assert_int_equal(store_force_since(s, &fafter, forced, &f, &err), 0);
	assert_int_equal(f, 1);
	assert_int_equal(store_target_id(s, "a", "p", "http://a/", &a, &err), 0);
	struct store_row rows[] = { row(a, 1795000000000LL, HT_HEALTHY, 200, 1), row(a, 1795000000001LL, HT_DOWN, 0, 1) };
	assert_int_equal(store_append_batch(s, rows, 2, &err), 0);
	assert_int_equal(store_results_since(s, &after, 100, new_row, &n, &err), 0);
	assert_int_equal(n, 11);
	int64_t last;
	assert_int_equal(store_results_last(s, &last, &err), 0);
	assert_int_equal(last, after);
	assert_int_equal(store_lease_release(s, me.pid, "here", &err), 0);
	assert_int_equal(store_lease_read(s, &holder, &err), 0);
	store_close(s);
}

static uint64_t round_of(struct store *s, const char *me, int64_t lease_ms)
{
	struct ht_err err = { "" };
	uint64_t held = 0;

	if (store_shard_round(s, me, lease_ms, &held, &err) < 0)
		fail_msg("%s", err.msg);
	return held;
}

/* Three pollers end up with disjoint shards covering all of them, evenly (22, 22, 20). On SQLite
 * (one poller per database) a round holds every shard. */
static void test_both_shards_spread_evenly(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_store(f);
	uint64_t a, b, c;

	if (!getenv("HT_TEST_DB") || !*getenv("HT_TEST_DB")) {
		assert_true(round_of(s, "a", 10000) == ~0ull);
		store_close(s);
		return;
	}
	assert_int_equal(__builtin_popcountll(round_of(s, "a", 10000)), 64);
	assert_int_equal(round_of(s, "b", 10000), 0);   /* all held: a gives back at its next round */
	for (int i = 0; i < 3; i++) {
		a = round_of(s, "a", 10000);
		b = round_of(s, "b", 10000);
		c = round_of(s, "c", 10000);
	}
	assert_true((a & b) == 0 && (a & c) == 0 && (b & c) == 0);
	assert_true((a | b | c) == ~0ull);
	assert_true(__builtin_popcountll(a) <= 22 && __builtin_popcountll(b) <= 22 && __builtin_popcountll(c) <= 22);
	struct ht_err err = { "" };
	assert_int_equal(store_shard_leave(s, "c", &err), 0);   /* a clean exit: no wait */
	for (int i = 0; i < 2; i++) {
		a = round_of(s, "a", 10000);
		b = round_of(s, "b", 10000);
	}
	assert_true((a & b) == 0 && (a | b) == ~0ull);
	store_close(s);
}

/* A poller that stops renewing loses its shards to the others once its lease expired. */
static void test_both_shards_of_a_dead_poller_are_taken_over(void **state)
{
	struct store *s = open_store(*state);
	uint64_t x = 0;

	if (!getenv("HT_TEST_DB") || !*getenv("HT_TEST_DB")) {
		store_close(s);
		return;
	}
	for (int i = 0; i < 2; i++) {
		x = round_of(s, "x", 300);
		round_of(s, "y", 300);
	}
	assert_int_equal(__builtin_popcountll(x), 32);
	usleep(1000 * 1000);   /* y stops: its lease (300 ms) and liveness (600 ms) run out */
	x = round_of(s, "x", 300);
	assert_true(x == ~0ull);
	store_close(s);
}

/* Which --db values are PostgreSQL, and how they are shown (no password, ever). */
static void test_both_db_forms_and_masking(void **state)
{
	char shown[256];

	(void)state;
	assert_true(store_is_postgres("postgresql://u@h:5432/db"));
	assert_true(store_is_postgres("postgres://h/db"));
	assert_true(store_is_postgres("host=h dbname=db"));
	assert_true(store_is_postgres("  dbname = db"));
	assert_false(store_is_postgres("/var/lib/healthtop/history.db"));
	assert_false(store_is_postgres("./a=b.db"));
	assert_false(store_is_postgres("history.db"));
	assert_false(store_is_postgres("=x"));
	store_db_shown("postgresql://u:secret@h/db?sslmode=require&password=other", shown, sizeof(shown));
	assert_string_equal(shown, "postgresql://u:***@h/db?sslmode=require&password=***");
	store_db_shown("host=h password='a b\\' c' dbname=d", shown, sizeof(shown));
	assert_string_equal(shown, "host=h password=*** dbname=d");
	store_db_shown("host=h password = pw", shown, sizeof(shown));
	assert_string_equal(shown, "host=h password = ***");
	for (size_t n = 1; n < 20; n++) {   /* cut short anywhere: never past the buffer, never the secret */
		char small[20];
		memset(small, 'X', sizeof(small));
		store_db_shown("password=Z", small, n);
		assert_int_equal(strlen(small), n - 1 < 12 ? n - 1 : 12);
		assert_null(strchr(small, 'Z'));
		assert_int_equal(small[n < 19 ? n : 19], n < 19 ? 'X' : small[19]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_both_rollups_follow_every_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_state_changes_continue_across_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_prune_keeps_rollups_and_exports_what_remains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_mutes_and_notifications, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_lease_and_viewers, setup, teardown),
		cmocka_unit_test(test_both_db_forms_and_masking),
		cmocka_unit_test_setup_teardown(test_both_shards_spread_evenly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_shards_of_a_dead_poller_are_taken_over, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The poller lease, viewers' forced checks and new-row reads (src/store/store_lease.c). */
#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include "healthtop/store/store.h"
#include "healthtop/store/store_lease.h"
#include "monitor/monitor_priv.h"

#define NOW 1700000000000LL

struct fixture {
	char dir[64];
	char path[128];
	struct store *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ht_err err = { "" };

	snprintf(f->dir, sizeof(f->dir), "/tmp/ht-lease-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/h.db", f->dir);
	if (store_open(f->path, &f->s, &err) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static struct store_lease who(int64_t pid, const char *host)
{
	struct store_lease l = { .pid = pid, .config = (char *)"{}" };

	snprintf(l.host, sizeof(l.host), "%s", host);
	return l;
}

/* A pid that surely belongs to no process: a child already reaped. */
static int64_t dead_pid(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	assert_true(p > 0);
	assert_int_equal(waitpid(p, NULL, 0), p);
	return p;
}

static int take(struct fixture *f, struct store_lease me, int64_t now, int64_t *holder_pid)
{
	struct store_lease h = { 0 };
	struct ht_err err = { "" };
	int rc = store_lease_take(f->s, &me, now, &h, &err);

	*holder_pid = h.pid;
	store_lease_fini(&h);
	return rc;
}

static void test_lease_of_another_host_holds_until_its_heartbeat_is_stale(void **state)
{
	struct fixture *f = *state;
	int64_t holder;

	assert_int_equal(take(f, who(100, "bastion-a"), NOW, &holder), 1);
	assert_int_equal(take(f, who(200, "bastion-b"), NOW + STORE_LEASE_STALE_MS, &holder), 0);
	assert_int_equal(holder, 100);
	assert_int_equal(take(f, who(200, "bastion-b"), NOW + STORE_LEASE_STALE_MS + 1, &holder), 1);
}

static void test_heartbeat_keeps_the_lease_and_says_when_it_was_lost(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	int64_t holder;

	assert_int_equal(take(f, who(100, "bastion-a"), NOW, &holder), 1);
	assert_int_equal(store_lease_beat(f->s, 100, "bastion-a", NOW + 9000, &err), 1);
	/* fresh again: another host still waits */
	assert_int_equal(take(f, who(200, "bastion-b"), NOW + 9000 + STORE_LEASE_STALE_MS, &holder), 0);
	assert_int_equal(take(f, who(200, "bastion-b"), NOW + 9001 + STORE_LEASE_STALE_MS, &holder), 1);
	assert_int_equal(store_lease_beat(f->s, 100, "bastion-a", NOW + 30000, &err), 0);
}

/* The heartbeat each second touches a few bytes, not the published targets again: with 2 MB
 * of them (10 000 targets), each heartbeat had SQLite read and copy the whole row (twice the
 * config's size in memory at once; 46 MB at 100 000 targets). Counted by SQLite's own memory
 * high-water mark, and the write-ahead log stays short. */
static void test_heartbeat_does_not_rewrite_the_published_targets(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	struct store_lease me = who(getpid(), "h1"), holder;
	size_t big = 2u << 20;
	char *config = malloc(big + 1), wal[160];
	struct stat st;

	assert_non_null(config);
	memset(config, 'x', big);
	config[big] = '\0';
	me.config = config;
	assert_int_equal(store_lease_take(f->s, &me, NOW, &holder, &err), 1);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(stat(wal, &st), 0);
	off_t before = st.st_size;
	sqlite3_int64 used = sqlite3_memory_used();
	sqlite3_memory_highwater(1);
	for (int i = 1; i <= 20; i++)
		assert_int_equal(store_lease_beat(f->s, me.pid, me.host, NOW + i * 1000, &err), 1);
	assert_true(sqlite3_memory_highwater(0) - used < 512 * 1024);
	assert_int_equal(stat(wal, &st), 0);
	assert_true(st.st_size - before < 256 * 1024);
	assert_int_equal(store_lease_read(f->s, &holder, &err), 1);
	assert_int_equal(holder.heartbeat_ms, NOW + 20 * 1000);   /* readers see the fresh beat */
	assert_int_equal(strlen(holder.config), big);
	store_lease_fini(&holder);
	free(config);
}

static void test_dead_pid_on_this_host_is_taken_over_at_once(void **state)
{
	struct fixture *f = *state;
	char host[256] = "";
	int64_t holder;

	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	assert_int_equal(take(f, who(dead_pid(), host), NOW, &holder), 1);
	/* its heartbeat is fresh, but its process is gone (kill -9) */
	assert_int_equal(take(f, who(4242, host), NOW + 1, &holder), 1);
}

static void test_a_live_process_that_is_not_healthtop_holds_nothing(void **state)
{
	struct fixture *f = *state;
	char host[256] = "";
	int64_t holder;

	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	/* this test program is alive but not healthtop: its pid was recycled, as far as we know */
	assert_int_equal(take(f, who(getppid(), host), NOW, &holder), 1);
	assert_int_equal(take(f, who(4242, host), NOW + 1, &holder), 1);
}

static void test_a_live_process_like_us_holds_it_until_killed(void **state)
{
	struct fixture *f = *state;
	char host[256] = "";
	int64_t holder;
	pid_t child = fork();

	if (child == 0) {
		pause();
		_exit(0);
	}
	assert_true(child > 0);
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	/* a copy of this program: the same name in /proc, as two healthtops have */
	assert_int_equal(take(f, who(child, host), NOW, &holder), 1);
	assert_int_equal(take(f, who(4242, host), NOW + 3600 * 1000, &holder), 0);   /* stale beat: alive */
	assert_int_equal(holder, child);
	assert_int_equal(kill(child, SIGKILL), 0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_int_equal(take(f, who(4242, host), NOW + 1, &holder), 1);
}

static void test_release_lets_the_next_one_take_it(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	struct store_lease l;
	int64_t holder;

	assert_int_equal(take(f, who(100, "bastion-a"), NOW, &holder), 1);
	assert_int_equal(store_lease_read(f->s, &l, &err), 1);
	assert_string_equal(l.config, "{}");
	store_lease_fini(&l);
	assert_int_equal(store_lease_release(f->s, 100, "bastion-a", &err), 0);
	assert_int_equal(store_lease_read(f->s, &l, &err), 0);
	assert_int_equal(take(f, who(200, "bastion-b"), NOW + 1, &holder), 1);
}

struct names {
	char v[8][32];
	int n;
};

static void collect(void *user, const char *name)
{
	struct names *c = user;

	snprintf(c->v[c->n++], sizeof(c->v[0]), "%s", name);
}

static void test_forced_checks_reach_the_poller_once_in_order(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	struct names got = { .n = 0 };
	int64_t after = 0;

	assert_int_equal(store_force_request(f->s, "api", 1, "h", NOW, &err), 0);
	assert_int_equal(store_force_request(f->s, "", 1, "h", NOW, &err), 0);
	assert_int_equal(store_force_since(f->s, &after, collect, &got, &err), 0);
	assert_int_equal(got.n, 2);
	assert_string_equal(got.v[0], "api");
	assert_string_equal(got.v[1], "");
	assert_int_equal(store_force_since(f->s, &after, collect, &got, &err), 0);
	assert_int_equal(got.n, 2);   /* nothing twice */
	assert_int_equal(store_force_request(f->s, "web", 1, "h", NOW, &err), 0);
	assert_int_equal(store_force_since(f->s, &after, collect, &got, &err), 0);
	assert_int_equal(got.n, 3);
	assert_string_equal(got.v[2], "web");
	int64_t last;
	assert_int_equal(store_force_last(f->s, &last, &err), 0);
	assert_int_equal(last, after);
}

static void count_row(void *user, const struct store_read_row *row, bool up)
{
	int *n = user;

	assert_int_equal(row->cls, up ? HT_HEALTHY : HT_DOWN);
	(*n)++;
}

static void test_viewer_reads_only_the_rows_stored_since_it_last_looked(void **state)
{
	struct fixture *f = *state;
	struct ht_err err = { "" };
	int64_t id, after = 0;
	int n = 0;

	assert_int_equal(store_target_id(f->s, "api", "p", "http://h/", &id, &err), 0);
	struct store_row rows[3] = {
		{ .target_id = id, .checked_at_ms = NOW, .cls = HT_HEALTHY, .up = true, .http_code = 200, .reason = "ok" },
		{ .target_id = id, .checked_at_ms = NOW + 1, .cls = HT_DOWN, .reason = "refused" },
		{ .target_id = id, .checked_at_ms = NOW + 2, .cls = HT_HEALTHY, .up = true, .http_code = 200, .reason = "ok" },
	};
	assert_int_equal(store_append_batch(f->s, rows, 2, &err), 0);
	assert_int_equal(store_results_since(f->s, &after, 100, count_row, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_results_since(f->s, &after, 100, count_row, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_append_batch(f->s, rows + 2, 1, &err), 0);
	assert_int_equal(store_results_since(f->s, &after, 100, count_row, &n, &err), 0);
	assert_int_equal(n, 3);
	int64_t last;
	assert_int_equal(store_results_last(f->s, &last, &err), 0);
	assert_int_equal(last, after);
}

static const char *no_env(const char *name)
{
	return strcmp(name, "TOKEN") == 0 ? "s3cret-value" : NULL;
}

static void parse(const char *text, struct ht_config *cfg)
{
	struct ht_err err = { "" };

	memset(cfg, 0, sizeof(*cfg));
	if (config_parse(text, strlen(text), "t.json", no_env, cfg, &err) < 0)
		fail_msg("%s", err.msg);
}

/* What the poller publishes for viewers: no header (no secret) in the database, and a viewer
 * that reads it publishes the same text again (so two equal configs compare equal). */
/* What viewer_config_json printed through a cJSON tree before it wrote the text itself. */
static char *published_by_cjson(const struct ht_config *cfg)
{
	cJSON *root = cJSON_CreateObject(), *targets = cJSON_AddArrayToObject(root, "targets");

	cJSON_AddNumberToObject(root, "concurrency", cfg->concurrency);
	for (size_t i = 0; i < cfg->ntargets; i++) {
		const struct ht_target *t = &cfg->targets[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToArray(targets, o);
		cJSON_AddStringToObject(o, "name", t->name);
		if (t->project)
			cJSON_AddStringToObject(o, "project", t->project);
		cJSON_AddStringToObject(o, "url", t->display_url);
		if (strncmp(t->display_url, "http://", 7) == 0 || strncmp(t->display_url, "https://", 8) == 0)
			cJSON_AddStringToObject(o, "path", "");
		cJSON_AddNumberToObject(o, "interval_s", t->interval_s);
		if (t->probe.timeout_ms > 0)
			cJSON_AddNumberToObject(o, "timeout_ms", t->probe.timeout_ms);
		if (t->rules.degraded_ms > 0)
			cJSON_AddNumberToObject(o, "degraded_ms", t->rules.degraded_ms);
		cJSON_AddNumberToObject(o, "failures_before_down", t->soft.failures_before_down);
		cJSON_AddNumberToObject(o, "successes_before_healthy", t->soft.successes_before_healthy);
		if (t->retry_interval_s > 0)
			cJSON_AddNumberToObject(o, "retry_interval_s", t->retry_interval_s);
	}
	char *text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

/* The published text is written without a cJSON tree (1.5 KB a target at once) and is byte for
 * byte what the tree printed: quotes, backslashes, control bytes, UTF-8, every optional key. */
static void test_published_targets_are_written_as_cjson_printed_them(void **state)
{
	/* made by hand: the config itself refuses control bytes in names */
	struct ht_target t[3] = {
		{ .name = (char *)"a\"b\\c\001\t\n\r\b\f\037\177 \xc3\xa9\xe2\x98\x83", .project = (char *)"p\"",
		  .display_url = (char *)"https://h.example/x?q=\"1\"", .interval_s = 60,
		  .probe = { .timeout_ms = 1234 }, .rules = { .degraded_ms = 99 }, .soft = { 1, 2 },
		  .retry_interval_s = 5 },
		{ .name = (char *)"web", .display_url = (char *)"tcp://w.example:5432", .interval_s = 1 },
		{ .name = (char *)"", .project = (char *)"", .display_url = (char *)"grpc://g:1", .interval_s = 86400 },
	};
	struct ht_config a = { .concurrency = 7, .targets = t, .ntargets = 3 };
	char *mine = viewer_config_json(&a), *theirs = published_by_cjson(&a);

	assert_non_null(mine);
	assert_non_null(theirs);
	assert_string_equal(mine, theirs);
	free(mine);
	cJSON_free(theirs);
}

static void test_published_targets_hold_no_secret_and_read_back_the_same(void **state)
{
	struct ht_config a, b;
	char *ja, *jb;

	parse("{\"defaults\": {\"headers\": {\"Authorization\": \"Bearer ${TOKEN}\"}},"
	      " \"targets\": [{\"name\": \"api\", \"project\": \"p\", \"url\": \"https://u:pw@h.example/\","
	      " \"path\": \"/healthz\", \"interval_s\": 7, \"failures_before_down\": 3},"
	      " {\"name\": \"web\", \"url\": \"http://w.example\"}]}", &a);
	ja = viewer_config_json(&a);
	assert_non_null(ja);
	assert_null(strstr(ja, "s3cret"));
	assert_null(strstr(ja, "pw@"));
	assert_null(strstr(ja, "Authorization"));
	parse(ja, &b);
	jb = viewer_config_json(&b);
	assert_string_equal(ja, jb);
	assert_int_equal(b.ntargets, 2);
	assert_int_equal(b.targets[0].interval_s, 7);
	assert_int_equal(b.targets[0].soft.failures_before_down, 3);
	free(ja);
	free(jb);
	config_free(&a);
	config_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lease_of_another_host_holds_until_its_heartbeat_is_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat_keeps_the_lease_and_says_when_it_was_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat_does_not_rewrite_the_published_targets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_pid_on_this_host_is_taken_over_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_live_process_that_is_not_healthtop_holds_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_live_process_like_us_holds_it_until_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_lets_the_next_one_take_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forced_checks_reach_the_poller_once_in_order, setup, teardown),
		cmocka_unit_test(test_published_targets_hold_no_secret_and_read_back_the_same),
		cmocka_unit_test(test_published_targets_are_written_as_cjson_printed_them),
		cmocka_unit_test_setup_teardown(test_viewer_reads_only_the_rows_stored_since_it_last_looked, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

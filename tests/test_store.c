#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "healthtop/store.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/ht-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/a/b/history.db", f->dir);
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

static long long query_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -2 : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void test_store_creates_private_file_and_directories(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };
	struct stat st;

	assert_int_equal(store_open(f->path, &s, &err), 0);
	store_close(s);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(query_int(f->path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
}

static void test_store_batch_is_one_row_per_result(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };
	int64_t a, b, a2;

	assert_int_equal(store_open(f->path, &s, &err), 0);
	assert_int_equal(store_target_id(s, "api", "p", "http://h/health", &a, &err), 0);
	assert_int_equal(store_target_id(s, "web", "p", "http://w/health", &b, &err), 0);
	assert_int_equal(store_target_id(s, "api", "q", "http://h2/health", &a2, &err), 0);
	assert_int_equal(a, a2);
	assert_int_not_equal(a, b);
	struct store_row rows[3] = {
		{ .target_id = a, .checked_at_ms = 1000, .cls = HT_HEALTHY, .http_code = 200,
		  .response_ms = 3.5, .dns_ms = 0.1, .connect_ms = 0.2, .tls_ms = -1, .ttfb_ms = 2,
		  .reason = "HTTP 200" },
		{ .target_id = b, .checked_at_ms = 1000, .cls = HT_DOWN, .response_ms = 1,
		  .dns_ms = -1, .connect_ms = -1, .tls_ms = -1, .ttfb_ms = -1,
		  .reason = "connection refused", .error = "Failed to connect" },
		{ .target_id = a, .checked_at_ms = 2000, .cls = HT_DEGRADED, .http_code = 503,
		  .response_ms = 4, .dns_ms = -1, .connect_ms = -1, .tls_ms = -1, .ttfb_ms = -1,
		  .reason = "HTTP 503" },
	};
	assert_int_equal(store_append_batch(s, rows, 3, &err), 0);
	store_close(s);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM result"), 3);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM target"), 2);
	assert_int_equal(query_int(f->path, "SELECT http_code FROM result WHERE status = 2"), -2);
	assert_int_equal(query_int(f->path, "SELECT tls_ms FROM result WHERE id = 1"), -2);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM target WHERE project = 'q'"), 1);
}

static void test_store_refuses_a_newer_schema(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct ht_err err = { "" };
	sqlite3 *db;

	assert_int_equal(store_open(f->path, &s, &err), 0);
	store_close(s);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->path, &s, &err), -1);
	assert_non_null(strstr(err.msg, "schema version 99 is newer"));
}

static void test_store_reports_unwritable_path(void **state)
{
	struct store *s;
	struct ht_err err = { "" };

	assert_int_equal(store_open("/proc/healthtop/x.db", &s, &err), -1);
	assert_non_null(strstr(err.msg, "/proc/healthtop"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_creates_private_file_and_directories, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_batch_is_one_row_per_result, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_refuses_a_newer_schema, setup, teardown),
		cmocka_unit_test(test_store_reports_unwritable_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

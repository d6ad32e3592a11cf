/* The dashboard's export job (curses-free): the file appears under its final name only when
 * complete, 0600 whatever the umask, and a cancelled job leaves nothing behind. Slices are
 * counted loop turns, never timed. */
#include "autoconfig.h"
#include <dirent.h>
#include <ev.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "healthtop/core/clock.h"
#include "healthtop/export/export_job.h"
#include "healthtop/store/store.h"

#define ROWS 5000   /* more than two slices of 2000 */

struct fixture {
	char dir[64];
	char db[128];
	struct ev_loop *loop;
	int reports;
	bool finished;
	char last[768];
};

static int setup(void **state)
{
	static struct fixture f;
	struct store *s;
	struct ht_err err = { "" };
	struct store_row *rows = calloc(ROWS, sizeof(*rows));
	int64_t id, now = clock_wall_ms();

	memset(&f, 0, sizeof(f));
	snprintf(f.dir, sizeof(f.dir), "/tmp/ht-export-job-XXXXXX");
	if (!rows || !mkdtemp(f.dir))
		return -1;
	snprintf(f.db, sizeof(f.db), "%s/h.db", f.dir);
	if (store_open(f.db, &s, &err) < 0 || store_target_id(s, "api", "shop", "http://127.0.0.1:1/", &id, &err) < 0)
		return -1;
	for (int i = 0; i < ROWS; i++)
		rows[i] = (struct store_row){ .target_id = id, .checked_at_ms = now - 600000 + i, .cls = HT_HEALTHY,
					      .http_code = 200, .response_ms = 3, .dns_ms = -1, .connect_ms = -1,
					      .tls_ms = -1, .ttfb_ms = -1, .reason = "ok" };
	int rc = store_append_batch(s, rows, ROWS, &err);
	store_close(s);
	free(rows);
	f.loop = ev_loop_new(EVFLAG_AUTO);
	*state = &f;
	return rc < 0 || !f.loop ? -1 : 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	ev_loop_destroy(f->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void on_report(void *user, const char *msg, bool finished)
{
	struct fixture *f = user;

	f->reports++;
	f->finished = finished;
	snprintf(f->last, sizeof(f->last), "%s", msg);
}

/* Files in the directory whose name starts with prefix. */
static int count_files(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

static struct export_job *start(struct fixture *f, const char *const *names)
{
	struct export_job_spec spec = { f->db, { 0, INT64_MAX, names, NULL }, 1, "1h", f->dir };
	struct export_job *j = NULL;
	struct ht_err err = { "" };

	assert_int_equal(export_job_start(f->loop, &spec, on_report, f, &j, &err), 0);
	assert_non_null(j);
	return j;
}

static void test_export_appears_only_when_complete_and_0600(void **state)
{
	struct fixture *f = *state;
	const char *names[] = { "api", NULL };
	mode_t old = umask(022);
	struct export_job *j = start(f, names);
	char path[512];
	int turns = 0;
	struct stat st;

	umask(old);
	snprintf(path, sizeof(path), "%s", export_job_path(j));
	while (!f->finished && turns < 100) {
		assert_int_equal(count_files(f->dir, "healthtop-"), 0);   /* no half file to see */
		assert_int_equal(count_files(f->dir, ".healthtop-"), 1);
		ev_run(f->loop, EVRUN_ONCE);
		turns++;
	}
	assert_true(f->finished);
	assert_non_null(strstr(f->last, "exported 5000 results"));
	assert_int_equal(count_files(f->dir, ".healthtop-"), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	FILE *in = fopen(path, "r");
	char line[1024];
	int lines = 0;
	assert_non_null(in);
	while (fgets(line, sizeof(line), in))
		lines++;
	fclose(in);
	assert_int_equal(lines, ROWS + 1);   /* the header and every row */
}

/* The job's thread reads the names after the caller has let go of them (the dashboard quits or
 * reloads): they are the job's own copies (ASan sees a read of freed memory otherwise). */
static void test_export_keeps_its_own_names(void **state)
{
	struct fixture *f = *state;
	char *name = strdup("api");
	const char *names[] = { name, NULL };
	int turns = 0;

	assert_non_null(name);
	start(f, names);
	memset(name, 'x', 3);   /* what a reused block would hold */
	free(name);
	while (!f->finished && turns++ < 100)
		ev_run(f->loop, EVRUN_ONCE);
	assert_true(f->finished);
	assert_non_null(strstr(f->last, "exported 5000 results"));
}

static void test_cancelled_export_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct export_job *j = start(f, NULL);

	/* at once, whatever its thread is doing (it may be waiting on a database): the thread
	 * finishes on its own and writes to a file no longer named */
	export_job_cancel(j);
	assert_false(f->finished);
	assert_int_equal(count_files(f->dir, ".healthtop-"), 0);
	assert_int_equal(count_files(f->dir, "healthtop-"), 0);
	for (int turns = 0; turns < 3; turns++)
		ev_run(f->loop, EVRUN_NOWAIT);
	assert_false(f->finished);   /* a cancelled job reports nothing */
	assert_int_equal(count_files(f->dir, "healthtop-"), 0);
}

static void test_export_of_a_missing_database_fails_cleanly(void **state)
{
	struct fixture *f = *state;
	struct export_job_spec spec = { "/nonexistent/h.db", { 0, INT64_MAX, NULL, NULL }, 1, "1h", f->dir };
	struct export_job *j = NULL;
	struct ht_err err = { "" };

	int turns = 0;

	/* the database is opened by the job's thread: the failure comes as its report */
	assert_int_equal(export_job_start(f->loop, &spec, on_report, f, &j, &err), 0);
	while (!f->finished && turns++ < 100)
		ev_run(f->loop, EVRUN_ONCE);
	assert_true(f->finished);
	assert_non_null(strstr(f->last, "failed"));
	assert_non_null(strstr(f->last, "/nonexistent/h.db"));
	assert_int_equal(count_files(f->dir, ".healthtop-"), 0);
	assert_int_equal(count_files(f->dir, "healthtop-"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_export_appears_only_when_complete_and_0600, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_keeps_its_own_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancelled_export_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_of_a_missing_database_fails_cleanly, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

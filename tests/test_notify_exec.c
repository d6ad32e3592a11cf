#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "healthtop/notify/notify_exec.h"

struct tally {
	int done, ok;
	char why[64];
};

static void on_done(void *user, int ok, const char *why)
{
	struct tally *t = user;

	t->done++;
	t->ok += ok;
	snprintf(t->why, sizeof(t->why), "%s", why);
}

static void run_until(struct ev_loop *loop, const struct tally *t, int n)
{
	for (int i = 0; i < 200000 && t->done < n; i++)
		ev_run(loop, EVRUN_ONCE);
}

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/ht-exec-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_runs_without_a_shell_with_the_change_in_its_environment(void **state)
{
	struct ev_loop *loop = EV_DEFAULT;
	struct notify_exec *x = notify_exec_new(loop, 0, 0);
	struct tally t = { 0 };
	char out[128], script[256], got[128] = "";
	FILE *f;

	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(script, sizeof(script), "printf '%%s|%%s|%%s' \"$HEALTHTOP_NAME\" \"$1\" \"$PATH\" > '%s'", out);
	char *argv[] = { "/bin/sh", "-c", script, "sh", "a b;$(rm -rf /)", NULL };
	char *env[] = { "HEALTHTOP_NAME=api", "PATH=/custom", NULL };
	assert_int_equal(notify_exec_run(x, argv, env, on_done, &t), 0);
	run_until(loop, &t, 1);
	assert_int_equal(t.ok, 1);
	assert_string_equal(t.why, "exit 0");
	assert_non_null(f = fopen(out, "r"));
	assert_non_null(fgets(got, sizeof(got), f));
	fclose(f);
	/* the argument arrived as one word, untouched; env wins over the inherited PATH */
	assert_string_equal(got, "api|a b;$(rm -rf /)|/custom");
	notify_exec_free(x);
}

static void test_at_most_four_run_at_once_and_the_rest_wait(void **state)
{
	struct ev_loop *loop = EV_DEFAULT;
	struct notify_exec *x = notify_exec_new(loop, 4, 0);
	struct tally t = { 0 };
	char script[256], go[128];

	snprintf(go, sizeof(go), "%s/go", dir);
	snprintf(script, sizeof(script), "i=0; while [ ! -e '%s' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done", go);
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	for (int i = 0; i < 10; i++)
		assert_int_equal(notify_exec_run(x, argv, NULL, on_done, &t), 0);
	assert_int_equal(notify_exec_running(x), 4);
	assert_int_equal(notify_exec_queued(x), 6);
	fclose(fopen(go, "w"));
	while (t.done < 10) {
		assert_true(notify_exec_running(x) <= 4);
		ev_run(loop, EVRUN_ONCE);
	}
	assert_int_equal(t.ok, 10);
	notify_exec_free(x);
}

static void test_a_hook_that_overstays_is_killed(void **state)
{
	struct ev_loop *loop = EV_DEFAULT;
	struct notify_exec *x = notify_exec_new(loop, 0, 0.2);
	struct tally t = { 0 };
	char *argv[] = { "/bin/sh", "-c", "sleep 600", NULL };

	assert_int_equal(notify_exec_run(x, argv, NULL, on_done, &t), 0);
	run_until(loop, &t, 1);
	assert_int_equal(t.done, 1);
	assert_int_equal(t.ok, 0);
	assert_string_equal(t.why, "killed after 0.2 s");
	notify_exec_free(x);
}

static void test_a_missing_program_fails_with_a_reason(void **state)
{
	struct ev_loop *loop = EV_DEFAULT;
	struct notify_exec *x = notify_exec_new(loop, 0, 0);
	struct tally t = { 0 };
	char *argv[] = { "/nonexistent/hook", NULL };

	assert_int_equal(notify_exec_run(x, argv, NULL, on_done, &t), 0);
	run_until(loop, &t, 1);
	assert_int_equal(t.ok, 0);
	assert_non_null(strstr(t.why, "cannot run /nonexistent/hook"));
	notify_exec_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runs_without_a_shell_with_the_change_in_its_environment),
		cmocka_unit_test(test_at_most_four_run_at_once_and_the_rest_wait),
		cmocka_unit_test(test_a_hook_that_overstays_is_killed),
		cmocka_unit_test(test_a_missing_program_fails_with_a_reason),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

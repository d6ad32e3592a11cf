/* The admission queue's memory: a queued check holds no job and no curl handle. Linked with
 * -Wl,--wrap so that curl's easy handles are counted as they are made and cleaned up. Counting
 * only: heap bytes (mallinfo2) and handles alive, never time. */
#include "autoconfig.h"
#include <curl/curl.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/probe/probe.h"

#define CHECKS 4000
#define CONCURRENCY 4

static int easy_alive, easy_alive_max, easy_made;

CURL *__real_curl_easy_init(void);
CURL *__wrap_curl_easy_init(void);
void __real_curl_easy_cleanup(CURL *e);
void __wrap_curl_easy_cleanup(CURL *e);

CURL *__wrap_curl_easy_init(void)
{
	CURL *e = __real_curl_easy_init();

	if (e) {
		easy_made++;
		if (++easy_alive > easy_alive_max)
			easy_alive_max = easy_alive;
	}
	return e;
}

void __wrap_curl_easy_cleanup(CURL *e)
{
	if (e)
		easy_alive--;
	__real_curl_easy_cleanup(e);
}

struct seen {
	struct ev_loop *loop;
	int results;
};

static void on_done(void *user, struct probe_result *r)
{
	struct seen *s = user;

	if (++s->results == CHECKS)
		ev_break(s->loop, EVBREAK_ALL);
}

/* A safety net, not a measure: if the loop ever waits this long, results were lost. */
static void on_hung(struct ev_loop *loop, ev_timer *t, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

/* A whole fleet submitted at once: the queue holds a few words per check (before, a 1.5 KiB job
 * each); every check still gets its result, and never more easy handles exist than slots. */
static void test_probe_queued_checks_hold_no_job_and_handles_stay_within_concurrency(void **state)
{
	struct ht_err err = { "" };
	struct ht_target t = { .name = "a", .url = "http://127.0.0.1:9", .check_url = "http://127.0.0.1:9/",
			       .display_url = "http://127.0.0.1:9/", .interval_s = 60,
			       .probe = { .timeout_ms = 60000 } };
	struct seen s = { ev_loop_new(EVFLAG_AUTO), 0 };
	struct probe *p = probe_new(s.loop, CONCURRENCY, &err);
	ev_timer hung;

	assert_non_null(p);
	size_t before = mallinfo2().uordblks;
	for (int i = 0; i < CHECKS; i++)
		assert_int_equal(probe_submit(p, &t, on_done, &s), 0);
	size_t after = mallinfo2().uordblks;
	assert_int_equal(probe_queued(p) + probe_in_flight(p), CHECKS);
	/* the started ones hold their jobs and handles: allow them a generous 64 KiB each */
	assert_true(after - before < (size_t)CHECKS * 64 + CONCURRENCY * 65536u);

	ev_timer_init(&hung, on_hung, 60.0, 0.0);
	ev_timer_start(s.loop, &hung);
	ev_run(s.loop, 0);
	ev_timer_stop(s.loop, &hung);
	assert_int_equal(s.results, CHECKS);
	assert_true(easy_alive_max <= CONCURRENCY);
	assert_true(easy_made <= CONCURRENCY);   /* handles are reused, not made per check */
	probe_free(p);
	assert_int_equal(easy_alive, 0);
	ev_loop_destroy(s.loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_queued_checks_hold_no_job_and_handles_stay_within_concurrency),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}

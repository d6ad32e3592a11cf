/* The probe against a libcurl multi handle that fails: linked with -Wl,--wrap so that
 * curl_multi_socket_action and curl_multi_add_handle fail on demand. */
#include "autoconfig.h"
#include <curl/curl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/probe/probe.h"

static bool fail_socket_action;
static bool fail_add_handle;

CURLMcode __real_curl_multi_socket_action(CURLM *m, curl_socket_t s, int ev, int *running);
CURLMcode __wrap_curl_multi_socket_action(CURLM *m, curl_socket_t s, int ev, int *running);
CURLMcode __real_curl_multi_add_handle(CURLM *m, CURL *e);
CURLMcode __wrap_curl_multi_add_handle(CURLM *m, CURL *e);

CURLMcode __wrap_curl_multi_socket_action(CURLM *m, curl_socket_t s, int ev, int *running)
{
	if (fail_socket_action)
		return CURLM_INTERNAL_ERROR;
	return __real_curl_multi_socket_action(m, s, ev, running);
}

CURLMcode __wrap_curl_multi_add_handle(CURLM *m, CURL *e)
{
	if (fail_add_handle)
		return CURLM_OUT_OF_MEMORY;
	return __real_curl_multi_add_handle(m, e);
}

struct seen {
	struct ev_loop *loop;
	int results;
	enum probe_outcome outcome;
	char error[192];
};

static void on_done(void *user, struct probe_result *r)
{
	struct seen *s = user;

	s->results++;
	s->outcome = r->outcome;
	snprintf(s->error, sizeof(s->error), "%s", r->error);
	ev_break(s->loop, EVBREAK_ALL);
}

/* A safety net, not a measure: if the loop ever waits this long, the result was lost. */
static void on_hung(struct ev_loop *loop, ev_timer *t, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

static void run_one(struct seen *s)
{
	struct ht_err err = { "" };
	struct ht_target t = { .name = "a", .url = "http://127.0.0.1:9", .check_url = "http://127.0.0.1:9/",
			       .display_url = "http://127.0.0.1:9/", .interval_s = 60,
			       .probe = { .timeout_ms = 60000 } };
	struct probe *p;
	ev_timer hung;

	s->loop = ev_loop_new(EVFLAG_AUTO);
	p = probe_new(s->loop, 4, &err);
	assert_non_null(p);
	ev_timer_init(&hung, on_hung, 30.0, 0.0);
	ev_timer_start(s->loop, &hung);
	assert_int_equal(probe_submit(p, &t, on_done, s), 0);
	if (s->results == 0)
		ev_run(s->loop, 0);
	ev_timer_stop(s->loop, &hung);
	assert_int_equal(probe_in_flight(p), 0);
	probe_free(p);
	ev_loop_destroy(s->loop);
}

static void test_probe_failing_socket_action_is_an_error_result(void **state)
{
	struct seen s = { .results = 0 };

	fail_socket_action = true;
	run_one(&s);
	fail_socket_action = false;
	assert_int_equal(s.results, 1);
	assert_int_equal(s.outcome, PROBE_ERROR);
	assert_non_null(strstr(s.error, "probe engine error"));
}

static void test_probe_failing_add_handle_is_an_error_result(void **state)
{
	struct seen s = { .results = 0 };

	fail_add_handle = true;
	run_one(&s);
	fail_add_handle = false;
	assert_int_equal(s.results, 1);
	assert_int_equal(s.outcome, PROBE_ERROR);
	assert_non_null(strstr(s.error, "cannot start the transfer"));
}

static void test_probe_healthy_engine_reports_the_refusal(void **state)
{
	struct seen s = { .results = 0 };

	run_one(&s);
	assert_int_equal(s.results, 1);
	assert_int_equal(s.outcome, PROBE_REFUSED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_failing_socket_action_is_an_error_result),
		cmocka_unit_test(test_probe_failing_add_handle_is_an_error_result),
		cmocka_unit_test(test_probe_healthy_engine_reports_the_refusal),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}

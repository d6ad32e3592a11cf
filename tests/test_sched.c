#include "autoconfig.h"
#include <curl/curl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/sched/sched.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void test_sched_spreads_a_thousand_targets_over_the_interval(void **state)
{
	enum { N = 1000 };
	static double t[N];

	for (size_t i = 0; i < N; i++)
		t[i] = sched_first_tick(i, N, 60);
	qsort(t, N, sizeof(t[0]), cmp_double);
	assert_true(t[0] >= 30.0);
	assert_true(t[N - 1] < 90.0);
	for (size_t i = 1; i < N; i++) {
		double gap = t[i] - t[i - 1];
		if (fabs(gap - 0.06) > 1e-9)
			fail_msg("ticks %zu and %zu are %.4f s apart, want an even 0.06 s", i - 1, i, gap);
	}
}

static void test_sched_single_target_waits_half_an_interval(void **state)
{
	assert_true(fabs(sched_first_tick(0, 1, 10) - 5.0) < 1e-9);
}

static int results;
static enum probe_outcome last_outcome;

static void on_result(void *user, size_t idx, struct probe_result *r)
{
	results++;
	last_outcome = r->outcome;
	ev_break(user, EVBREAK_ALL);
}

static int retired_results;

static void on_retired_result(void *user, size_t idx, struct probe_result *r)
{
	retired_results++;
	ev_break(user, EVBREAK_ALL);
}

static struct ht_config *refused_config(void)
{
	struct ht_err err = { "" };
	struct ht_config *cfg = calloc(1, sizeof(*cfg));
	const char *text = "{\"targets\":[{\"name\":\"a\",\"url\":\"http://127.0.0.1:9\",\"interval_s\":3600}]}";

	assert_non_null(cfg);
	assert_int_equal(config_parse(text, strlen(text), "t.json", NULL, cfg, &err), 0);
	return cfg;
}

/* A closed loopback port answers at once with a refusal: enough to see the scheduler's rules. */
static void test_sched_never_runs_one_target_twice_at_once(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct ht_err err = { "" };
	struct ht_config *cfg = refused_config();
	struct probe *p = probe_new(loop, 4, &err);
	struct sched *s = sched_new(loop, p, cfg, on_result, loop);
	assert_int_equal(sched_force(s, 0), 0);
	assert_true(sched_in_flight(s, 0));
	assert_int_equal(sched_force(s, 0), 1);   /* still running: not started again */
	sched_force_all(s);
	assert_int_equal(probe_in_flight(p) + probe_queued(p), 1);
	ev_run(loop, 0);
	assert_int_equal(results, 1);
	assert_int_equal(last_outcome, PROBE_REFUSED);   /* the raw result, for the caller to judge */
	assert_false(sched_in_flight(s, 0));
	assert_int_equal(sched_force(s, 0), 0);   /* finished: may run again */
	probe_free(p);
	sched_free(s);
	config_free(cfg);   /* the caller's: the scheduler only borrowed it */
	free(cfg);
	ev_loop_destroy(loop);
}

/* A reload retires the scheduler: the check it had running still reports, to the reload's
 * callback, instead of vanishing. */
static void test_sched_retired_still_delivers_the_running_check(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct ht_err err = { "" };
	struct ht_config *cfg = refused_config();
	struct probe *p = probe_new(loop, 4, &err);
	struct sched *s = sched_new(loop, p, cfg, on_result, loop);

	results = 0;
	assert_int_equal(sched_force(s, 0), 0);
	sched_retire(s, on_retired_result, loop);
	assert_false(sched_idle(s));
	ev_run(loop, 0);
	assert_int_equal(retired_results, 1);
	assert_int_equal(results, 0);
	assert_true(sched_idle(s));
	sched_free(s);
	probe_free(p);
	config_free(cfg);
	free(cfg);
	ev_loop_destroy(loop);
}


struct retry_ctx {
	struct ev_loop *loop;
	struct sched *s;
	int results;
	int retries_asked;
};

static void on_retry_result(void *user, size_t idx, struct probe_result *r)
{
	struct retry_ctx *c = user;

	c->results++;
	if (c->retries_asked < 2) {
		c->retries_asked++;
		sched_retry_in(c->s, idx, 0.01);
	} else {
		ev_break(c->loop, EVBREAK_ALL);
	}
}

static void on_give_up(struct ev_loop *loop, ev_timer *t, int revents)
{
	ev_break(loop, EVBREAK_ALL);   /* only if retries never come: the counts below then fail */
}

/* With an hour's interval, only the retries asked for can bring a second and a third check; a
 * retry asked for later than the next regular check changes nothing. */
static void test_sched_retry_checks_again_before_the_interval(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct ht_err err = { "" };
	struct ht_config *cfg = refused_config();
	struct probe *p = probe_new(loop, 4, &err);
	struct retry_ctx c = { .loop = loop };
	ev_timer guard;

	c.s = sched_new(loop, p, cfg, on_retry_result, &c);
	ev_timer_init(&guard, on_give_up, 120, 0);
	ev_timer_start(loop, &guard);
	sched_start(c.s);
	ev_run(loop, 0);
	assert_int_equal(c.results, 3);
	sched_retry_in(c.s, 0, 7200);   /* later than the regular check: ignored */
	sched_retry_in(c.s, 5, 0.01);   /* no such target: ignored */
	ev_timer_stop(loop, &guard);
	probe_free(p);
	sched_free(c.s);
	config_free(cfg);
	free(cfg);
	ev_loop_destroy(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sched_spreads_a_thousand_targets_over_the_interval),
		cmocka_unit_test(test_sched_single_target_waits_half_an_interval),
		cmocka_unit_test(test_sched_never_runs_one_target_twice_at_once),
		cmocka_unit_test(test_sched_retired_still_delivers_the_running_check),
		cmocka_unit_test(test_sched_retry_checks_again_before_the_interval),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}

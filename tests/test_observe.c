#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/core/observe.h"

#define NOW_S 1800000000

static const char body[] = "{\"status\":\"fail\",\"db\":\"down\"}";

/* A recorded result: a 503 with a failing body, every phase present. */
static struct probe_result recorded(void)
{
	struct probe_result r = {
		.started_ms = (int64_t)NOW_S * 1000 - 1500, .outcome = PROBE_OK, .http_code = 503,
		.total_ms = 1234.5, .dns_ms = 1.5, .connect_ms = 2.5, .tls_ms = 30.0, .ttfb_ms = 1200.0,
		.cert_expiry = NOW_S + 90 * 86400, .body = (char *)body, .body_len = sizeof(body) - 1,
	};
	snprintf(r.error, sizeof(r.error), "%s", "");
	return r;
}

static struct ht_target target(void)
{
	return (struct ht_target){
		.name = "api", .project = "shop", .url = "http://api", .check_url = "http://api/health",
		.display_url = "http://api/health", .interval_s = 60,
		.probe = { .timeout_ms = 2000 },
		.rules = { .degraded_ms = 1000, .tls_expiry_warn_days = 14, .heartbeat_stale_s = 30 },
	};
}

static void assert_rows_equal(const struct store_row *a, const struct store_row *b)
{
	assert_int_equal(a->target_id, b->target_id);
	assert_int_equal(a->checked_at_ms, b->checked_at_ms);
	assert_int_equal(a->cls, b->cls);
	assert_int_equal(a->http_code, b->http_code);
	assert_true(a->response_ms == b->response_ms && a->dns_ms == b->dns_ms &&
		    a->connect_ms == b->connect_ms && a->tls_ms == b->tls_ms && a->ttfb_ms == b->ttfb_ms);
	assert_int_equal(a->cert_expiry, b->cert_expiry);
	assert_string_equal(a->reason, b->reason);
	assert_string_equal(a->error ? a->error : "", b->error ? b->error : "");
}

static void test_observe_row_is_the_result_and_its_verdict(void **state)
{
	struct ht_target t = target();
	struct probe_result r = recorded();
	struct observation o;

	observe(&t, &r, NULL, NOW_S, &o);
	assert_int_equal(o.verdict.cls, HT_DOWN);
	assert_string_equal(o.verdict.reason, "status: fail, db: down; HTTP 503");
	assert_int_equal(o.row.target_id, 0);
	assert_int_equal(o.row.checked_at_ms, r.started_ms);
	assert_int_equal(o.row.cls, HT_DOWN);
	assert_int_equal(o.row.http_code, 503);
	assert_true(o.row.response_ms == 1234.5 && o.row.ttfb_ms == 1200.0 && o.row.tls_ms == 30.0);
	assert_int_equal(o.row.cert_expiry, r.cert_expiry);
	assert_string_equal(o.row.reason, o.verdict.reason);
	assert_string_equal(o.last.reason, o.verdict.reason);
	assert_true(o.latency_ms == 1234.5);
	assert_true(o.verdict.body.parsed);
}

/* check (no state), the daemon and the dashboard (the monitor's state, fresh or with history of
 * either class) feed the same result to observe(): class, reason and row must not differ. */
static void test_observe_same_result_same_row_on_every_path(void **state)
{
	struct ht_target t = target();
	struct probe_result r = recorded();
	struct target_state fresh, healthy_before, down_before;
	struct observation by_check, by_fresh, by_healthy, by_down;

	state_init(&fresh);
	state_init(&healthy_before);
	state_init(&down_before);
	state_add_sample(&healthy_before, r.started_ms - 60000, 12, HT_HEALTHY);
	state_add_sample(&down_before, r.started_ms - 60000, 12, HT_DOWN);
	observe(&t, &r, NULL, NOW_S, &by_check);
	observe(&t, &r, &fresh, NOW_S, &by_fresh);
	observe(&t, &r, &healthy_before, NOW_S, &by_healthy);
	observe(&t, &r, &down_before, NOW_S, &by_down);
	assert_rows_equal(&by_check.row, &by_fresh.row);
	assert_rows_equal(&by_check.row, &by_healthy.row);
	assert_rows_equal(&by_check.row, &by_down.row);
	assert_string_equal(by_check.verdict.reason, by_down.verdict.reason);
	state_fini(&fresh);
	state_fini(&healthy_before);
	state_fini(&down_before);
}

static void test_observe_change_only_against_a_previous_result(void **state)
{
	struct ht_target t = target();
	struct probe_result r = recorded();
	struct target_state s;
	struct observation o;

	state_init(&s);
	observe(&t, &r, NULL, NOW_S, &o);
	assert_false(o.changed);
	assert_int_equal(o.from, HT_DOWN);
	observe(&t, &r, &s, NOW_S, &o);   /* nothing known yet: a first result is no change */
	assert_false(o.changed);
	state_add_sample(&s, r.started_ms - 60000, 12, HT_HEALTHY);
	observe(&t, &r, &s, NOW_S, &o);
	assert_true(o.changed);
	assert_int_equal(o.from, HT_HEALTHY);
	state_add_sample(&s, r.started_ms - 30000, 12, HT_DOWN);
	observe(&t, &r, &s, NOW_S, &o);
	assert_false(o.changed);
	state_fini(&s);
}


static struct probe_result answer(int64_t at_ms, long code)
{
	struct probe_result r = { .started_ms = at_ms, .outcome = PROBE_OK, .http_code = code, .total_ms = 5,
				  .dns_ms = -1, .connect_ms = -1, .tls_ms = -1, .ttfb_ms = -1 };
	return r;
}

/* What the monitor does with each observation: keep the displayed state and the sample. */
static void feed(const struct ht_target *t, struct target_state *s, int64_t at_ms, long code, struct observation *o)
{
	struct probe_result r = answer(at_ms, code);

	observe(t, &r, s, NOW_S, o);
	state_show(s, &o->soft, at_ms);
	state_add_sample(s, at_ms, o->latency_ms, o->verdict.cls);
}

/* failures_before_down 3 / successes_before_healthy 2: blips never change what is displayed (or
 * what is announced), the raw class of each check still does; three failures in a row do, two
 * successes in a row bring it back, and shown_since moves with each displayed change only. */
static void test_observe_anti_flap_changes_the_displayed_state_only_when_confirmed(void **state)
{
	struct ht_target t = target();
	struct target_state s;
	struct observation o;
	static const long flap[] = { 200, 500, 200, 500, 200, 500, 200 };
	int64_t at = 1000;
	unsigned changes = 0;

	t.soft = (struct soft_rules){ .failures_before_down = 3, .successes_before_healthy = 2 };
	state_init(&s);
	for (size_t i = 0; i < sizeof(flap) / sizeof(flap[0]); i++, at += 1000) {
		feed(&t, &s, at, flap[i], &o);
		assert_int_equal(o.verdict.cls, flap[i] == 200 ? HT_HEALTHY : HT_DEGRADED);   /* raw, stored */
		assert_int_equal(o.row.cls, o.verdict.cls);
		assert_int_equal(o.shown, HT_HEALTHY);
		changes += o.changed;
	}
	assert_int_equal(changes, 0);
	assert_int_equal(s.shown_since_ms, 1000);
	feed(&t, &s, at += 1000, 500, &o);
	assert_true(state_change_pending(&s, &t.soft));
	feed(&t, &s, at += 1000, 500, &o);
	assert_false(o.changed);
	assert_true(state_change_pending(&s, &t.soft));
	feed(&t, &s, at += 1000, 500, &o);
	assert_true(o.changed);
	assert_int_equal(o.from, HT_HEALTHY);
	assert_int_equal(o.shown, HT_DEGRADED);
	assert_int_equal(s.shown_since_ms, at);
	assert_false(state_change_pending(&s, &t.soft));
	feed(&t, &s, at += 1000, 200, &o);
	assert_false(o.changed);
	assert_true(state_change_pending(&s, &t.soft));
	feed(&t, &s, at += 1000, 200, &o);
	assert_true(o.changed);
	assert_int_equal(o.from, HT_DEGRADED);
	assert_int_equal(o.shown, HT_HEALTHY);
	assert_int_equal(s.shown_since_ms, at);
	state_fini(&s);
}

/* Honest uptime: answered in time with an accepted status and not down. */
static void test_observe_up_means_answered_with_an_accepted_status(void **state)
{
	struct ht_target t = target();
	struct probe_result r = answer(1, 200);
	struct observation o;

	observe(&t, &r, NULL, NOW_S, &o);
	assert_true(o.up && o.row.up);
	r = answer(1, 503);
	observe(&t, &r, NULL, NOW_S, &o);
	assert_int_equal(o.verdict.cls, HT_DEGRADED);
	assert_false(o.up || o.row.up);
	r = answer(1, 429);
	observe(&t, &r, NULL, NOW_S, &o);
	assert_false(o.row.up);
	r = (struct probe_result){ .started_ms = 1, .outcome = PROBE_TIMEOUT, .total_ms = 2000 };
	observe(&t, &r, NULL, NOW_S, &o);
	assert_int_equal(o.verdict.cls, HT_DEGRADED);
	assert_false(o.row.up);
}

/* The timeout is a probe option; the reason quotes it even though the rules no longer carry it. */
static void test_observe_timeout_quotes_the_probe_option(void **state)
{
	struct ht_target t = target();
	struct probe_result r = { .started_ms = 1, .outcome = PROBE_TIMEOUT, .total_ms = 2000,
				  .dns_ms = -1, .connect_ms = -1, .tls_ms = -1, .ttfb_ms = -1 };
	struct observation o;

	snprintf(r.error, sizeof(r.error), "%s", "Operation timed out");
	observe(&t, &r, NULL, NOW_S, &o);
	assert_int_equal(o.verdict.cls, HT_DEGRADED);
	assert_string_equal(o.row.reason, "timeout after 2000 ms");
	assert_string_equal(o.row.error, "Operation timed out");
	assert_true(o.latency_ms < 0);   /* nothing answered: no latency to plot */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_observe_row_is_the_result_and_its_verdict),
		cmocka_unit_test(test_observe_same_result_same_row_on_every_path),
		cmocka_unit_test(test_observe_change_only_against_a_previous_result),
		cmocka_unit_test(test_observe_timeout_quotes_the_probe_option),
		cmocka_unit_test(test_observe_anti_flap_changes_the_displayed_state_only_when_confirmed),
		cmocka_unit_test(test_observe_up_means_answered_with_an_accepted_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The judgement of grpc, tcp and tls results (issue 14's rules), table-driven. */
#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/core/classify.h"
#include "healthtop/core/observe.h"

#define NOW 1712345010

static const char serving[] = { 0, 0, 0, 0, 2, 0x08, 1 };
static const char not_serving[] = { 0, 0, 0, 0, 2, 0x08, 2 };
static const char service_unknown[] = { 0, 0, 0, 0, 2, 0x08, 3 };
static const char unknown[] = { 0, 0, 0, 0, 0 };
static const char status7[] = { 0, 0, 0, 0, 2, 0x08, 7 };
static const char garbage[] = { 0, 0, 0, 0, 9, 0x08 };

struct row {
	const char *what;
	enum probe_kind kind;
	enum probe_outcome outcome;
	long http_code;
	bool grpc_seen;
	long grpc_status;
	const char *grpc_message;
	const char *body;
	size_t body_len;
	double total_ms;
	int64_t cert_expiry;
	enum ht_class want;
	const char *reason;
};

#define BODY(b) (b), sizeof(b)

static const struct row rows[] = {
	{ "serving", PROBE_KIND_GRPC, PROBE_OK, 200, true, 0, "", BODY(serving), 5, 0, HT_HEALTHY, "gRPC SERVING" },
	{ "not serving", PROBE_KIND_GRPC, PROBE_OK, 200, true, 0, "", BODY(not_serving), 5, 0, HT_DOWN, "gRPC NOT_SERVING" },
	{ "service unknown", PROBE_KIND_GRPC, PROBE_OK, 200, true, 0, "", BODY(service_unknown), 5, 0, HT_DOWN,
	  "gRPC SERVICE_UNKNOWN" },
	{ "unknown", PROBE_KIND_GRPC, PROBE_OK, 200, true, 0, "", BODY(unknown), 5, 0, HT_DEGRADED, "gRPC UNKNOWN" },
	{ "status beyond the enum", PROBE_KIND_GRPC, PROBE_OK, 200, true, 0, "", BODY(status7), 5, 0, HT_DEGRADED,
	  "gRPC status 7" },
	{ "grpc-status unavailable", PROBE_KIND_GRPC, PROBE_OK, 200, true, 14, "backend gone", NULL, 0, 5, 0, HT_DOWN,
	  "gRPC UNAVAILABLE: backend gone" },
	{ "grpc-status not found", PROBE_KIND_GRPC, PROBE_OK, 200, true, 5, "", NULL, 0, 5, 0, HT_DOWN, "gRPC NOT_FOUND" },
	{ "not a grpc server", PROBE_KIND_GRPC, PROBE_OK, 404, false, 0, "", NULL, 0, 5, 0, HT_DOWN,
	  "HTTP 404, no grpc-status" },
	{ "no grpc-status at 200", PROBE_KIND_GRPC, PROBE_OK, 200, false, 0, "", BODY(serving), 5, 0, HT_DOWN,
	  "no grpc-status" },
	{ "malformed response", PROBE_KIND_GRPC, PROBE_OK, 200, true, 0, "", BODY(garbage), 5, 0, HT_DOWN,
	  "gRPC: health response message is cut short" },
	{ "slow serving", PROBE_KIND_GRPC, PROBE_OK, 200, true, 0, "", BODY(serving), 1500, 0, HT_DEGRADED,
	  "slow: 1500 ms > 1000 ms" },
	{ "grpc timeout", PROBE_KIND_GRPC, PROBE_TIMEOUT, 0, false, 0, "", NULL, 0, 5000, 0, HT_DEGRADED,
	  "timeout after 5000 ms" },
	{ "tcp connected", PROBE_KIND_TCP, PROBE_OK, 0, false, 0, "", NULL, 0, 3, 0, HT_HEALTHY, "connected" },
	{ "tcp slow connect", PROBE_KIND_TCP, PROBE_OK, 0, false, 0, "", NULL, 0, 1200, 0, HT_DEGRADED,
	  "slow: 1200 ms > 1000 ms" },
	{ "tcp refused", PROBE_KIND_TCP, PROBE_REFUSED, 0, false, 0, "", NULL, 0, 1, 0, HT_DOWN, "connection refused" },
	{ "tcp dns", PROBE_KIND_TCP, PROBE_DNS, 0, false, 0, "", NULL, 0, 1, 0, HT_DOWN, "DNS" },
	{ "tcp unreachable", PROBE_KIND_TCP, PROBE_UNREACHABLE, 0, false, 0, "", NULL, 0, 1, 0, HT_DOWN, "unreachable" },
	{ "tls ok", PROBE_KIND_TLS, PROBE_OK, 0, false, 0, "", NULL, 0, 3, NOW + 200 * 86400, HT_HEALTHY,
	  "TLS handshake ok" },
	{ "tls expiring", PROBE_KIND_TLS, PROBE_OK, 0, false, 0, "", NULL, 0, 3, NOW + 3 * 86400, HT_DEGRADED,
	  "cert expires in 3 d" },
	{ "tls failed", PROBE_KIND_TLS, PROBE_TLS, 0, false, 0, "", NULL, 0, 3, 0, HT_DOWN, "TLS: " },
	{ "tls no handshake", PROBE_KIND_TLS, PROBE_TIMEOUT, 0, false, 0, "", NULL, 0, 5000, 0, HT_DEGRADED,
	  "timeout after 5000 ms" },
};

static void fill(const struct row *w, struct probe_result *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = w->kind;
	r->outcome = w->outcome;
	r->http_code = w->http_code;
	r->grpc_status_seen = w->grpc_seen;
	r->grpc_status = w->grpc_status;
	snprintf(r->grpc_message, sizeof(r->grpc_message), "%s", w->grpc_message);
	r->body = (char *)w->body;
	r->body_len = w->body_len;
	r->total_ms = w->total_ms;
	r->cert_expiry = w->cert_expiry;
}

static void test_classify_kinds_table(void **state)
{
	const struct ht_rules rules = { .degraded_ms = 1000, .tls_expiry_warn_days = 14, .heartbeat_stale_s = 30 };

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct probe_result r;
		struct ht_verdict v;
		fill(&rows[i], &r);
		classify_result(&r, &rules, 5000, NOW, &v);
		if (v.cls != rows[i].want || !strstr(v.reason, rows[i].reason))
			fail_msg("%s: want class %d '%s', got %d '%s'", rows[i].what, rows[i].want,
				 rows[i].reason, v.cls, v.reason);
	}
}

/* A grpc body is a protobuf message, never read as a JSON or text health body. */
static void test_classify_grpc_body_is_not_a_health_body(void **state)
{
	const struct ht_rules rules = { .degraded_ms = 1000, .tls_expiry_warn_days = 14, .heartbeat_stale_s = 30 };
	struct probe_result r = { .kind = PROBE_KIND_GRPC, .outcome = PROBE_OK, .http_code = 200,
				  .grpc_status_seen = true, .body = (char *)serving, .body_len = sizeof(serving) };
	struct ht_verdict v;

	classify_result(&r, &rules, 5000, NOW, &v);
	assert_int_equal(v.cls, HT_HEALTHY);
	assert_int_equal(v.body.ncomps, 0);
}

/* A tcp or tls check has no HTTP status: the connect time is still its latency. */
static void test_observe_tcp_latency_is_the_connect_time(void **state)
{
	struct ht_target t = { .name = "db", .display_url = "tcp://db:5432/",
			       .probe = { .timeout_ms = 5000 },
			       .rules = { .degraded_ms = 1000, .tls_expiry_warn_days = 14 } };
	struct probe_result r = { .kind = PROBE_KIND_TCP, .outcome = PROBE_OK, .total_ms = 12.5 };
	struct observation o;

	observe(&t, &r, NULL, NOW, &o);
	assert_int_equal(o.verdict.cls, HT_HEALTHY);
	assert_true(o.latency_ms == 12.5);
	r.outcome = PROBE_REFUSED;
	observe(&t, &r, NULL, NOW, &o);
	assert_true(o.latency_ms < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_kinds_table),
		cmocka_unit_test(test_classify_grpc_body_is_not_a_health_body),
		cmocka_unit_test(test_observe_tcp_latency_is_the_connect_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

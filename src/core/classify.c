#include "autoconfig.h"
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "healthtop/core/classify.h"
#include "healthtop/core/grpc_health.h"
#include "healthtop/core/sanitize.h"

#define MAX_FINDINGS 6

struct finding {
	enum ht_class cls;
	char text[128];
};

struct findings {
	struct finding f[MAX_FINDINGS];
	size_t n;
};

static void note(struct findings *fs, enum ht_class cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note(struct findings *fs, enum ht_class cls, const char *fmt, ...)
{
	va_list ap;

	if (fs->n == MAX_FINDINGS)
		return;
	fs->f[fs->n].cls = cls;
	va_start(ap, fmt);
	vsnprintf(fs->f[fs->n].text, sizeof(fs->f[0].text), fmt, ap);
	va_end(ap);
	sanitize_trim_cut(fs->f[fs->n].text);   /* a cut must not leave half a character */
	fs->n++;
}

static void transport_findings(const struct probe_result *r, const struct ht_rules *rules, int timeout_ms,
			       struct findings *fs)
{
	const char *e = r->error[0] ? r->error : "no detail";

	switch (r->outcome) {
	case PROBE_OK:
		break;
	case PROBE_DNS:
		note(fs, HT_DOWN, "DNS: %s", e);
		break;
	case PROBE_REFUSED:
		note(fs, HT_DOWN, "connection refused");
		break;
	case PROBE_UNREACHABLE:
		note(fs, HT_DOWN, "unreachable: %s", e);
		break;
	case PROBE_TLS:
		note(fs, HT_DOWN, "TLS: %s", e);
		break;
	case PROBE_REDIRECTS:
		note(fs, HT_DOWN, "redirect loop (more than 5 redirects)");
		break;
	case PROBE_TIMEOUT:
		note(fs, rules->timeout_is_down ? HT_DOWN : HT_DEGRADED, "timeout after %d ms", timeout_ms);
		break;
	case PROBE_ERROR:
	default:
		note(fs, HT_DOWN, "%s", e);
		break;
	}
}

/* The seed table first: a 5xx (on_5xx), a 429 and a code no HTTP server sends are judged the
 * same whatever expect_status says. Then expect_status: a code it does not accept is down when
 * the seed table would call it down (1xx, 3xx, 4xx) and degraded when the seed table would have
 * accepted it (a 2xx the operator left out). Returns false when the status was not accepted. */
static bool http_findings(const struct probe_result *r, const struct ht_rules *rules, struct findings *fs)
{
	long code = r->http_code;
	const struct expect_status *e = &rules->expect_status;

	if (r->outcome != PROBE_OK)
		return false;
	if (code < 100 || code >= 600) {
		note(fs, HT_DOWN, "HTTP %ld", code);
		return false;
	}
	if (code >= 500 || code == 429) {
		note(fs, code != 429 && rules->server_error_is_down ? HT_DOWN : HT_DEGRADED, "HTTP %ld", code);
		return false;
	}
	if (!expect_status_accepts(e, code)) {
		enum ht_class cls = code >= 200 && code <= 299 ? HT_DEGRADED : HT_DOWN;
		if (e->n)
			note(fs, cls, "HTTP %ld not accepted (expect_status)", code);
		else
			note(fs, cls, "HTTP %ld", code);
		return false;
	}
	if (r->total_ms > rules->degraded_ms)
		note(fs, HT_DEGRADED, "slow: %.0f ms > %d ms", r->total_ms, rules->degraded_ms);
	return true;
}

/* expect_json, on an accepted answer only: a failing status already says what is wrong. */
static void json_findings(const struct probe_result *r, const struct ht_rules *rules, struct findings *fs)
{
	char why[128];
	cJSON *root;

	if (rules->nexpect_json == 0)
		return;
	/* a cut body is not the document: its assertions cannot be checked */
	root = r->body_truncated || !r->body ? NULL : cJSON_ParseWithLength(r->body, r->body_len);
	if (!expect_json_holds(root, rules->expect_json, rules->nexpect_json, why, sizeof(why)))
		note(fs, HT_DEGRADED, "%s", why);
	cJSON_Delete(root);
}

static void cert_findings(const struct probe_result *r, const struct ht_rules *rules,
			  int64_t now_s, struct findings *fs)
{
	int64_t left = r->cert_expiry - now_s;

	if (r->cert_expiry <= 0)
		return;
	if (left <= 0)
		note(fs, HT_DOWN, "cert expired %lld d ago", (long long)(-left / 86400));
	else if (left < (int64_t)rules->tls_expiry_warn_days * 86400) {
		if (left >= 86400)
			note(fs, HT_DEGRADED, "cert expires in %lld d", (long long)(left / 86400));
		else
			note(fs, HT_DEGRADED, "cert expires in %lld h", (long long)(left / 3600));
	}
}

/* gRPC health: the call's status first (a failed call says nothing about serving), then the
 * ServingStatus the response carries. */
static void grpc_findings(const struct probe_result *r, struct findings *fs)
{
	char buf[32], why[96];
	long serving;

	if (!r->grpc_status_seen) {
		if (r->http_code != 200)
			note(fs, HT_DOWN, "HTTP %ld, no grpc-status (not a gRPC server?)", r->http_code);
		else
			note(fs, HT_DOWN, "no grpc-status in the response");
		return;
	}
	if (r->grpc_status != 0) {
		note(fs, HT_DOWN, "gRPC %s%s%s", grpc_code_name(r->grpc_status, buf, sizeof(buf)),
		     r->grpc_message[0] ? ": " : "", r->grpc_message);
		return;
	}
	if (r->body_truncated ||
	    grpc_health_decode((const unsigned char *)r->body, r->body_len, &serving, why, sizeof(why)) < 0) {
		note(fs, HT_DOWN, "gRPC: %s", r->body_truncated ? "health response too large" : why);
		return;
	}
	if (serving == GRPC_SERVING_SERVING)
		return;
	note(fs, serving == GRPC_SERVING_NOT_SERVING || serving == GRPC_SERVING_SERVICE_UNKNOWN ?
		 HT_DOWN : HT_DEGRADED, "gRPC %s", grpc_serving_name(serving, buf, sizeof(buf)));
}

/* grpc, tcp and tls checks: transport failures are judged as for HTTP; what answered is judged
 * by its kind, and slowness by the same degraded_ms. */
static void kind_findings(const struct probe_result *r, const struct ht_rules *rules,
			  struct findings *fs)
{
	if (r->outcome != PROBE_OK)
		return;
	if (r->kind == PROBE_KIND_GRPC)
		grpc_findings(r, fs);
	if (fs->n == 0 && r->total_ms > rules->degraded_ms)
		note(fs, HT_DEGRADED, "slow: %.0f ms > %d ms", r->total_ms, rules->degraded_ms);
}

static void kind_healthy_reason(const struct probe_result *r, char *out, size_t size)
{
	static const char *const said[] = { [PROBE_KIND_GRPC] = "gRPC SERVING",
					    [PROBE_KIND_TCP] = "connected",
					    [PROBE_KIND_TLS] = "TLS handshake ok" };

	if (r->kind == PROBE_KIND_HTTP || (size_t)r->kind >= sizeof(said) / sizeof(said[0]))
		snprintf(out, size, "HTTP %ld", r->http_code);
	else
		snprintf(out, size, "%s", said[r->kind]);
}

/* Worst findings first, joined by "; ", cut to fit. */
static void join_reasons(const struct findings *fs, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (int cls = HT_DOWN; cls >= HT_HEALTHY; cls--) {
		for (size_t i = 0; i < fs->n; i++) {
			if ((int)fs->f[i].cls != cls)
				continue;
			int n = snprintf(out + used, size - used, "%s%s", used ? "; " : "", fs->f[i].text);
			if (n < 0 || (size_t)n >= size - used) {
				out[used] = '\0';
				return;
			}
			used += (size_t)n;
		}
	}
}

void classify_result(const struct probe_result *r, const struct ht_rules *rules, int timeout_ms,
		     int64_t now_s, struct ht_verdict *v)
{
	struct findings fs = { .n = 0 };

	memset(v, 0, sizeof(*v));
	transport_findings(r, rules, timeout_ms, &fs);
	if (r->kind != PROBE_KIND_HTTP)
		kind_findings(r, rules, &fs);
	else if (http_findings(r, rules, &fs))
		json_findings(r, rules, &fs);
	if (r->outcome == PROBE_OK && r->kind == PROBE_KIND_HTTP) {
		if (r->body_truncated)
			body_assess_cut(r->body, r->body_len, &v->body);
		else
			body_assess(r->body, r->body_len, rules->heartbeat_stale_s, now_s, &v->body);
		if (v->body.cls != HT_HEALTHY)
			note(&fs, v->body.cls, "%s", v->body.reason);
	}
	cert_findings(r, rules, now_s, &fs);
	v->cls = HT_HEALTHY;
	for (size_t i = 0; i < fs.n; i++)
		if (fs.f[i].cls > v->cls)
			v->cls = fs.f[i].cls;
	join_reasons(&fs, v->reason, sizeof(v->reason));
	if (v->cls == HT_HEALTHY && v->reason[0] == '\0')
		kind_healthy_reason(r, v->reason, sizeof(v->reason));
}

bool classify_is_up(const struct probe_result *r, const struct ht_rules *rules, enum ht_class cls)
{
	long code = r->http_code;

	if (r->kind == PROBE_KIND_TCP || r->kind == PROBE_KIND_TLS)   /* no status: connected is up */
		return r->outcome == PROBE_OK && cls != HT_DOWN;
	return r->outcome == PROBE_OK && code >= 100 && code < 500 && code != 429 &&
	       expect_status_accepts(&rules->expect_status, code) && cls != HT_DOWN;
}

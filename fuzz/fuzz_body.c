/* body_assess() and classify_result(): any body, any transport outcome → a class in range, a
 * clean reason that says why whenever the class is not healthy, and bounded component lists. */
#include "autoconfig.h"
#include "fuzz_util.h"
#include "healthtop/core/classify.h"
#include "healthtop/core/sanitize.h"

#define NOW_S INT64_C(1795000000)
#define STALE_S 300

static bool clean(const char *s, size_t size)
{
	return fuzz_terminated(s, size) && sanitize_is_clean(s);
}

/* A line starting "[+]" or "[-]": the Kubernetes verbose health text. */
static bool has_text_lines(const char *body, size_t len)
{
	for (size_t i = 0; i + 3 <= len; i++)
		if ((i == 0 || body[i - 1] == '\n') && body[i] == '[' && (body[i + 1] == '+' ||
		    body[i + 1] == '-') && body[i + 2] == ']')
			return true;
	return false;
}

static void check_report(const struct body_report *b, bool has_text_lines)
{
	FUZZ_CHECK(b->cls >= HT_HEALTHY && b->cls <= HT_DOWN);
	FUZZ_CHECK(b->ncomps <= BODY_MAX_COMPONENTS && b->ncomps <= b->ncomps_seen);
	FUZZ_CHECK(clean(b->reason, sizeof(b->reason)));
	FUZZ_CHECK(b->cls == HT_HEALTHY || b->reason[0] != '\0');
	/* Components alone make a target degraded, never down: the service itself answered. */
	if (!b->has_status)
		FUZZ_CHECK(b->cls <= HT_DEGRADED);
	/* Not a JSON object: only Kubernetes' "[+]name ok" / "[-]name failed" lines say anything
	 * (fuzz/fuzz_body_text.c holds them to the full contract). */
	if (!b->parsed)
		FUZZ_CHECK(!b->has_status && (b->ncomps_seen == 0 || has_text_lines));
	for (size_t i = 0; i < b->ncomps; i++) {
		FUZZ_CHECK(clean(b->comps[i].name, sizeof(b->comps[i].name)));
		FUZZ_CHECK(clean(b->comps[i].state, sizeof(b->comps[i].state)));
		FUZZ_CHECK(b->comps[i].cls >= HT_HEALTHY && b->comps[i].cls <= HT_DOWN);
		/* A component that is not ok makes the service degraded at least. */
		FUZZ_CHECK(b->comps[i].cls == HT_HEALTHY || b->cls >= HT_DEGRADED);
	}
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211u;
	return h;
}

/* The transport facts come from a hash of the body, so the seeds stay plain JSON files. */
static void classify_body(const uint8_t *data, size_t size)
{
	static const long codes[] = { 200, 204, 301, 404, 429, 500, 503, 600, 99, 0 };
	static const int64_t certs[] = { 0, NOW_S - 86400, NOW_S + 3600, NOW_S + 40 * 86400 };
	static const double totals[] = { -1, 5, 1500, 1e9 };
	uint64_t h = fnv1a(data, size);
	struct ht_rules rules = { .degraded_ms = 1000,
				  .tls_expiry_warn_days = 14, .heartbeat_stale_s = STALE_S };
	struct probe_result r = { .started_ms = NOW_S * 1000, .dns_ms = -1, .connect_ms = -1,
				  .tls_ms = -1, .ttfb_ms = -1 };
	struct ht_verdict *v = malloc(sizeof(*v));

	FUZZ_CHECK(v != NULL);
	r.outcome = (enum probe_outcome)(h % 8);
	r.http_code = r.outcome == PROBE_OK ? codes[(h >> 3) % 10] : 0;
	r.cert_expiry = certs[(h >> 8) % 4];
	r.total_ms = totals[(h >> 10) % 4];
	/* The probe hands over a sanitized error and a NUL-terminated body. */
	sanitize_text((const char *)data, size < 60 ? size : 60, r.error, sizeof(r.error), false);
	r.body = malloc(size + 1);
	FUZZ_CHECK(r.body != NULL);
	memcpy(r.body, data, size);
	r.body[size] = '\0';
	r.body_len = size;

	classify_result(&r, &rules, 5000, NOW_S, v);
	FUZZ_CHECK(v->cls >= HT_HEALTHY && v->cls <= HT_DOWN);
	/* fuzz/regressions/body/verdict-reason-cut-mid-character: a long finding is cut on a
	 * character boundary, so the reason stays valid UTF-8. */
	FUZZ_CHECK(clean(v->reason, sizeof(v->reason)) && v->reason[0] != '\0');
	if (r.outcome == PROBE_OK) {
		long code = r.http_code;
		check_report(&v->body, has_text_lines(r.body, r.body_len));
		FUZZ_CHECK(v->cls >= v->body.cls);
		if (code >= 600 || ((code < 200 || code > 299) && code != 429 && code < 500))
			FUZZ_CHECK(v->cls == HT_DOWN);
		else if (code >= 500 || code == 429)
			FUZZ_CHECK(v->cls >= HT_DEGRADED);
	} else if (r.outcome == PROBE_TIMEOUT) {
		FUZZ_CHECK(v->cls >= HT_DEGRADED);
	} else {
		FUZZ_CHECK(v->cls == HT_DOWN);
	}
	free(r.body);
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct body_report *b = malloc(sizeof(*b));

	FUZZ_CHECK(b != NULL);
	/* Exactly `size` bytes, no terminator: the length is the contract. */
	body_assess((const char *)data, size, STALE_S, NOW_S, b);
	check_report(b, has_text_lines((const char *)data, size));
	free(b);
	classify_body(data, size);
	return 0;
}

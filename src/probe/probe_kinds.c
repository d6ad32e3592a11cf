/* The check kinds beyond HTTP, chosen by the URL's scheme: grpc:// and grpcs:// (the standard
 * grpc.health.v1.Health/Check over HTTP/2), tcp:// (a connect) and tls:// (a connect and a
 * handshake). Each is a set of options on an ordinary easy handle, so it runs on the same multi
 * handle, admission queue, concurrency and timeout as the HTTP checks. */
#include "autoconfig.h"
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "healthtop/core/grpc_health.h"
#include "healthtop/core/sanitize.h"
#include "probe_priv.h"

#define GRPC_CHECK_PATH "/grpc.health.v1.Health/Check"

struct scheme_kind {
	const char *scheme;
	enum probe_kind kind;
	const char *curl_scheme;   /* what curl is given instead */
};

static const struct scheme_kind schemes[] = {
	{ "grpc", PROBE_KIND_GRPC, "http" }, { "grpcs", PROBE_KIND_GRPC, "https" },
	{ "tcp", PROBE_KIND_TCP, "http" },   { "tls", PROBE_KIND_TLS, "https" },
};

static const struct scheme_kind *scheme_of(const char *url)
{
	size_t n = strcspn(url, ":");

	if (strncmp(url + n, "://", 3) != 0)
		return NULL;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strlen(schemes[i].scheme) == n && strncasecmp(url, schemes[i].scheme, n) == 0)
			return &schemes[i];
	return NULL;
}

static int fail_setup(struct probe_job *j, const char *why)
{
	snprintf(j->res.error, sizeof(j->res.error), "%s", why);
	return -1;
}

/* grpc://h:p/svc → http://h:p/grpc.health.v1.Health/Check with "svc" encoded in the request;
 * tcp://h:p → http://h:p and tls://h:p → https://h:p, connect only. */
static int rewrite_url(struct probe_job *j, const struct scheme_kind *sk, CURLU *u)
{
	char *path = NULL, *out = NULL;
	int rc = -1;

	if (curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) != CURLUE_OK)
		return fail_setup(j, "cannot read the URL's path");
	if (sk->kind == PROBE_KIND_GRPC) {
		const char *service = path[0] == '/' ? path + 1 : path;
		int n = grpc_health_encode(service, j->grpc_req, sizeof(j->grpc_req));
		if (n < 0) {
			fail_setup(j, "gRPC service name too long");
			goto out;
		}
		j->grpc_req_len = (size_t)n;
	}
	if (curl_url_set(u, CURLUPART_SCHEME, sk->curl_scheme, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PATH, sk->kind == PROBE_KIND_GRPC ? GRPC_CHECK_PATH : "/", 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK) {
		fail_setup(j, "cannot build the URL to connect to");
		goto out;
	}
	j->url = strdup(out);
	rc = j->url ? 0 : fail_setup(j, "out of memory");
out:
	curl_free(path);
	curl_free(out);
	return rc;
}

int probe_translate_url(struct probe_job *j)
{
	const struct scheme_kind *sk = scheme_of(j->t->check_url);
	CURLU *u;
	int rc;

	if (!sk) {
		j->res.kind = PROBE_KIND_HTTP;
		return 0;
	}
	j->res.kind = sk->kind;
	if (!(u = curl_url()))
		return fail_setup(j, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, j->t->check_url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
		rc = fail_setup(j, "invalid URL");
	else
		rc = rewrite_url(j, sk, u);
	curl_url_cleanup(u);
	return rc;
}

/* grpc-message is percent-encoded on the wire (gRPC's HTTP/2 protocol spec). */
static void keep_grpc_message(struct probe_result *r, const char *v, size_t n)
{
	char dec[256];
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < sizeof(dec); i++) {
		unsigned hi, lo;
		if (v[i] == '%' && i + 2 < n && sscanf(v + i + 1, "%1x%1x", &hi, &lo) == 2) {
			dec[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			dec[o++] = v[i];
		}
	}
	sanitize_text(dec, o, r->grpc_message, sizeof(r->grpc_message), false);
}

/* Headers and, over HTTP/2, trailers too: gRPC puts grpc-status in the trailers (or in the
 * headers of a "trailers-only" reply). */
static size_t on_grpc_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct probe_job *j = userp;
	size_t n = size * nmemb, len = n;

	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len > 12 && strncasecmp(data, "grpc-status:", 12) == 0) {
		char num[16];
		size_t skip = 12 + strspn(data + 12, " \t"), k = len - skip;
		snprintf(num, sizeof(num), "%.*s", (int)(k < sizeof(num) ? k : sizeof(num) - 1), data + skip);
		char *end;
		long code = strtol(num, &end, 10);
		if (end != num) {
			j->res.grpc_status = code;
			j->res.grpc_status_seen = true;
		}
	} else if (len > 13 && strncasecmp(data, "grpc-message:", 13) == 0) {
		size_t skip = 13 + strspn(data + 13, " \t");
		keep_grpc_message(&j->res, data + skip, len - skip);
	}
	return n;
}

static struct curl_slist *grpc_headers(const struct ht_target *t)
{
	static const char *const fixed[] = { "Content-Type: application/grpc", "TE: trailers",
					     "Accept:", "Expect:" };
	struct curl_slist *l = NULL, *n;
	char line[8448];

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (!(n = curl_slist_append(l, fixed[i])))
			goto oom;
		l = n;
	}
	for (size_t i = 0; i < t->probe.nheaders; i++) {   /* metadata such as authorization */
		snprintf(line, sizeof(line), "%s: %s", t->probe.headers[i].name, t->probe.headers[i].value);
		if (!(n = curl_slist_append(l, line)))
			goto oom;
		l = n;
	}
	return l;
oom:
	curl_slist_free_all(l);
	return NULL;
}

/* Options every kind here shares: a fresh connection (a reused one would hide a broken
 * handshake; grpc may opt out with reuse_connections), the same timeout, and https's
 * certificate rules. */
static CURLcode common_options(struct probe_job *j)
{
	const struct ht_target *t = j->t;
	CURL *e = j->easy;
	CURLcode rc = CURLE_OK;

#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
	rc = probe_set_base_options(j, j->url, t->probe.timeout_ms, false);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#undef SET
	return rc == CURLE_OK ? probe_set_connection_options(j) : rc;
}

int probe_setup_grpc(struct probe_job *j)
{
	CURL *e = j->easy;
	CURLcode rc = common_options(j);
	bool tls = strncmp(j->url, "https:", 6) == 0;

	if (!(j->headers = grpc_headers(j->t)))
		return fail_setup(j, "out of memory");
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
	/* h2c needs prior knowledge (gRPC servers do not upgrade); over TLS, ALPN says h2. */
	SET(CURLOPT_HTTP_VERSION, tls ? (long)CURL_HTTP_VERSION_2TLS
				      : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_POSTFIELDS, (const char *)j->grpc_req);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->grpc_req_len);
	SET(CURLOPT_HTTPHEADER, j->headers);
	SET(CURLOPT_USERAGENT, j->p->user_agent);
	SET(CURLOPT_WRITEFUNCTION, probe_on_body);
	SET(CURLOPT_WRITEDATA, j);
	SET(CURLOPT_HEADERFUNCTION, on_grpc_header);
	SET(CURLOPT_HEADERDATA, j);
#undef SET
	return rc == CURLE_OK ? 0 : -1;
}

int probe_setup_connect_only(struct probe_job *j)
{
	CURLcode rc = common_options(j);

	if (rc == CURLE_OK)
		rc = curl_easy_setopt(j->easy, CURLOPT_CONNECT_ONLY, 1L);
	return rc == CURLE_OK ? 0 : -1;
}

/* What a finished transfer observed, mapped to a probe_result: outcome, status, phases,
 * certificate expiry, error text. No judgement here (that is core/classify.c). */
#include "autoconfig.h"
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "healthtop/core/sanitize.h"
#include "probe_priv.h"

void probe_result_fini(struct probe_result *r)
{
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
}

static enum probe_outcome outcome_of(CURLcode rc, long os_errno, bool truncated)
{
	switch (rc) {
	case CURLE_OK:
		return PROBE_OK;
	case CURLE_WRITE_ERROR:
		return truncated ? PROBE_OK : PROBE_ERROR;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return PROBE_DNS;
	case CURLE_COULDNT_CONNECT:
		return os_errno == ECONNREFUSED ? PROBE_REFUSED : PROBE_UNREACHABLE;
	case CURLE_OPERATION_TIMEDOUT:
		return PROBE_TIMEOUT;
	case CURLE_TOO_MANY_REDIRECTS:
		return PROBE_REDIRECTS;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
		return PROBE_TLS;
	default:
		return PROBE_ERROR;
	}
}

/* OpenSSL's certinfo says "Expire date:Nov 23 18:41:22 2027 GMT". */
static int64_t leaf_cert_expiry(CURL *easy)
{
	struct curl_certinfo *ci = NULL;

	if (curl_easy_getinfo(easy, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs < 1)
		return 0;
	for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next) {
		static const char key[] = "Expire date:";
		struct tm tm;
		if (strncmp(s->data, key, sizeof(key) - 1) != 0)
			continue;
		memset(&tm, 0, sizeof(tm));
		const char *rest = s->data + sizeof(key) - 1;
		if (!strptime(rest, "%b %d %H:%M:%S %Y", &tm) && !strptime(rest, "%Y-%m-%d %H:%M:%S", &tm))
			return 0;
		return (int64_t)timegm(&tm);
	}
	return 0;
}

static double usec_to_ms(curl_off_t us)
{
	return (double)us / 1000.0;
}

static void collect_timings(CURL *e, struct probe_result *r)
{
	curl_off_t nl = 0, conn = 0, app = 0, pre = 0, start = 0, total = 0;

	curl_easy_getinfo(e, CURLINFO_NAMELOOKUP_TIME_T, &nl);
	curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &conn);
	curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &app);
	curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &pre);
	curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &start);
	curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total);
	r->total_ms = usec_to_ms(total);
	r->dns_ms = (nl > 0 || conn > 0) ? usec_to_ms(nl) : -1;
	r->connect_ms = conn > 0 ? usec_to_ms(conn - nl) : -1;
	r->tls_ms = (app > 0 && app >= conn) ? usec_to_ms(app - conn) : -1;
	r->ttfb_ms = (start > 0 && start >= pre) ? usec_to_ms(start - pre) : -1;
}

void probe_result_collect(struct probe_job *j, CURLcode rc)
{
	struct probe_result *r = &j->res;
	long os_errno = 0;

	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &r->http_code);
	curl_easy_getinfo(j->easy, CURLINFO_OS_ERRNO, &os_errno);
	collect_timings(j->easy, r);
	r->outcome = outcome_of(rc, os_errno, r->body_truncated);
	r->cert_expiry = leaf_cert_expiry(j->easy);
	if (probe_reuses(j))
		probe_reuse_collect(j);
	if (j->refused[0] && rc == CURLE_ABORTED_BY_CALLBACK) {
		r->outcome = PROBE_ERROR;
		r->http_code = 0;
		snprintf(r->error, sizeof(r->error), "%s", j->refused);
	} else if (r->outcome != PROBE_OK) {
		const char *msg = j->errbuf[0] ? j->errbuf : curl_easy_strerror(rc);
		/* curl 7.x reports a response header over its 100 KB limit as out of memory */
		if (rc == CURLE_OUT_OF_MEMORY)
			msg = "response too large to parse (a header over 100 KB?): curl ran out of room";
		sanitize_text(msg, strlen(msg), r->error, sizeof(r->error), false);
	}
	/* A status seen before a failure mid-body would claim a response that never completed. */
	if (r->outcome != PROBE_OK && r->outcome != PROBE_TIMEOUT && r->outcome != PROBE_REDIRECTS)
		r->http_code = 0;
}

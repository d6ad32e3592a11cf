/* A transfer's options: the HTTP(S) check (GET, headers, redirects judged per hop, a fresh
 * connection each time unless the target reuses them) and the webhook POST; the other kinds are
 * set up in probe_kinds.c. */
#include "autoconfig.h"
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "healthtop/probe/redirect.h"
#include "probe_priv.h"

#define BODY_INITIAL 4096
#define MAX_REDIRECTS 5

size_t probe_on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct probe_job *j = userp;
	struct probe_result *r = &j->res;
	size_t n = size * nmemb;
	size_t room = PROBE_BODY_MAX - r->body_len;
	size_t take = n < room ? n : room;

	if (r->body_len + take + 1 > j->body_cap) {
		size_t cap = j->body_cap ? j->body_cap : BODY_INITIAL;
		while (cap < r->body_len + take + 1)
			cap *= 2;
		if (cap > PROBE_BODY_MAX + 1)
			cap = PROBE_BODY_MAX + 1;
		char *nb = realloc(r->body, cap);
		if (!nb)
			return 0;
		r->body = nb;
		j->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, take);
	r->body_len += take;
	r->body[r->body_len] = '\0';
	if (take < n) {
		/* Enough to judge: stop reading rather than hold more. */
		r->body_truncated = true;
		return 0;
	}
	return n;
}

static struct curl_slist *add_header(struct curl_slist *l, const char *line)
{
	struct curl_slist *n = curl_slist_append(l, line);

	if (!n)
		curl_slist_free_all(l);
	return n;
}

/* A check that will not reuse its connection says so (Connection: close), unless the target
 * sets that header itself: the server then closes first, so the closed connection's TIME_WAIT
 * stays on the server and the monitoring host's ephemeral ports stay free for the next checks
 * (10 000 checks of one server used to leave 9 709 of them waiting here). */
static struct curl_slist *build_headers(const struct ht_target *t, bool close)
{
	struct curl_slist *l = NULL;
	bool has_accept = false, has_connection = false;
	char line[8448];

	for (size_t i = 0; i < t->probe.nheaders; i++) {
		has_accept |= strcasecmp(t->probe.headers[i].name, "Accept") == 0;
		has_connection |= strcasecmp(t->probe.headers[i].name, "Connection") == 0;
		snprintf(line, sizeof(line), "%s: %s", t->probe.headers[i].name, t->probe.headers[i].value);
		if (!(l = add_header(l, line)))
			return NULL;
	}
	if (!has_accept && !(l = add_header(l, "Accept: application/json")))
		return NULL;
	if (close && !has_connection && !(l = add_header(l, "Connection: close")))
		return NULL;
	return l;
}

/* Called by curl on the connection it is about to send a request on, redirects included: the
 * last moment to keep headers from a host they are not for. */
static int on_prereq(void *userp, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	struct probe_job *j = userp;
	long hops = 0;
	char *url = NULL;

	(void)primary_ip, (void)local_ip, (void)primary_port, (void)local_port;
	if (curl_easy_getinfo(j->easy, CURLINFO_REDIRECT_COUNT, &hops) != CURLE_OK || hops == 0)
		return CURL_PREREQFUNC_OK;
	if (curl_easy_getinfo(j->easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || !url) {
		snprintf(j->refused, sizeof(j->refused), "redirect not followed: its target is unknown");
		return CURL_PREREQFUNC_ABORT;
	}
	redirect_judge(j->t, url, j->refused, sizeof(j->refused));
	return j->refused[0] ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK;
}

static int set_http_options(struct probe_job *j)
{
	const struct ht_target *t = j->t;
	CURL *e = j->easy;
	CURLcode rc = CURLE_OK;

#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
	rc = probe_set_base_options(j, t->check_url, t->probe.timeout_ms, true);
	SET(CURLOPT_HTTPGET, 1L);
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_PREREQFUNCTION, on_prereq);
	SET(CURLOPT_PREREQDATA, j);
	SET(CURLOPT_USERAGENT, j->p->user_agent);
	SET(CURLOPT_HTTPHEADER, j->headers);
	SET(CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
	if (rc == CURLE_OK)
		rc = probe_set_connection_options(j);
#undef SET
	return rc == CURLE_OK ? 0 : -1;
}

/* What every transfer has: where it goes, whose it is, where curl's error text lands, no
 * signals, the time limit, and (when keep_body) the capped body reader. */
CURLcode probe_set_base_options(struct probe_job *j, const char *url, int timeout_ms, bool keep_body)
{
	CURL *e = j->easy;
	CURLcode rc = CURLE_OK;

#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PRIVATE, j);
	SET(CURLOPT_ERRORBUFFER, j->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	if (keep_body) {
		SET(CURLOPT_WRITEFUNCTION, probe_on_body);
		SET(CURLOPT_WRITEDATA, j);
	}
#undef SET
	return rc;
}

/* By default every check walks the whole path (DNS, connect, TLS with certificate checks) as a
 * new client would; a reused connection would hide a broken handshake or a renewed cert. A target
 * with reuse_connections keeps its connection in the multi handle's cache for the next check. */
CURLcode probe_set_connection_options(struct probe_job *j)
{
	const struct ht_target *t = j->t;
	CURL *e = j->easy;
	long fresh = probe_reuses(j) ? 0L : 1L;
	CURLcode rc = CURLE_OK;

#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
	SET(CURLOPT_FRESH_CONNECT, fresh);
	SET(CURLOPT_FORBID_REUSE, fresh);
	SET(CURLOPT_CERTINFO, 1L);
	if (t->probe.ca_file)
		SET(CURLOPT_CAINFO, t->probe.ca_file);
	SET(CURLOPT_SSL_VERIFYPEER, t->probe.insecure ? 0L : 1L);
	SET(CURLOPT_SSL_VERIFYHOST, t->probe.insecure ? 0L : 2L);
#undef SET
	return rc;
}

/* A webhook: no redirects (a notification goes where it was configured, or fails), no body
 * kept beyond what a check keeps. */
static int set_post_options(struct probe_job *j)
{
	CURL *e = j->easy;
	CURLcode rc = CURLE_OK;

#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
	rc = probe_set_base_options(j, j->url, j->timeout_ms, true);
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_POSTFIELDS, j->post_body);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->post_len);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_USERAGENT, j->p->user_agent);
	SET(CURLOPT_HTTPHEADER, j->headers);
#undef SET
	return rc == CURLE_OK ? 0 : -1;
}

int probe_setup_transfer(struct probe_job *j)
{
	if (!j->t)
		return set_post_options(j);
	if (probe_translate_url(j) < 0)
		return -1;
	switch (j->res.kind) {
	case PROBE_KIND_GRPC:
		return probe_setup_grpc(j);
	case PROBE_KIND_TCP:
	case PROBE_KIND_TLS:
		return probe_setup_connect_only(j);
	case PROBE_KIND_HTTP:
	default:
		break;
	}
	if (!(j->headers = build_headers(j->t, !probe_reuses(j))))
		return -1;
	return set_http_options(j);
}

void probe_job_release(struct probe_job *j)
{
	curl_slist_free_all(j->headers);
	j->headers = NULL;
	free(j->url);
	j->url = NULL;
	free(j->post_body);
	j->post_body = NULL;
}

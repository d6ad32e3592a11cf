/* Connection reuse, a target's opt-in (reuse_connections): which checks may keep their
 * connection, and what a check made on a kept connection reports. No DNS lookup, connect or
 * handshake happened for it, so those phases are 0; and curl reads the server's certificate only
 * during a handshake, so its expiry is the one recorded when a connection to the same scheme,
 * host and port was last verified (a small table, bounded by the connection cache's size). */
#include "autoconfig.h"
#include <curl/curl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "probe_priv.h"

#define CERT_WINDOW 8       /* slots looked at for one key: a miss means "expiry unknown" */
#define CERT_MIN_SLOTS 64

struct cert_seen {
	uint64_t key;            /* FNV-1a of "scheme://host:port"; 0: empty */
	int64_t expiry;          /* unix seconds */
	uint64_t stamp;          /* when it was last written: the oldest in a window goes first */
};

struct cert_cache {
	struct cert_seen *slot;
	size_t mask;
	uint64_t clock;
};

bool probe_reuses(const struct probe_job *j)
{
	/* tcp:// and tls:// only connect: a kept connection would make them measure nothing. */
	return j->t && j->t->probe.reuse_connections &&
	       (j->res.kind == PROBE_KIND_HTTP || j->res.kind == PROBE_KIND_GRPC);
}

static uint64_t fnv1a(const char *s, uint64_t h)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The key of the connection the transfer ended on (after redirects): its scheme, host, port. */
static uint64_t connection_key(CURL *e)
{
	char *url = NULL, *scheme = NULL, *host = NULL, *port = NULL;
	uint64_t key = 0;
	CURLU *u;

	if (curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || !url || !(u = curl_url()))
		return 0;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		key = fnv1a(port, fnv1a(":", fnv1a(host, fnv1a("://", fnv1a(scheme, 14695981039346656037ull)))));
		key += key == 0;   /* 0 marks an empty slot */
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return key;
}

static struct cert_seen *cert_find(struct cert_cache *c, uint64_t key)
{
	for (size_t i = 0; i < CERT_WINDOW; i++) {
		struct cert_seen *s = &c->slot[(key + i) & c->mask];
		if (s->key == key)
			return s;
	}
	return NULL;
}

static void cert_put(struct cert_cache *c, uint64_t key, int64_t expiry, uint64_t stamp)
{
	struct cert_seen *victim = cert_find(c, key);

	if (!victim) {
		victim = &c->slot[key & c->mask];
		for (size_t i = 0; i < CERT_WINDOW; i++) {
			struct cert_seen *s = &c->slot[(key + i) & c->mask];
			if (s->key == 0) {
				victim = s;
				break;
			}
			if (s->stamp < victim->stamp)
				victim = s;
		}
	}
	*victim = (struct cert_seen){ key, expiry, stamp };
}

/* Room for four times as many hosts as connections can be kept (CURLMOPT_MAXCONNECTS is the
 * concurrency): a kept connection's entry is rarely pushed out. The old entries move over. */
int probe_reuse_resize(struct probe *p)
{
	size_t want = CERT_MIN_SLOTS, n;
	struct cert_cache *c = p->certs, *fresh;

	while (want < 4 * (size_t)p->concurrency)
		want *= 2;
	if (c && c->mask + 1 == want)
		return 0;
	if (!(fresh = calloc(1, sizeof(*fresh))) || !(fresh->slot = calloc(want, sizeof(*fresh->slot)))) {
		free(fresh);
		return -1;   /* the old table, if any, stays */
	}
	fresh->mask = want - 1;
	for (n = 0; c && n <= c->mask; n++)
		if (c->slot[n].key)
			cert_put(fresh, c->slot[n].key, c->slot[n].expiry, c->slot[n].stamp);
	fresh->clock = c ? c->clock : 0;
	probe_reuse_free(p);
	p->certs = fresh;
	return 0;
}

/* Kept connections stay within the concurrency, as transfers do. Should either step fail (out
 * of memory), the old sizes stay: fewer kept connections, or fewer found expiries; no check
 * fails for it. */
void probe_reuse_set_limit(struct probe *p)
{
	if (curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, (long)p->concurrency) != CURLM_OK)
		return;
	if (p->certs && probe_reuse_resize(p) < 0)
		return;
}

void probe_reuse_free(struct probe *p)
{
	if (p->certs)
		free(p->certs->slot);
	free(p->certs);
	p->certs = NULL;
}

static bool over_tls(CURL *e)
{
	char *scheme = NULL;

	return curl_easy_getinfo(e, CURLINFO_SCHEME, &scheme) == CURLE_OK && scheme &&
	       strcasecmp(scheme, "https") == 0;
}

/* Only for a target that reuses. A new connection's certificate expiry is recorded; a kept
 * connection's phases become 0 and its expiry is the recorded one. */
void probe_reuse_collect(struct probe_job *j)
{
	struct probe_result *r = &j->res;
	struct probe *p = j->p;
	long connects = 0;
	curl_off_t pre = 0;
	bool tls = over_tls(j->easy);

	if (curl_easy_getinfo(j->easy, CURLINFO_NUM_CONNECTS, &connects) != CURLE_OK ||
	    curl_easy_getinfo(j->easy, CURLINFO_PRETRANSFER_TIME_T, &pre) != CURLE_OK)
		return;
	bool reused = connects == 0 && pre > 0;   /* a request left, on no new connection */
	if (reused) {
		r->dns_ms = r->connect_ms = 0;
		r->tls_ms = tls ? 0 : -1;
	}
	if (!tls || (!p->certs && probe_reuse_resize(p) < 0))
		return;
	uint64_t key = connection_key(j->easy);
	if (key == 0)
		return;
	if (!reused && r->cert_expiry > 0) {
		cert_put(p->certs, key, r->cert_expiry, ++p->certs->clock);
	} else if (reused && r->cert_expiry == 0) {
		const struct cert_seen *s = cert_find(p->certs, key);
		r->cert_expiry = s ? s->expiry : 0;
	}
}

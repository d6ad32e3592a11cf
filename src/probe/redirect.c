#include "autoconfig.h"
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "healthtop/core/sanitize.h"
#include "healthtop/probe/redirect.h"

struct origin {
	char *scheme, *host, *port;
};

static void origin_fini(struct origin *o)
{
	curl_free(o->scheme);
	curl_free(o->host);
	curl_free(o->port);
}

static int origin_of(const char *url, struct origin *o)
{
	CURLU *u = curl_url();
	int rc = -1;

	memset(o, 0, sizeof(*o));
	if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &o->scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &o->host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &o->port, CURLU_DEFAULT_PORT) == CURLUE_OK)
		rc = 0;
	curl_url_cleanup(u);
	return rc;
}

/* Same host, and the same port unless it is the upgrade from http on 80 to https on 443. */
static bool same_host(const struct origin *a, const struct origin *b)
{
	if (strcasecmp(a->host, b->host) != 0)
		return false;
	if (strcmp(a->port, b->port) == 0)
		return true;
	return strcasecmp(a->scheme, "http") == 0 && strcmp(a->port, "80") == 0 &&
	       strcasecmp(b->scheme, "https") == 0 && strcmp(b->port, "443") == 0;
}

/* Why the redirect to `to` must not be followed, or "" when it may: never from https to http,
 * and a target's configured headers (API keys...) never go to another host. */
void redirect_judge(const struct ht_target *t, const char *to, char *why, size_t size)
{
	struct origin from, next;
	char shown[96];

	why[0] = '\0';
	sanitize_url(to, shown, sizeof(shown));
	if (origin_of(t->check_url, &from) < 0 || origin_of(to, &next) < 0)
		snprintf(why, size, "redirect to %s not followed: not a URL we can check", shown);
	else if (strcasecmp(from.scheme, "https") == 0 && strcasecmp(next.scheme, "https") != 0)
		snprintf(why, size, "redirect from https to %s not followed", shown);
	else if (t->probe.nheaders > 0 && !same_host(&from, &next))
		snprintf(why, size, "redirect to %s not followed: configured headers stay with %s", shown,
			 from.host);
	origin_fini(&from);
	origin_fini(&next);
	sanitize_trim_cut(why);
}

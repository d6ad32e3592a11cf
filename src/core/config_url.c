#include "autoconfig.h"
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "healthtop/core/sanitize.h"
#include "config_priv.h"

/* A URL for an error message: its password masked, short and printable. */
void config_quote_url(const char *url, char *out, size_t size)
{
	char masked[4200];
	size_t n = sanitize_mask_password(url, masked, sizeof(masked));

	if (n > 60) {
		sanitize_text(masked, sanitize_cut(masked, n, 57), out, size > 58 ? 58 : size, false);
		strncat(out, "...", size - strlen(out) - 1);
	} else {
		sanitize_text(masked, n, out, size, false);
	}
}

/* The schemes a target may use: http(s), and the check kinds that are not HTTP (grpc, grpcs,
 * tcp, tls), which need a port since they have no standard one. Only HTTP takes the `path`
 * setting (whose default is /health): a grpc URL's own path names the service, tcp and tls
 * have none. */
static const struct { const char *scheme; bool needs_port, path_allowed, http; } url_schemes[] = {
	{ "http", false, true, true }, { "https", false, true, true },
	{ "grpc", true, true, false }, { "grpcs", true, true, false },
	{ "tcp", true, false, false }, { "tls", true, false, false },
};

/* 0 and *http (whether the path setting applies), or -1 with the error reported. */
static int check_scheme(struct pctx *c, const char *sub, const char *shown, CURLU *u, bool *http)
{
	char *scheme = NULL, *port = NULL, *upath = NULL;
	int rc = -1;

	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		return config_fail(c, sub, "\"%s\" has no scheme", shown);
	for (size_t i = 0; i < sizeof(url_schemes) / sizeof(url_schemes[0]); i++) {
		if (strcasecmp(scheme, url_schemes[i].scheme) != 0)
			continue;
		if (url_schemes[i].needs_port && curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
			rc = config_fail(c, sub, "\"%s\" needs a port (%s://host:port)", shown, scheme);
		else if (!url_schemes[i].path_allowed &&
			 (curl_url_get(u, CURLUPART_PATH, &upath, 0) != CURLUE_OK || strcmp(upath, "/") != 0))
			rc = config_fail(c, sub, "\"%s\": a %s check takes no path", shown, scheme);
		else
			rc = 0;
		*http = url_schemes[i].http;
		goto out;
	}
	rc = config_fail(c, sub, "scheme \"%s\" is not one of http, https, grpc, grpcs, tcp, tls", scheme);
out:
	curl_free(scheme);
	curl_free(port);
	curl_free(upath);
	return rc;
}

/* One string for URLs that read alike (config_free frees each string once). */
static void share_urls(struct ht_target *t)
{
	if (t->url && strcmp(t->check_url, t->url) == 0) {
		free(t->check_url);
		t->check_url = t->url;
	}
	if (strcmp(t->display_url, t->check_url) == 0) {
		free(t->display_url);
		t->display_url = t->check_url;
	}
}

int config_set_urls(struct pctx *c, const char *path, const char *url, const char *upath,
		    struct ht_target *t)
{
	char sub[256], shown[80];
	CURLU *u = curl_url();
	char *host = NULL, *display = NULL;
	bool http = true;
	int rc = -1;

	snprintf(sub, sizeof(sub), "%s.url", path);
	config_quote_url(url, shown, sizeof(shown));
	if (!u)
		return config_fail(c, sub, "out of memory");
	CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	if (uc != CURLUE_OK) {
		config_fail(c, sub, "\"%s\" is not a valid URL (%s)", shown, curl_url_strerror(uc));
		goto out;
	}
	if (check_scheme(c, sub, shown, u, &http) < 0)
		goto out;
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
		config_fail(c, sub, "\"%s\" has no host", shown);
		goto out;
	}
	size_t ul = strlen(url), pl = http ? strlen(upath) : 0;
	t->check_url = malloc(ul + pl + 1);
	if (!t->check_url) {
		config_fail(c, sub, "out of memory");
		goto out;
	}
	memcpy(t->check_url, url, ul + 1);
	if (pl > 0) {
		if (ul > 0 && url[ul - 1] == '/')
			t->check_url[--ul] = '\0';
		memcpy(t->check_url + ul, upath, pl + 1);
		uc = curl_url_set(u, CURLUPART_URL, t->check_url, CURLU_NON_SUPPORT_SCHEME);
		if (uc != CURLUE_OK) {
			snprintf(sub, sizeof(sub), "%s.path", path);
			config_fail(c, sub, "\"%s\" makes an invalid URL (%s)", upath, curl_url_strerror(uc));
			goto out;
		}
	}
	/* Passwords in URLs stay in memory only. */
	curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
	if (curl_url_get(u, CURLUPART_URL, &display, 0) != CURLUE_OK) {
		config_fail(c, sub, "\"%s\" cannot be shown", shown);
		goto out;
	}
	t->display_url = strdup(display);
	/* curl writes "tcp://db:5432/"; a URL without a path is shown as it was written. */
	size_t dl = t->display_url ? strlen(t->display_url) : 0;
	if (!http && dl && t->display_url[dl - 1] == '/' && strchr(strstr(t->display_url, "://") + 3, '/') ==
	    t->display_url + dl - 1)
		t->display_url[dl - 1] = '\0';
	if (!t->project)
		t->project = strdup(host);
	rc = (t->display_url && t->project) ? 0 : config_fail(c, sub, "out of memory");
	if (rc == 0)
		share_urls(t);
out:
	curl_free(host);
	curl_free(display);
	curl_url_cleanup(u);
	return rc;
}

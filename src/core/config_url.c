#include "autoconfig.h"
#include <curl/curl.h>
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

int config_set_urls(struct pctx *c, const char *path, const char *url, const char *upath,
		    struct ht_target *t)
{
	char sub[256], shown[80];
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *display = NULL;
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
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
		config_fail(c, sub, "scheme \"%s\" is not http or https", scheme ? scheme : "");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
		config_fail(c, sub, "\"%s\" has no host", shown);
		goto out;
	}
	size_t ul = strlen(url), pl = strlen(upath);
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
	if (!t->project)
		t->project = strdup(host);
	rc = (t->display_url && t->project) ? 0 : config_fail(c, sub, "out of memory");
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(display);
	curl_url_cleanup(u);
	return rc;
}

#include "autoconfig.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/notify/notify_post.h"

struct post_req {
	struct notify_poster *p;
	notifier_done_fn done;
	void *ctx;
	bool cancelled, submitting, finished;
	struct post_req *prev, *next;
};

struct notify_poster {
	struct probe *probe;
	struct post_req *reqs;
};

struct notify_poster *notify_poster_new(struct probe *probe)
{
	struct notify_poster *p = calloc(1, sizeof(*p));

	if (p)
		p->probe = probe;
	return p;
}

static void req_free(struct post_req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		r->p->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	free(r);
}

static void on_done(void *user, struct probe_result *res)
{
	struct post_req *r = user;
	char why[224];

	r->finished = true;
	if (!r->cancelled) {
		bool ok = res->http_code >= 200 && res->http_code < 300;
		if (res->http_code > 0)
			snprintf(why, sizeof(why), "HTTP %ld", res->http_code);
		else
			snprintf(why, sizeof(why), "%s", res->error[0] ? res->error : "no answer");
		r->done(r->ctx, ok, why);
	}
	if (!r->submitting)
		req_free(r);
}

int notify_poster_post(void *user, const struct notify_dest *d, const char *body, const char *ctype,
		       char hdr[2][256], size_t nhdr, notifier_done_fn done, void *ctx)
{
	struct notify_poster *p = user;
	struct post_req *r = calloc(1, sizeof(*r));
	const char *raw[3] = { nhdr > 0 ? hdr[0] : NULL, nhdr > 1 ? hdr[1] : NULL, NULL };
	struct probe_post post = { d->url, d->headers, d->nheaders, raw, ctype, body, strlen(body),
				   NOTIFY_POST_TIMEOUT_MS };

	if (!r)
		return -1;
	*r = (struct post_req){ .p = p, .done = done, .ctx = ctx, .submitting = true, .next = p->reqs };
	if (p->reqs)
		p->reqs->prev = r;
	p->reqs = r;
	int rc = probe_submit_post(p->probe, &post, on_done, r);
	r->submitting = false;
	if (r->finished) {   /* answered at once (could not start): done has run */
		req_free(r);
		return 0;
	}
	if (rc < 0) {
		req_free(r);
		return -1;
	}
	return 0;
}

void notify_poster_cancel(struct notify_poster *p)
{
	for (struct post_req *r = p ? p->reqs : NULL; r; r = r->next)
		r->cancelled = true;
}

void notify_poster_free(struct notify_poster *p)
{
	if (!p)
		return;
	while (p->reqs) {
		struct post_req *r = p->reqs;
		p->reqs = r->next;
		free(r);
	}
	free(p);
}

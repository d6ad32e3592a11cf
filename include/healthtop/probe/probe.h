/* Probes: libcurl's multi-socket API driven by a libev loop, with an admission queue so that at
 * most `concurrency` transfers run and queue time never counts against a timeout. The target's
 * URL scheme picks the kind (http(s), grpc(s), tcp, tls: result.h's enum probe_kind); all share
 * the queue, the limit and the timeout. */
#ifndef HEALTHTOP_PROBE_H
#define HEALTHTOP_PROBE_H

#include <ev.h>
#include <stddef.h>
#include "healthtop/core/config.h"
#include "healthtop/core/err.h"
#include "healthtop/core/probe_result.h"

struct probe;

/* Called once per submitted check, from the loop (or from probe_submit itself when the transfer
 * cannot even start). The callee may take r->body (set it to NULL) and may submit more checks;
 * it must not call probe_free(). */
typedef void (*probe_done_fn)(void *user, struct probe_result *r);

/* curl_global_init must have run. Raises the open-file limit as far as the system allows and
 * caps concurrency to what it can hold (a socket we cannot open must never look like a target
 * that is down): probe_concurrency() tells the limit in force. */
struct probe *probe_new(struct ev_loop *loop, unsigned concurrency, struct ht_err *err);
unsigned probe_concurrency(const struct probe *p);

/* Queues one check of t; t must outlive the check. */
int probe_submit(struct probe *p, const struct ht_target *t, probe_done_fn done, void *user);

/* A POST (a webhook notification) on the same multi handle, admission queue and concurrency as
 * the checks. Everything is copied. done gets a result like a check's: http_code, error. */
struct probe_post {
	const char *url;
	const struct ht_header *headers;   /* extra headers, may be NULL */
	size_t nheaders;
	const char *const *raw_headers;    /* "Name: value" lines, NULL-terminated, may be NULL */
	const char *content_type;
	const char *body;
	size_t body_len;
	int timeout_ms;
};
int probe_submit_post(struct probe *p, const struct probe_post *post, probe_done_fn done, void *user);

/* Checks say where they come from (daemon --location; NULL: nowhere): the User-Agent becomes
 * "healthtop/<version> (location eu-west)", so a target's logs tell locations apart. */
void probe_set_location(struct probe *p, const char *location);

/* Takes effect as transfers finish; never aborts one. */
void probe_set_concurrency(struct probe *p, unsigned concurrency);
unsigned probe_in_flight(const struct probe *p);
size_t probe_queued(const struct probe *p);

/* Stops everything at once; callbacks of unfinished checks are not called. */
void probe_free(struct probe *p);

#endif

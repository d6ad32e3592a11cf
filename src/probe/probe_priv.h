/* Inside the probe engine: the job and engine structs the engine (probe.c), the transfer set-up
 * (probe_http.c, probe_kinds.c) and the result mapping (probe_result.c) share. */
#ifndef HEALTHTOP_PROBE_PRIV_H
#define HEALTHTOP_PROBE_PRIV_H

#include <curl/curl.h>
#include <stdbool.h>
#include "healthtop/probe/probe.h"

#define GRPC_REQUEST_MAX 512   /* a health request: 5-byte prefix + service name (bounded) */

struct probe_job {
	struct probe *p;
	const struct ht_target *t;       /* NULL for a POST */
	probe_done_fn done;
	void *user;
	CURL *easy;
	struct curl_slist *headers;
	size_t body_cap;
	struct probe_result res;
	char errbuf[CURL_ERROR_SIZE];
	char refused[160];               /* why a redirect was not followed; "" when none */
	char *url;                       /* owned: what curl fetches when it is not t->check_url */
	char *post_body;                 /* owned copy for a POST; NULL for checks */
	size_t post_len;
	int timeout_ms;
	unsigned char grpc_req[GRPC_REQUEST_MAX];
	size_t grpc_req_len;
	struct probe_job *prev, *next;   /* in-flight list, or the free list (next) */
};

struct job_list {
	struct probe_job *head, *tail;
	size_t n;
};

/* A check waiting for a slot: only what it needs to start (a job exists only once admitted, so
 * a sweep of 100 000 targets holds `concurrency` jobs, not 100 000). A POST owns its copies
 * from the start: its job is made at submit time and waits here. */
struct queued {
	const struct ht_target *t;   /* NULL: a POST, in job */
	probe_done_fn done;
	void *user;
	struct probe_job *job;
};

/* The admission queue: a ring that doubles when full, O(1) to add and to take. */
struct job_queue {
	struct queued *q;
	size_t head, n, cap;
};

struct sock_watch;

struct probe {
	struct ev_loop *loop;
	CURLM *multi;
	ev_timer timer;
	unsigned concurrency;
	struct job_queue queue;
	struct job_list flying;
	CURL **idle;           /* easy handles kept for reuse */
	size_t nidle;
	struct probe_job *spare;   /* finished jobs kept for reuse, at most concurrency */
	size_t nspare;
	struct sock_watch *spare_watch;   /* socket watchers kept for reuse, likewise */
	size_t nspare_watch;
	struct cert_cache *certs;   /* probe_reuse.c: NULL until a reusing https check ends */
	char user_agent[200];
};

/* probe_pool.c: the admission queue and reused jobs. */
int probe_queue_push(struct job_queue *q, struct queued e);
struct queued probe_queue_pop(struct job_queue *q);
struct probe_job *probe_job_new(struct probe *p, probe_done_fn done, void *user);
/* Its results and set-up freed; the job itself kept for the next check, or freed. */
void probe_job_free(struct probe_job *j);
/* Queued checks dropped (their callbacks not called), the queue and spare jobs freed. */
void probe_pool_fini(struct probe *p);

/* probe_http.c: the easy handle's options for the job's kind; 0 or -1 with j->res.error set. */
int probe_setup_transfer(struct probe_job *j);
void probe_job_release(struct probe_job *j);   /* what setup allocated, not the job itself */

/* probe_kinds.c: the kind from the URL's scheme (into j->res.kind) and, for grpc/tcp/tls, the URL
 * curl is given (j->url); then those kinds' options. */
int probe_translate_url(struct probe_job *j);
int probe_setup_grpc(struct probe_job *j);
int probe_setup_connect_only(struct probe_job *j);
size_t probe_on_body(char *data, size_t size, size_t nmemb, void *userp);

/* probe_result.c: fills j->res from the finished transfer. */
void probe_result_collect(struct probe_job *j, CURLcode rc);

CURLcode probe_set_base_options(struct probe_job *j, const char *url, int timeout_ms, bool keep_body);
/* A fresh connection (unless the target reuses them) and https's certificate rules, for every
 * kind of check; j->res.kind is known. */
CURLcode probe_set_connection_options(struct probe_job *j);

/* probe_reuse.c: reuse_connections. Whether this check may use a kept connection; after it
 * ended, its phases and certificate expiry when it did; the table of verified expiries. */
bool probe_reuses(const struct probe_job *j);
void probe_reuse_collect(struct probe_job *j);
int probe_reuse_resize(struct probe *p);
void probe_reuse_set_limit(struct probe *p);   /* after the concurrency changed */
void probe_reuse_free(struct probe *p);

#endif

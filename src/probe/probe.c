/* The probe engine: libcurl's multi-socket API on the libev loop, the admission queue, and the
 * jobs' life (queued, in flight, done). What a transfer is (its options) lives in probe_http.c
 * and probe_kinds.c; what it observed, in probe_result.c. */
#include "autoconfig.h"
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "healthtop/core/clock.h"
#include "probe_priv.h"

struct sock_watch {
	ev_io io;
	struct probe *p;
	struct sock_watch *next;   /* in the spare list */
};

/* A watcher for a socket curl opened: one per check with fresh connections, so they are kept
 * for the next (at most one per slot) rather than made and freed per check. */
static struct sock_watch *watch_new(struct probe *p)
{
	struct sock_watch *w = p->spare_watch;

	if (w) {
		p->spare_watch = w->next;
		p->nspare_watch--;
	} else if (!(w = malloc(sizeof(*w)))) {
		return NULL;
	}
	memset(w, 0, sizeof(*w));
	w->p = p;
	return w;
}

static void watch_free(struct probe *p, struct sock_watch *w)
{
	if (p->nspare_watch < p->concurrency) {
		w->next = p->spare_watch;
		p->spare_watch = w;
		p->nspare_watch++;
	} else {
		free(w);
	}
}

static void list_push(struct job_list *l, struct probe_job *j)
{
	j->next = NULL;
	j->prev = l->tail;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
	l->n++;
}

static void list_remove(struct job_list *l, struct probe_job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		l->head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		l->tail = j->prev;
	j->prev = j->next = NULL;
	l->n--;
}

/* A connect-only handle holds its connection until it is cleaned up; a handle curl still holds
 * is never reused either. */
static void recycle_easy(struct probe *p, struct probe_job *j, bool detached)
{
	long connect_only = j->res.kind == PROBE_KIND_TCP || j->res.kind == PROBE_KIND_TLS;

	if (detached && !connect_only && p->nidle < p->concurrency) {
		curl_easy_reset(j->easy);
		p->idle[p->nidle++] = j->easy;
	} else {
		curl_easy_cleanup(j->easy);
	}
	j->easy = NULL;
}

static void finish_job(struct probe_job *j, CURLcode rc)
{
	struct probe *p = j->p;

	probe_result_collect(j, rc);
	bool detached = curl_multi_remove_handle(p->multi, j->easy) == CURLM_OK;
	recycle_easy(p, j, detached);
	list_remove(&p->flying, j);
	j->done(j->user, &j->res);
	probe_job_free(j);
}

static void fail_job_now(struct probe_job *j, const char *why)
{
	struct probe *p = j->p;

	j->res.outcome = PROBE_ERROR;
	if (why)
		snprintf(j->res.error, sizeof(j->res.error), "%s", why);
	if (j->easy)
		curl_easy_cleanup(j->easy);
	j->easy = NULL;
	list_remove(&p->flying, j);
	j->done(j->user, &j->res);
	probe_job_free(j);
}

static void start_job(struct probe *p, struct probe_job *j)
{
	list_push(&p->flying, j);
	j->easy = p->nidle ? p->idle[--p->nidle] : curl_easy_init();
	if (!j->easy) {
		fail_job_now(j, "out of memory (curl_easy_init)");
		return;
	}
	if (probe_setup_transfer(j) < 0) {
		fail_job_now(j, j->res.error[0] ? NULL : "cannot set up the transfer");
		return;
	}
	j->res.started_ms = clock_wall_ms();
	CURLMcode mc = curl_multi_add_handle(p->multi, j->easy);
	if (mc != CURLM_OK) {
		char why[128];
		snprintf(why, sizeof(why), "cannot start the transfer: %s", curl_multi_strerror(mc));
		fail_job_now(j, why);
	}
}

/* A check that cannot even get a job still gets its one result. */
static void fail_unstarted(const struct queued *e, const char *why)
{
	struct probe_result r;

	memset(&r, 0, sizeof(r));
	r.total_ms = r.dns_ms = r.connect_ms = r.tls_ms = r.ttfb_ms = -1;
	r.outcome = PROBE_ERROR;
	snprintf(r.error, sizeof(r.error), "%s", why);
	e->done(e->user, &r);
}

static void admit(struct probe *p)
{
	while (p->flying.n < p->concurrency && p->queue.n) {
		struct queued e = probe_queue_pop(&p->queue);
		struct probe_job *j = e.job;
		if (!j && !(j = probe_job_new(p, e.done, e.user))) {
			fail_unstarted(&e, "out of memory (probe job)");
			continue;
		}
		if (e.t) {
			j->t = e.t;
			j->timeout_ms = e.t->probe.timeout_ms;
		}
		start_job(p, j);
	}
}

static void drain_done(struct probe *p)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(p->multi, &left))) {
		struct probe_job *j = NULL;
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		finish_job(j, msg->data.result);
	}
	admit(p);
}

/* Its failure is checked and let be: curl_easy_cleanup, which always follows, detaches a handle
 * that curl would not let go of here. */
static void detach_for_cleanup(struct probe *p, CURL *e)
{
	if (curl_multi_remove_handle(p->multi, e) != CURLM_OK)
		return;
}

/* curl's multi handle failed and cannot say which transfer it was driving: every transfer in
 * flight ends now with an error result (a target shows the engine's trouble, it never waits for
 * an answer that will not come). Its done callbacks may start new checks: those are kept. */
static void fail_flying(struct probe *p, CURLMcode mc)
{
	struct job_list doomed = p->flying;
	struct probe_job *j;
	char why[160];

	snprintf(why, sizeof(why), "probe engine error: %s", curl_multi_strerror(mc));
	p->flying = (struct job_list){ NULL, NULL, 0 };
	while ((j = doomed.head)) {
		list_remove(&doomed, j);
		list_push(&p->flying, j);   /* fail_job_now takes it off the list it is on */
		detach_for_cleanup(p, j->easy);
		fail_job_now(j, why);
	}
}

static void socket_action(struct probe *p, curl_socket_t fd, int action)
{
	int running;
	CURLMcode mc = curl_multi_socket_action(p->multi, fd, action, &running);

	drain_done(p);   /* what finished before the failure keeps its real result */
	if (mc != CURLM_OK) {
		fail_flying(p, mc);
		admit(p);
	}
}

static void on_sock_event(struct ev_loop *loop, ev_io *io, int revents)
{
	struct sock_watch *w = io->data;
	struct probe *p = w->p;   /* w may be freed by socket_action below */
	int action = ((revents & EV_READ) ? CURL_CSELECT_IN : 0) |
		     ((revents & EV_WRITE) ? CURL_CSELECT_OUT : 0);

	socket_action(p, io->fd, action);
}

static void on_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	socket_action(t->data, CURL_SOCKET_TIMEOUT, 0);
}

/* curl asks us to watch a socket; we only (un)register watchers here. */
static int on_curl_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct probe *p = userp;
	struct sock_watch *w = socketp;

	if (what == CURL_POLL_REMOVE) {
		if (w) {
			ev_io_stop(p->loop, &w->io);
			watch_free(p, w);
		}
		return 0;
	}
	int events = ((what & CURL_POLL_IN) ? EV_READ : 0) | ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (!w) {
		w = watch_new(p);
		if (!w)
			return -1;   /* curl aborts the transfer: its result says so */
		if (curl_multi_assign(p->multi, s, w) != CURLM_OK) {
			watch_free(p, w);
			return -1;
		}
	} else {
		ev_io_stop(p->loop, &w->io);
	}
	ev_io_init(&w->io, on_sock_event, s, events);
	w->io.data = w;
	ev_io_start(p->loop, &w->io);
	return 0;
}

/* curl asks for a wake-up; the work happens in on_timer, never in here. */
static int on_curl_timer(CURLM *m, long timeout_ms, void *userp)
{
	struct probe *p = userp;

	ev_timer_stop(p->loop, &p->timer);
	if (timeout_ms >= 0) {
		ev_timer_set(&p->timer, (double)timeout_ms / 1000.0, 0.0);
		ev_timer_start(p->loop, &p->timer);
	}
	return 0;
}

#define FD_RESERVE 64   /* the database, the terminal, the demo server, libev, curl's resolver */

/* The most transfers the process can hold open at once, raising the soft limit if it must. */
static unsigned fd_capacity(unsigned want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return want;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)want + FD_RESERVE) {
		rlim_t need = (rlim_t)want + FD_RESERVE;
		rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need) ? need : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (rlim_t)want + FD_RESERVE)
		return want;
	return rl.rlim_cur > 2 * FD_RESERVE ? (unsigned)(rl.rlim_cur - FD_RESERVE) : FD_RESERVE;
}

unsigned probe_concurrency(const struct probe *p)
{
	return p->concurrency;
}

struct probe *probe_new(struct ev_loop *loop, unsigned concurrency, struct ht_err *err)
{
	concurrency = fd_capacity(concurrency ? concurrency : 1);
	struct probe *p = calloc(1, sizeof(*p));

	if (!p || !(p->idle = calloc(concurrency ? concurrency : 1, sizeof(CURL *))) ||
	    !(p->multi = curl_multi_init())) {
		ht_err_set(err, "out of memory starting the probe engine");
		if (p)
			free(p->idle);
		free(p);
		return NULL;
	}
	p->loop = loop;
	p->concurrency = concurrency ? concurrency : 1;
	snprintf(p->user_agent, sizeof(p->user_agent), "healthtop/%s", PACKAGE_VERSION);
	ev_timer_init(&p->timer, on_timer, 0.0, 0.0);
	p->timer.data = p;
	if (curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket) != CURLM_OK ||
	    curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p) != CURLM_OK ||
	    curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer) != CURLM_OK ||
	    curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p) != CURLM_OK ||
	    curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, (long)p->concurrency) != CURLM_OK) {
		ht_err_set(err, "libcurl refused the event-loop callbacks");
		probe_free(p);
		return NULL;
	}
	return p;
}

int probe_submit(struct probe *p, const struct ht_target *t, probe_done_fn done, void *user)
{
	if (probe_queue_push(&p->queue, (struct queued){ t, done, user, NULL }) < 0)
		return -1;
	admit(p);
	return 0;
}

/* Everything the caller passed is copied now: a webhook's payload may be freed before the POST
 * leaves the queue. The header list is built here so that a failure is the caller's to see. */
static int post_copy(struct probe_job *j, const struct probe_post *post)
{
	struct curl_slist *n;
	char line[8448];

	if (!(j->url = strdup(post->url)) || !(j->post_body = malloc(post->body_len + 1)))
		return -1;
	if (post->body_len)
		memcpy(j->post_body, post->body, post->body_len);
	j->post_body[post->body_len] = '\0';
	j->post_len = post->body_len;
	j->timeout_ms = post->timeout_ms > 0 ? post->timeout_ms : 10000;
	snprintf(line, sizeof(line), "Content-Type: %s",
		 post->content_type ? post->content_type : "application/json");
	if (!(n = curl_slist_append(j->headers, line)))
		return -1;
	j->headers = n;
	for (size_t i = 0; i < post->nheaders; i++) {
		snprintf(line, sizeof(line), "%s: %s", post->headers[i].name, post->headers[i].value);
		if (!(n = curl_slist_append(j->headers, line)))
			return -1;
		j->headers = n;
	}
	for (size_t i = 0; post->raw_headers && post->raw_headers[i]; i++) {
		if (!(n = curl_slist_append(j->headers, post->raw_headers[i])))
			return -1;
		j->headers = n;
	}
	return 0;
}

int probe_submit_post(struct probe *p, const struct probe_post *post, probe_done_fn done, void *user)
{
	struct probe_job *j;

	if (!post || !post->url)
		return -1;
	if (!(j = probe_job_new(p, done, user)))
		return -1;
	if (post_copy(j, post) < 0 || probe_queue_push(&p->queue, (struct queued){ NULL, done, user, j }) < 0) {
		probe_job_free(j);
		return -1;
	}
	admit(p);
	return 0;
}

void probe_set_location(struct probe *p, const char *location)
{
	size_t o = (size_t)snprintf(p->user_agent, sizeof(p->user_agent), "healthtop/%s", PACKAGE_VERSION);

	if (!location || !location[0])
		return;
	o += (size_t)snprintf(p->user_agent + o, sizeof(p->user_agent) - o, " (location ");
	/* a header value: no control byte, and no parenthesis to end the comment early */
	for (const unsigned char *c = (const unsigned char *)location; *c && o + 2 < sizeof(p->user_agent); c++)
		p->user_agent[o++] = *c < 0x20 || *c == 0x7f || *c == '(' || *c == ')' ? '?' : (char)*c;
	p->user_agent[o++] = ')';
	p->user_agent[o] = '\0';
}

void probe_set_concurrency(struct probe *p, unsigned concurrency)
{
	CURL **idle;

	concurrency = fd_capacity(concurrency);
	if (concurrency == 0 || concurrency == p->concurrency)
		return;
	while (p->nidle > concurrency)
		curl_easy_cleanup(p->idle[--p->nidle]);
	idle = realloc(p->idle, concurrency * sizeof(*idle));
	if (!idle)
		return;   /* keep the old limit rather than fail */
	p->idle = idle;
	p->concurrency = concurrency;
	probe_reuse_set_limit(p);
	admit(p);
}

unsigned probe_in_flight(const struct probe *p)
{
	return (unsigned)p->flying.n;
}

size_t probe_queued(const struct probe *p)
{
	return p->queue.n;
}

void probe_free(struct probe *p)
{
	struct probe_job *j;

	if (!p)
		return;
	while ((j = p->flying.head)) {
		list_remove(&p->flying, j);
		detach_for_cleanup(p, j->easy);
		curl_easy_cleanup(j->easy);
		probe_job_free(j);
	}
	probe_pool_fini(p);   /* queued checks, then the spare jobs */
	for (size_t i = 0; i < p->nidle; i++)
		curl_easy_cleanup(p->idle[i]);
	ev_timer_stop(p->loop, &p->timer);
	probe_reuse_free(p);
	if (curl_multi_cleanup(p->multi) != CURLM_OK)
		p->multi = NULL;   /* only an unknown handle fails here: nothing is left to undo */
	for (struct sock_watch *w; (w = p->spare_watch);) {   /* after curl let its sockets go */
		p->spare_watch = w->next;
		free(w);
	}
	free(p->idle);
	free(p);
}

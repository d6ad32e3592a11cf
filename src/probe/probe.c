#include "autoconfig.h"
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "healthtop/core/clock.h"
#include "healthtop/probe/probe.h"
#include "healthtop/probe/redirect.h"
#include "healthtop/core/sanitize.h"

#define BODY_INITIAL 4096
#define MAX_REDIRECTS 5

struct probe_job {
	struct probe *p;
	const struct ht_target *t;
	probe_done_fn done;
	void *user;
	CURL *easy;
	struct curl_slist *headers;
	size_t body_cap;
	struct probe_result res;
	char errbuf[CURL_ERROR_SIZE];
	char refused[160];               /* why a redirect was not followed; "" when none */
	struct probe_job *prev, *next;   /* queue, then in-flight list */
};

struct job_list {
	struct probe_job *head, *tail;
	size_t n;
};

struct sock_watch {
	ev_io io;
	struct probe *p;
};

struct probe {
	struct ev_loop *loop;
	CURLM *multi;
	ev_timer timer;
	unsigned concurrency;
	struct job_list queue;
	struct job_list flying;
	CURL **idle;           /* easy handles kept for reuse */
	size_t nidle;
	char user_agent[64];
};

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

void probe_result_fini(struct probe_result *r)
{
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
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

static void finish_job(struct probe_job *j, CURLcode rc)
{
	struct probe *p = j->p;
	struct probe_result *r = &j->res;
	long os_errno = 0;

	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &r->http_code);
	curl_easy_getinfo(j->easy, CURLINFO_OS_ERRNO, &os_errno);
	collect_timings(j->easy, r);
	r->outcome = outcome_of(rc, os_errno, r->body_truncated);
	r->cert_expiry = leaf_cert_expiry(j->easy);
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
	bool detached = curl_multi_remove_handle(p->multi, j->easy) == CURLM_OK;
	curl_slist_free_all(j->headers);
	j->headers = NULL;
	if (detached && p->nidle < p->concurrency) {   /* a handle curl still holds is never reused */
		curl_easy_reset(j->easy);
		p->idle[p->nidle++] = j->easy;
	} else {
		curl_easy_cleanup(j->easy);
	}
	j->easy = NULL;
	list_remove(&p->flying, j);
	j->done(j->user, r);
	probe_result_fini(r);
	free(j);
}

static void fail_job_now(struct probe_job *j, const char *why)
{
	struct probe *p = j->p;

	j->res.outcome = PROBE_ERROR;
	snprintf(j->res.error, sizeof(j->res.error), "%s", why);
	if (j->easy)
		curl_easy_cleanup(j->easy);
	curl_slist_free_all(j->headers);
	list_remove(&p->flying, j);
	j->done(j->user, &j->res);
	probe_result_fini(&j->res);
	free(j);
}

static struct curl_slist *build_headers(const struct ht_target *t)
{
	struct curl_slist *l = NULL, *n;
	bool has_accept = false;
	char line[8448];

	for (size_t i = 0; i < t->probe.nheaders; i++) {
		if (strcasecmp(t->probe.headers[i].name, "Accept") == 0)
			has_accept = true;
		snprintf(line, sizeof(line), "%s: %s", t->probe.headers[i].name, t->probe.headers[i].value);
		if (!(n = curl_slist_append(l, line)))
			goto oom;
		l = n;
	}
	if (!has_accept) {
		if (!(n = curl_slist_append(l, "Accept: application/json")))
			goto oom;
		l = n;
	}
	return l;
oom:
	curl_slist_free_all(l);
	return NULL;
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

static int set_options(struct probe_job *j)
{
	const struct ht_target *t = j->t;
	CURL *e = j->easy;
	CURLcode rc = CURLE_OK;

#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
	SET(CURLOPT_URL, t->check_url);
	SET(CURLOPT_PRIVATE, j);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, j);
	SET(CURLOPT_ERRORBUFFER, j->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_HTTPGET, 1L);
	SET(CURLOPT_TIMEOUT_MS, (long)t->probe.timeout_ms);
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_PREREQFUNCTION, on_prereq);
	SET(CURLOPT_PREREQDATA, j);
	SET(CURLOPT_USERAGENT, j->p->user_agent);
	SET(CURLOPT_HTTPHEADER, j->headers);
	SET(CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
	/* Every check walks the whole path (DNS, connect, TLS with certificate checks) as a new
	 * client would; a reused connection would hide a broken handshake or a renewed cert. */
	SET(CURLOPT_FRESH_CONNECT, 1L);
	SET(CURLOPT_FORBID_REUSE, 1L);
	SET(CURLOPT_CERTINFO, 1L);
	if (t->probe.ca_file)
		SET(CURLOPT_CAINFO, t->probe.ca_file);
	SET(CURLOPT_SSL_VERIFYPEER, t->probe.insecure ? 0L : 1L);
	SET(CURLOPT_SSL_VERIFYHOST, t->probe.insecure ? 0L : 2L);
#undef SET
	return rc == CURLE_OK ? 0 : -1;
}

static void start_job(struct probe *p, struct probe_job *j)
{
	list_push(&p->flying, j);
	j->easy = p->nidle ? p->idle[--p->nidle] : curl_easy_init();
	if (!j->easy) {
		fail_job_now(j, "out of memory (curl_easy_init)");
		return;
	}
	j->headers = build_headers(j->t);
	if (!j->headers || set_options(j) < 0) {
		fail_job_now(j, "cannot set up the transfer");
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

static void admit(struct probe *p)
{
	while (p->flying.n < p->concurrency && p->queue.head) {
		struct probe_job *j = p->queue.head;
		list_remove(&p->queue, j);
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
			free(w);
		}
		return 0;
	}
	int events = ((what & CURL_POLL_IN) ? EV_READ : 0) | ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (!w) {
		w = calloc(1, sizeof(*w));
		if (!w)
			return -1;   /* curl aborts the transfer: its result says so */
		w->p = p;
		if (curl_multi_assign(p->multi, s, w) != CURLM_OK) {
			free(w);
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
	    curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p) != CURLM_OK) {
		ht_err_set(err, "libcurl refused the event-loop callbacks");
		probe_free(p);
		return NULL;
	}
	return p;
}

int probe_submit(struct probe *p, const struct ht_target *t, probe_done_fn done, void *user)
{
	struct probe_job *j = calloc(1, sizeof(*j));

	if (!j)
		return -1;
	j->p = p;
	j->t = t;
	j->done = done;
	j->user = user;
	j->res.total_ms = j->res.dns_ms = j->res.connect_ms = j->res.tls_ms = j->res.ttfb_ms = -1;
	list_push(&p->queue, j);
	admit(p);
	return 0;
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
		curl_slist_free_all(j->headers);
		probe_result_fini(&j->res);
		free(j);
	}
	while ((j = p->queue.head)) {
		list_remove(&p->queue, j);
		free(j);
	}
	for (size_t i = 0; i < p->nidle; i++)
		curl_easy_cleanup(p->idle[i]);
	ev_timer_stop(p->loop, &p->timer);
	if (curl_multi_cleanup(p->multi) != CURLM_OK)
		p->multi = NULL;   /* only an unknown handle fails here: nothing is left to undo */
	free(p->idle);
	free(p);
}

#include "autoconfig.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "healthtop/core/clock.h"
#include "healthtop/notify/notifier.h"
#include "healthtop/notify/notify_exec.h"

struct item {
	struct notifier_msg m;
	struct item *next;
};

struct lane {                /* one destination's ordered queue */
	struct notifier *n;
	size_t idx;
	struct item *head, *tail;
	int busy;
	ev_timer retry;
};

struct notifier {
	struct ev_loop *loop;
	const struct notify_dest *dests;
	size_t ndests;
	struct lane *lanes;
	struct notifier_io io;
	struct notifier_timing timing;
	struct notify_exec *exec;
	int64_t next_id;
	size_t pending;
	int closing;
};

static char *dup0(const char *s)
{
	return strdup(s ? s : "");
}

static void item_free(struct item *it)
{
	free((char *)it->m.ev.name);
	free((char *)it->m.ev.project);
	free((char *)it->m.ev.url);
	free((char *)it->m.ev.reason);
	free(it);
}

static struct item *item_new(const struct notify_event *e)
{
	struct item *it = calloc(1, sizeof(*it));

	if (!it)
		return NULL;
	it->m.ev = *e;
	it->m.ev.name = dup0(e->name);
	it->m.ev.project = dup0(e->project);
	it->m.ev.url = dup0(e->url);
	it->m.ev.reason = dup0(e->reason);
	if (!it->m.ev.name || !it->m.ev.project || !it->m.ev.url || !it->m.ev.reason) {
		item_free(it);
		return NULL;
	}
	return it;
}

static void logf_(struct notifier *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logf_(struct notifier *n, const char *fmt, ...)
{
	va_list ap;
	char line[512];

	if (!n->io.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n->io.log(n->io.user, line);
}

static void kick(struct lane *l);

static void pop(struct lane *l)
{
	struct item *it = l->head;

	l->head = it->next;
	if (!l->head)
		l->tail = NULL;
	l->n->pending--;
	if (l->n->io.forget)
		l->n->io.forget(l->n->io.user, &it->m);
	item_free(it);
}

static void on_sent(void *ctx, int ok, const char *why)
{
	struct lane *l = ctx;
	struct notifier *n = l->n;
	struct item *it = l->head;
	const struct notify_dest *d = &n->dests[l->idx];

	if (n->closing)
		return;
	l->busy = 0;
	if (!it)
		return;
	if (ok) {
		pop(l);
		kick(l);
		return;
	}
	it->m.attempts++;
	double age = (double)(clock_wall_ms() - it->m.created_ms) / 1000.0;
	if (age >= n->timing.give_up_s) {
		logf_(n, "notify %s: gave up on %s after an hour of failures (%s)", d->key, it->m.ev.name, why);
		pop(l);
		kick(l);
		return;
	}
	double wait = n->timing.first_retry_s * pow(2.0, it->m.attempts - 1);
	if (wait > n->timing.max_retry_s)
		wait = n->timing.max_retry_s;
	logf_(n, "notify %s: %s (attempt %d), retrying in %.0f s", d->key, why, it->m.attempts, wait);
	if (n->io.persist)
		n->io.persist(n->io.user, &it->m);   /* the attempt count survives a restart */
	ev_timer_set(&l->retry, wait, 0.0);
	ev_timer_start(n->loop, &l->retry);
}

static void on_retry(struct ev_loop *loop, ev_timer *t, int revents)
{
	kick(t->data);
}

static int send_exec(struct lane *l, const struct notify_dest *d, const struct notify_event *e)
{
	char *env[NOTIFY_ENV_COUNT + 1];
	int rc;

	if (notify_env(e, env) < 0)
		return -1;
	rc = notify_exec_run(l->n->exec, d->argv, env, on_sent, l);
	notify_env_free(env);
	return rc;
}

static int send_webhook(struct lane *l, const struct notify_dest *d, const struct notify_event *e)
{
	struct notifier *n = l->n;
	char hdr[2][256];
	const char *ctype;
	size_t nhdr;
	char *body = notify_body(e, (enum notify_format)d->format, &ctype, hdr, &nhdr);
	int rc;

	if (!body || !n->io.post) {
		free(body);
		return -1;
	}
	rc = n->io.post(n->io.user, d, body, ctype, hdr, nhdr, on_sent, l);
	free(body);
	return rc;
}

static void kick(struct lane *l)
{
	struct notifier *n = l->n;
	const struct notify_dest *d = &n->dests[l->idx];

	if (l->busy || !l->head || ev_is_active(&l->retry))
		return;
	l->busy = 1;
	int rc = d->kind == NOTIFY_DEST_EXEC ? send_exec(l, d, &l->head->m.ev) : send_webhook(l, d, &l->head->m.ev);
	if (rc < 0 && l->busy)
		on_sent(l, 0, "could not start");
}

static void enqueue(struct notifier *n, size_t dest, struct item *it, bool persist)
{
	struct lane *l = &n->lanes[dest];

	it->m.dest = dest;
	if (l->tail)
		l->tail->next = it;
	else
		l->head = it;
	l->tail = it;
	n->pending++;
	if (persist && n->io.persist)
		n->io.persist(n->io.user, &it->m);
	kick(l);
}

void notifier_announce(struct notifier *n, const struct notify_event *e)
{
	for (size_t i = 0; i < n->ndests; i++) {
		if (!notify_dest_wants(&n->dests[i], e->name, e->project, e->new_cls))
			continue;
		struct item *it = item_new(e);
		if (!it) {
			logf_(n, "notify %s: out of memory, %s not sent", n->dests[i].key, e->name);
			continue;
		}
		it->m.id = n->next_id++;
		it->m.created_ms = e->at_ms;
		enqueue(n, i, it, true);
	}
}

void notifier_restore(struct notifier *n, const char *dest_key, const struct notify_event *e,
		      int64_t id, int64_t created_ms, int attempts)
{
	for (size_t i = 0; i < n->ndests; i++) {
		if (strcmp(n->dests[i].key, dest_key) != 0)
			continue;
		struct item *it = item_new(e);
		if (!it)
			return;
		it->m.id = id;
		it->m.created_ms = created_ms;
		it->m.attempts = attempts;
		if (id >= n->next_id)
			n->next_id = id + 1;
		enqueue(n, i, it, false);
		return;
	}
}

struct notifier *notifier_new(struct ev_loop *loop, const struct notify_dest *dests, size_t ndests,
			      const struct notifier_io *io, const struct notifier_timing *timing)
{
	struct notifier *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->loop = loop;
	n->dests = dests;
	n->ndests = ndests;
	n->io = *io;
	n->timing = timing ? *timing : NOTIFIER_DEFAULT_TIMING;
	/* ids are unique across restarts without asking the database: start from the clock */
	n->next_id = clock_wall_ms() * 1000;
	n->lanes = calloc(ndests ? ndests : 1, sizeof(*n->lanes));
	n->exec = notify_exec_new(loop, NOTIFY_EXEC_MAX_RUNNING, NOTIFY_EXEC_KILL_AFTER_S);
	if (!n->lanes || !n->exec) {
		notifier_free(n);
		return NULL;
	}
	for (size_t i = 0; i < ndests; i++) {
		n->lanes[i].n = n;
		n->lanes[i].idx = i;
		ev_timer_init(&n->lanes[i].retry, on_retry, 1.0, 0.0);
		n->lanes[i].retry.data = &n->lanes[i];
	}
	return n;
}

size_t notifier_pending(const struct notifier *n)
{
	return n->pending;
}

void notifier_each(const struct notifier *n, notifier_msg_fn fn, void *user)
{
	for (size_t i = 0; i < n->ndests; i++)
		for (const struct item *it = n->lanes[i].head; it; it = it->next)
			fn(user, n->dests[i].key, &it->m);
}

void notifier_free(struct notifier *n)
{
	if (!n)
		return;
	n->closing = 1;   /* callbacks from the hooks killed below must not start more */
	for (size_t i = 0; n->lanes && i < n->ndests; i++)
		ev_timer_stop(n->loop, &n->lanes[i].retry);
	notify_exec_free(n->exec);
	for (size_t i = 0; n->lanes && i < n->ndests; i++)
		while (n->lanes[i].head) {   /* still durable: not forgotten */
			struct item *it = n->lanes[i].head;
			n->lanes[i].head = it->next;
			item_free(it);
		}
	free(n->lanes);
	free(n);
}


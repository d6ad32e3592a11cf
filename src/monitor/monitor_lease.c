/* The poller lease, worked by the store writer's thread (its tick, once a second): taking the
 * lease, the poller's heartbeat, forced checks between viewers and the poller. The loop never
 * writes for it and never waits: the thread tells it what changed through an ev_async. */
#include "autoconfig.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "healthtop/core/clock.h"
#include "healthtop/monitor/monitor_shard.h"
#include "healthtop/monitor/monitor_viewer.h"
#include "healthtop/store/store_shard.h"
#include "healthtop/store/store_lease.h"
#include "monitor/monitor_priv.h"

#define FORCE_MAX 256   /* forced checks waiting to be queued or done, at most */
/* Ticks the database may refuse a first decision (it cannot be opened, or another process
 * holds it locked) before this process polls anyway: results are kept and written once it can
 * be, as without a lease, and the lease is taken as soon as the database allows. */
#define DECIDE_TRIES 3

struct names {
	char *v[FORCE_MAX];
	size_t n;
};

static void names_push(struct names *q, const char *name)
{
	char *c;

	if (q->n < FORCE_MAX && (c = strdup(name)))
		q->v[q->n++] = c;
}

static void names_add(void *user, const char *name)
{
	names_push(user, name);
}

static void names_clear(struct names *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->v[i]);
	q->n = 0;
}

struct lease_agent {
	struct monitor *m;
	pthread_mutex_t mu;
	ev_async async;
	void (*fn)(void *user);
	void *user;
	char host[256];
	int64_t pid;
	/* guarded by mu */
	/* What we publish when we poll: as large as the fleet (23 MB of JSON at 100 000 targets),
	 * so a poller drops it once the lease row holds it; the loop writes it again when it is
	 * wanted (a lost lease row, viewer mode). */
	char *config;
	char *lent;                  /* config lent to the writer thread for this tick, or NULL */
	bool want_config;            /* the writer thread needs config and found none */
	bool republish, closing;
	bool config_fixed;           /* the screen holds the targets: never swap the config now */
	bool yielded;                /* polled alone, then daemons polling by shards came */
	struct names to_queue;       /* a viewer's forced checks, for the database */
	struct names to_force;       /* the poller's, from the database */
	enum monitor_role_kind role;
	struct store_lease holder;   /* a viewer's poller (its config borrowed by nobody) */
	/* the thread's own */
	int64_t force_after;
	int failed_ticks;
	/* the loop's own */
	enum monitor_role_kind seen;
	bool lost;
	char warning[256];
};

/* The config we publish is lent to the writer thread for one tick, never copied: it is as large
 * as the fleet (23 MB of JSON at 100 000 targets). A new one published meanwhile leaves the
 * lent one to config_return. Called with mu held. */
static char *config_lend(struct lease_agent *a)
{
	a->lent = a->config;
	return a->config;
}

static void config_return(struct lease_agent *a)
{
	pthread_mutex_lock(&a->mu);
	if (a->lent != a->config)
		free(a->lent);
	a->lent = NULL;
	pthread_mutex_unlock(&a->mu);
}

/* No config to write: the loop is asked for it, and the write waits for the next tick. */
static bool config_missing(struct lease_agent *a, const struct store_lease *me)
{
	if (me->config)
		return false;
	pthread_mutex_lock(&a->mu);
	a->want_config = true;
	pthread_mutex_unlock(&a->mu);
	ev_async_send(a->m->loop, &a->async);
	return true;
}

/* The poller: keep the lease, publish a changed config, take viewers' forced checks. *written:
 * the lease row holds our config. */
static enum monitor_role_kind tick_poller(struct lease_agent *a, struct store *s, struct store_lease *me,
					  bool republish, struct names *forced, bool *written)
{
	struct ht_err err = { "" };
	struct store_lease h = { 0 };
	int rc;

	*written = false;
	if (store_shard_live(s, monitor_shard_lease_ms(), &err) > 0 &&
	    store_lease_release(s, me->pid, me->host, &err) == 0) {
		a->yielded = true;   /* daemons polling by shards came: they poll, we view */
		return MONITOR_VIEWER;
	}
	rc = store_lease_beat(s, me->pid, me->host, clock_wall_ms(), &err);
	*written = rc == 1 && !republish;
	if (rc == 0 || republish) {
		/* no lease row of ours: we polled before the database could be opened, or were taken
		 * for dead and replaced (then stop probing) */
		if (!me->config) {
			pthread_mutex_lock(&a->mu);
			me->config = config_lend(a);
			pthread_mutex_unlock(&a->mu);
		}
		if (config_missing(a, me))
			return MONITOR_POLLER;
		rc = store_lease_take(s, me, clock_wall_ms(), &h, &err);
		*written = rc == 1;
		store_lease_fini(&h);
		if (rc == 0)
			return MONITOR_VIEWER;
		if (rc == 1 && !a->force_after)
			store_force_last(s, &a->force_after, &err);
	}
	store_force_since(s, &a->force_after, names_add, forced, &err);
	return MONITOR_POLLER;
}

/* Deciding or a viewer: take the lease when no live poller holds it, else queue our requests. */
static enum monitor_role_kind tick_viewer(struct lease_agent *a, struct store *s, const struct store_lease *me,
					  struct names *queue, struct store_lease *holder, bool *written)
{
	struct ht_err err = { "" };
	int live, rc;

	if (config_missing(a, me))
		return a->role;
	live = store_shard_live(s, monitor_shard_lease_ms(), &err);
	rc = live > 0 ? 0 : store_lease_take(s, me, clock_wall_ms(), holder, &err);
	*written = rc == 1;
	if (live > 0) {   /* PostgreSQL with daemons polling by shards: we view the whole fleet */
		holder->pid = 0;
		snprintf(holder->host, sizeof(holder->host), "%d poller%s", live, live == 1 ? "" : "s");
	}
	if (rc < 0)
		return ++a->failed_ticks >= DECIDE_TRIES && a->role == MONITOR_DECIDING ? MONITOR_POLLER : a->role;
	if (rc == 1) {
		store_force_last(s, &a->force_after, &err);   /* older requests were someone else's */
		return MONITOR_POLLER;
	}
	for (size_t i = 0; i < queue->n; i++)
		store_force_request(s, queue->v[i], me->pid, me->host, clock_wall_ms(), &err);
	names_clear(queue);
	return MONITOR_VIEWER;
}

static void lease_tick(void *user, struct store *s)
{
	struct lease_agent *a = user;
	struct store_lease me = { .pid = a->pid }, holder = { 0 };
	struct names queue = { .n = 0 }, forced = { .n = 0 };
	enum monitor_role_kind role, next;
	bool closing, republish, written = false;
	struct ht_err err = { "" };

	snprintf(me.host, sizeof(me.host), "%s", a->host);
	if (s) {   /* PostgreSQL keeps who checked each result: this process, when it polls */
		char id[300];
		snprintf(id, sizeof(id), "%s:%lld", a->host, (long long)a->pid);
		store_set_poller(s, id);
	}
	pthread_mutex_lock(&a->mu);
	role = a->role;
	closing = a->closing;
	republish = a->republish;
	a->republish = false;
	/* the poller's heartbeat does not write the config: tick_poller borrows it if it must */
	me.config = role != MONITOR_POLLER || republish ? config_lend(a) : NULL;
	queue = a->to_queue;
	a->to_queue.n = 0;
	pthread_mutex_unlock(&a->mu);
	if (!s)
		next = role == MONITOR_DECIDING && ++a->failed_ticks >= DECIDE_TRIES ? MONITOR_POLLER : role;
	else if (closing)
		next = role == MONITOR_POLLER && store_lease_release(s, me.pid, me.host, &err) == 0 ? MONITOR_DECIDING : role;
	else if (role == MONITOR_POLLER)
		next = tick_poller(a, s, &me, republish, &forced, &written);
	else
		next = tick_viewer(a, s, &me, &queue, &holder, &written);
	names_clear(&queue);
	me.config = NULL;   /* lent, not ours */
	config_return(a);
	store_lease_fini(&me);
	pthread_mutex_lock(&a->mu);
	bool news = next != a->role || forced.n > 0 || (holder.pid && holder.pid != a->holder.pid) ||
		    (!holder.pid && holder.host[0] && strcmp(holder.host, a->holder.host) != 0) ||
		    (holder.config && (!a->holder.config || strcmp(holder.config, a->holder.config) != 0));
	a->role = next;
	if (written && next == MONITOR_POLLER && !a->republish) {
		free(a->config);   /* the lease row holds it; nobody reads it while we poll */
		a->config = NULL;
	}
	if (holder.pid || holder.host[0]) {
		store_lease_fini(&a->holder);
		a->holder = holder;
	}
	for (size_t i = 0; i < forced.n; i++)
		names_push(&a->to_force, forced.v[i]);
	names_clear(&forced);
	pthread_mutex_unlock(&a->mu);
	if (news && !closing)
		ev_async_send(a->m->loop, &a->async);
}

/* A forced check the poller read from the database: one target by name, or all ("" ). */
static void force_named(struct monitor *m, const char *name)
{
	if (!name[0]) {
		sched_force_all(m->sched);
		return;
	}
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->cfg->targets[i].name, name) == 0)
			sched_force(m->sched, i);
}

static void role_changed(struct lease_agent *a, enum monitor_role_kind prev, const char *holder_config,
			 bool differs)
{
	struct monitor *m = a->m;

	if (a->seen == MONITOR_POLLER) {
		viewer_stop(m);   /* what it drew so far stays; from now on results are our own */
		alerts_took_over(m);
		sched_start(m->sched);
	} else if (a->seen == MONITOR_VIEWER && prev == MONITOR_POLLER && a->yielded) {
		for (size_t i = 0; i < m->n; i++)   /* the daemons poll now; what runs still reports */
			sched_stop_one(m->sched, i);
		a->yielded = false;
		viewer_begin(m, NULL, a->warning, sizeof(a->warning));
	} else if (a->seen == MONITOR_VIEWER && prev == MONITOR_POLLER) {
		/* Only after this process stalled past the stale time (another host took it for dead):
		 * the command decides what to do (the daemon exits, so that one process probes). */
		snprintf(a->warning, sizeof(a->warning), "another process took over polling this database");
		a->lost = true;
	} else if (a->seen == MONITOR_VIEWER) {
		viewer_begin(m, a->config_fixed ? NULL : holder_config, a->warning, sizeof(a->warning));
		if (a->config_fixed && differs)
			snprintf(a->warning, sizeof(a->warning), "config differs from the poller's");
	}
	if (a->fn)
		a->fn(a->user);
}

static void on_async(struct ev_loop *loop, ev_async *w, int revents)
{
	struct lease_agent *a = w->data;
	struct names forced;
	char *config;

	pthread_mutex_lock(&a->mu);
	bool need = !a->config && (a->want_config || a->role != MONITOR_POLLER);
	pthread_mutex_unlock(&a->mu);
	char *fresh = need ? viewer_config_json(a->m->cfg) : NULL;   /* ours, written again */
	pthread_mutex_lock(&a->mu);
	if (fresh && !a->config) {
		a->config = fresh;
		fresh = NULL;
	}
	a->want_config = false;
	enum monitor_role_kind role = a->role, prev = a->seen;
	forced = a->to_force;
	a->to_force.n = 0;
	config = a->holder.config ? strdup(a->holder.config) : NULL;
	bool differs = config && a->config && strcmp(config, a->config) != 0;
	pthread_mutex_unlock(&a->mu);
	free(fresh);
	if (role != prev) {
		a->seen = role;
		role_changed(a, prev, config, differs);
	} else if (role == MONITOR_VIEWER && differs) {
		/* the poller reloaded its config: follow it, or (a screen holds ours) say so */
		viewer_begin(a->m, a->config_fixed ? NULL : config, a->warning, sizeof(a->warning));
		if (a->config_fixed)
			snprintf(a->warning, sizeof(a->warning), "config differs from the poller's");
		if (a->fn)
			a->fn(a->user);
	}
	free(config);
	for (size_t i = 0; i < forced.n; i++)
		if (a->seen == MONITOR_POLLER)
			force_named(a->m, forced.v[i]);
	names_clear(&forced);
}

int monitor_enable_lease(struct monitor *m, void (*fn)(void *user), void *user, struct ht_err *err)
{
	struct lease_agent *a = calloc(1, sizeof(*a));

	if (!a || !(a->config = viewer_config_json(m->cfg))) {
		free(a);
		ht_err_set(err, "out of memory joining the poller lease");
		return -1;
	}
	a->m = m;
	a->fn = fn;
	a->user = user;
	a->pid = (int64_t)getpid();
	if (gethostname(a->host, sizeof(a->host) - 1) != 0)
		snprintf(a->host, sizeof(a->host), "localhost");
	pthread_mutex_init(&a->mu, NULL);
	ev_async_init(&a->async, on_async);
	a->async.data = a;
	ev_async_start(m->loop, &a->async);
	ev_unref(m->loop);   /* like the writer's: never what keeps a loop alive */
	m->lease = a;
	store_writer_set_tick(m->writer, lease_tick, a);
	return 0;
}

void monitor_role(const struct monitor *m, struct monitor_role *out)
{
	struct lease_agent *a = m->lease;

	memset(out, 0, sizeof(*out));
	out->kind = a ? a->seen : MONITOR_POLLER;
	if (!a || a->seen != MONITOR_VIEWER)
		return;
	pthread_mutex_lock(&a->mu);
	out->pid = a->holder.pid;
	snprintf(out->host, sizeof(out->host), "%s", a->holder.host);
	pthread_mutex_unlock(&a->mu);
	out->warning = a->warning[0] ? a->warning : NULL;
	out->lost = a->lost;
}

int monitor_lease_wait(struct monitor *m, double wait_s)
{
	ev_tstamp until = ev_now(m->loop) + wait_s;

	while (m->lease && m->lease->seen == MONITOR_DECIDING && ev_now(m->loop) < until) {
		ev_run(m->loop, EVRUN_ONCE | EVRUN_NOWAIT);
		usleep(5000);
		ev_now_update(m->loop);
	}
	if (m->lease) {
		pthread_mutex_lock(&m->lease->mu);
		m->lease->config_fixed = true;
		pthread_mutex_unlock(&m->lease->mu);
	}
	return m->lease && m->lease->seen == MONITOR_DECIDING ? -1 : 0;
}

bool lease_polling(const struct monitor *m)
{
	return !m->lease || m->lease->seen == MONITOR_POLLER;
}

bool lease_forward_force(struct monitor *m, const char *name)
{
	struct lease_agent *a = m->lease;

	if (lease_polling(m))
		return false;
	pthread_mutex_lock(&a->mu);
	names_push(&a->to_queue, name);
	pthread_mutex_unlock(&a->mu);
	store_writer_poke(m->writer);   /* queued now, not within the second */
	return true;
}

void lease_publish(struct monitor *m)
{
	struct lease_agent *a = m->lease;
	char *json;

	if (!a || !(json = viewer_config_json(m->cfg)))
		return;
	pthread_mutex_lock(&a->mu);
	if (a->config != a->lent)
		free(a->config);   /* else config_return frees it */
	a->config = json;
	a->republish = true;
	pthread_mutex_unlock(&a->mu);
}

void lease_end(struct monitor *m)
{
	if (!m->lease)
		return;
	pthread_mutex_lock(&m->lease->mu);
	m->lease->closing = true;   /* the writer's last tick gives the lease up */
	pthread_mutex_unlock(&m->lease->mu);
	viewer_stop(m);
}

void lease_free(struct monitor *m)
{
	struct lease_agent *a = m->lease;

	if (!a)
		return;
	ev_ref(m->loop);
	ev_async_stop(m->loop, &a->async);
	names_clear(&a->to_queue);
	names_clear(&a->to_force);
	store_lease_fini(&a->holder);
	free(a->config);
	pthread_mutex_destroy(&a->mu);
	free(a);
	m->lease = NULL;
}

/* A daemon with --location (monitor_quorum.h): its location's class goes to PostgreSQL when it
 * changes, through the writer's thread, and comes back as a claim when this daemon is the one
 * to notify; the other locations' classes are read in the shard round, never on the loop. */
#include "autoconfig.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/clock.h"
#include "healthtop/core/name_map.h"
#include "healthtop/core/quorum.h"
#include "healthtop/monitor/monitor_shard.h"
#include "healthtop/notify/notifier.h"
#include "healthtop/store/store_quorum.h"
#include "monitor/monitor_priv.h"
#include "monitor/monitor_quorum_priv.h"

#define READ_MAX 20000      /* other locations' changes read per round */

/* ---- a daemon with --location: its class goes to the database, claims come back ---- */

struct publish_op {
	struct quorum *q;
	int cls, quorum;
	bool settle;             /* settle the combined class even if our class is unchanged */
	int64_t max_age_ms;
	char name[];
};

static int publish_run(struct store *s, void *arg, struct ht_err *err)
{
	struct publish_op *op = arg;
	struct quorum *q = op->q;
	struct store_quorum_claim c;

	if (store_quorum_publish(s, op->name, op->cls, op->quorum, op->max_age_ms, op->settle, &c, err) < 0)
		return -1;
	if (!c.claimed)
		return 0;
	pthread_mutex_lock(&q->mu);
	if (q->nclaims == q->claims_cap) {
		size_t cap = q->claims_cap ? q->claims_cap * 2 : 16;
		struct claim *v = realloc(q->claims, cap * sizeof(*v));
		if (v) {
			q->claims = v;
			q->claims_cap = cap;
		}
	}
	char *name = q->nclaims < q->claims_cap ? strdup(op->name) : NULL;
	if (name) {   /* out of memory: the change is settled, its notification lost (and logged nowhere) */
		struct claim *cl = &q->claims[q->nclaims++];
		*cl = (struct claim){ name, c.old_cls, (int)c.v.cls, "", c.since_ms, c.at_ms };
		snprintf(cl->reason, sizeof(cl->reason), "%s", c.v.reason);
	}
	pthread_mutex_unlock(&q->mu);
	ev_async_send(q->m->loop, &q->async);
	return 0;
}

/* Hands target idx's class from here (cls) to the writer, to settle the combined class. */
static bool push_publish(struct monitor *m, size_t idx, int cls, bool settle)
{
	const struct ht_target *t = &m->cfg->targets[idx];
	size_t len = strlen(t->name);
	struct publish_op *op = malloc(sizeof(*op) + len + 1);

	if (!op)
		return false;
	int64_t lease2 = 2 * monitor_shard_lease_ms(), age = (int64_t)QUORUM_STALE_INTERVALS * t->interval_s * 1000;
	*op = (struct publish_op){ m->quorum, cls, t->quorum, settle, age > lease2 ? age : lease2 };
	memcpy(op->name, t->name, len + 1);
	return store_writer_push_op(m->writer, publish_run, free, op) != 0;
}

bool quorum_own_result(struct monitor *m, size_t idx, const struct ht_target *t, const struct observation *o)
{
	struct quorum *q = m->quorum;

	if (!q || !q->own)
		return false;   /* no --location: notifications as ever */
	if (!quorum_sized(q) || idx >= q->n || q->published[idx] == o->soft.shown || !m->writer || o->soft.shown < 0)
		return true;
	if (push_publish(m, idx, o->soft.shown, false))
		q->published[idx] = o->soft.shown;
	return true;
}

/* A location came or went: where any location says more than healthy, the combined class may
 * move with nobody's class changing (b and c gone, a's down alone is the outage now). */
static void settle_unhealthy(struct quorum *q)
{
	struct monitor *m = q->m;

	for (size_t i = 0; i < q->n && m->writer; i++) {
		const struct qtarget *t = q->multi[i];
		bool unhealthy = m->states[i].soft.shown > HT_HEALTHY;
		for (uint8_t k = 0; t && k < t->n && !unhealthy; k++)
			unhealthy = t->v[k].soft.shown > HT_HEALTHY;
		if (t && unhealthy && m->states[i].soft.shown >= 0)
			push_publish(m, i, m->states[i].soft.shown, true);
	}
}

static const char *target_name(const void *cfg, size_t i)
{
	return ((const struct ht_config *)cfg)->targets[i].name;
}

/* Another location's class, as the shard round read it. */
static void apply_read(struct quorum *q, struct name_map *map, const struct qread *r)
{
	size_t idx = name_map_find(map, r->name);
	uint8_t l = quorum_loc(q, r->loc), own = quorum_loc(q, q->own);

	if (idx == SIZE_MAX || !l || !own || !quorum_sized(q))
		return;
	if (!q->multi[idx] && !quorum_entry(&q->multi[idx], own))
		return;
	struct qloc *e = quorum_entry(&q->multi[idx], l);
	if (!e)
		return;
	e->soft.shown = (int8_t)r->cls;
	e->poller = quorum_poller(q, r->poller, r->loc);
}

static void apply_live(struct quorum *q, char **live, size_t n)
{
	bool was[LOCS_MAX];

	memcpy(was, q->alive, sizeof(was));
	memset(q->alive, 0, sizeof(q->alive));
	for (size_t i = 0; i < n; i++) {
		uint8_t l = quorum_loc(q, live[i]);
		if (l)
			q->alive[l - 1] = true;
	}
	uint8_t own = quorum_loc(q, q->own);
	if (own)
		q->alive[own - 1] = true;   /* we are here */
	if (memcmp(was, q->alive, sizeof(was)) != 0 && q->primed)
		settle_unhealthy(q);
	q->primed = true;   /* the first read only says who is there */
}

/* Target idx's change of combined class, told to the log and (unless muted) the notifier. */
static void announce(struct monitor *m, size_t idx, const struct claim *c)
{
	const struct ht_target *t = &m->cfg->targets[idx];
	char line[512];
	struct notifier *n = alerts_notifier(m);
	const char *from = ht_class_name((enum ht_class)c->old_cls), *to = ht_class_name((enum ht_class)c->new_cls);
	bool muted = monitor_muted(m, idx, clock_wall_ms());

	/* the daemon's own lines say what its location sees; this one what the fleet agreed */
	snprintf(line, sizeof(line), "%s: %s -> %s across locations (%s)%s", t->name, from, to,
		 c->reason[0] ? c->reason : "no location sees it unhealthy",
		 muted && m->cfg->nnotify ? " while muted: nobody notified" : "");
	if (m->alert_log)
		m->alert_log(m->alert_log_user, line);
	if (muted || !n)
		return;
	struct notify_event e = { t->name, t->project, t->display_url, c->old_cls, c->new_cls, c->reason,
				  c->since_ms, c->at_ms };
	notifier_announce(n, &e);
}

static void claim_announce(struct quorum *q, struct name_map *map, const struct claim *c)
{
	size_t idx = name_map_find(map, c->name);

	if (idx != SIZE_MAX)   /* a target a reload removed meanwhile: nobody to tell of it */
		announce(q->m, idx, c);
}

static void on_async(struct ev_loop *loop, ev_async *w, int revents)
{
	struct quorum *q = w->data;
	struct name_map map;

	pthread_mutex_lock(&q->mu);
	struct qread *reads = q->reads;
	size_t nreads = q->nreads;
	struct claim *claims = q->claims;
	size_t nclaims = q->nclaims;
	char **live = q->live;
	size_t nlive = q->nlive;
	q->reads = NULL;
	q->nreads = q->reads_cap = 0;
	q->claims = NULL;
	q->nclaims = q->claims_cap = 0;
	q->live = NULL;
	pthread_mutex_unlock(&q->mu);
	if (live)
		apply_live(q, live, nlive);
	if ((nreads || nclaims) && name_map_init(&map, q->m->n, target_name, q->m->cfg) == 0) {
		for (size_t i = 0; i < nreads; i++)
			apply_read(q, &map, &reads[i]);
		for (size_t i = 0; i < nclaims; i++)
			claim_announce(q, &map, &claims[i]);
		name_map_fini(&map);
	}
	quorum_reads_free(reads, nreads);
	quorum_live_free(live, nlive);
	for (size_t i = 0; i < nclaims; i++)
		free(claims[i].name);
	free(claims);
}

struct tick_ctx {
	struct qread *v;
	size_t n, cap;
	char **live;
	size_t nlive;
	bool oom;
};

static void read_add(void *user, const char *name, const char *loc, int cls, const char *poller)
{
	struct tick_ctx *c = user;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct qread *v = realloc(c->v, cap * sizeof(*v));
		if (!v) {
			c->oom = true;
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	struct qread *r = &c->v[c->n];
	*r = (struct qread){ strdup(name), strdup(loc), poller ? strdup(poller) : NULL, cls };
	if (!r->name || !r->loc) {
		free(r->name);
		free(r->loc);
		free(r->poller);
		c->oom = true;
		return;
	}
	c->n++;
}

static void live_add(void *user, const char *loc)
{
	struct tick_ctx *c = user;
	char **v = realloc(c->live, (c->nlive + 1) * sizeof(*v));

	if (!v || !(v[c->nlive] = strdup(loc))) {
		if (v)
			c->live = v;
		c->oom = true;
		return;
	}
	c->live = v;
	c->nlive++;
}

void quorum_tick(struct monitor *m, struct store *s)
{
	struct quorum *q = m->quorum;
	struct tick_ctx c = { NULL, 0, 0, NULL, 0, false };
	struct ht_err err = { "" };
	int64_t after;

	if (!q || !q->own || !s)
		return;
	pthread_mutex_lock(&q->mu);
	after = q->after;
	pthread_mutex_unlock(&q->mu);
	int64_t was = after;
	/* the others' changes, then who is alive: a change read from a location is never older
	 * than the liveness that counts it */
	if (store_quorum_since(s, &after, READ_MAX, read_add, &c, &err) < 0 || c.oom ||
	    store_quorum_live(s, monitor_shard_lease_ms(), live_add, &c, &err) < 0 || c.oom) {
		quorum_reads_free(c.v, c.n);
		quorum_live_free(c.live, c.nlive);
		return;   /* read again from the same place next round */
	}
	pthread_mutex_lock(&q->mu);
	q->after = after;
	if (q->nreads == 0) {
		quorum_reads_free(q->reads, q->nreads);
		q->reads = c.v;
		q->nreads = c.n;
		q->reads_cap = c.cap;
		c.v = NULL;
		c.n = 0;
	} else {   /* the loop has not taken the last round's yet: read these again */
		q->after = was;
	}
	quorum_live_free(q->live, q->nlive);
	q->live = c.live;
	q->nlive = c.nlive;
	pthread_mutex_unlock(&q->mu);
	quorum_reads_free(c.v, c.n);
	ev_async_send(m->loop, &q->async);
}

int quorum_enable(struct monitor *m, const char *location)
{
	struct quorum *q = location && location[0] ? quorum_get(m) : NULL;

	if (!location || !location[0])
		return 0;
	if (!q || !(q->own = strdup(location)))
		return -1;
	ev_async_init(&q->async, on_async);
	q->async.data = q;
	ev_async_start(m->loop, &q->async);
	ev_unref(m->loop);   /* like the writer's: never what keeps a loop alive */
	return 0;
}


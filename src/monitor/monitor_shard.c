/* Polling by shards (monitor_shard.h), worked by the store writer's thread: its tick runs a
 * round every third of a lease and hands the shards held to the loop through an ev_async. The
 * loop starts the targets of shards gained (continuing the cadence of whoever checked them
 * last) and stops those of shards lost. */
#include "autoconfig.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "healthtop/core/clock.h"
#include "healthtop/monitor/monitor_shard.h"
#include "healthtop/monitor/monitor_viewer.h"
#include "healthtop/store/store_lease.h"
#include "healthtop/store/store_shard.h"
#include "monitor/monitor_priv.h"

struct last_seen {
	char *name;
	int64_t at_ms;
};

struct last_list {
	struct last_seen *v;
	size_t n, cap;
	bool oom;
};

#define FORCED_MAX 256
#define FIRST_SPREAD_MAX_S 60.0   /* first checks of a shard's unchecked targets: spread over this at most */   /* forced checks read from the database, waiting for the loop */

struct forced {
	char *v[FORCED_MAX];
	size_t n;
};

static void forced_add(void *user, const char *name)
{
	struct forced *f = user;
	char *c;

	if (f->n < FORCED_MAX && (c = strdup(name)))
		f->v[f->n++] = c;
}

static void forced_clear(struct forced *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i]);
	f->n = 0;
}

struct shard_agent {
	struct monitor *m;
	pthread_mutex_t mu;
	ev_async async;
	void (*fn)(void *user);
	void *user;
	char id[300];
	char location[128];          /* "" none */
	int64_t lease_ms;
	/* guarded by mu */
	uint64_t held;               /* after the newest round */
	struct last_list *last;      /* newest results, read when shards were gained (NULL: none) */
	bool closing;
	struct forced forced;        /* viewers' forced checks, for the loop */
	int64_t max_interval_ms;     /* how far back a gained target's last result is looked for */
	char error[256];
	/* the thread's own */
	uint64_t thread_held;
	int64_t next_round_ms;
	int64_t force_after;         /* the newest forced check read; -1 until the first round */
	/* the loop's own */
	uint64_t applied;            /* shards whose targets run on m->sched */
	char shown_error[256];
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t monitor_shard_lease_ms(void)
{
	const char *env = getenv("HEALTHTOP_SHARD_LEASE_MS");
	char *end;
	long long v = env ? strtoll(env, &end, 10) : 0;

	if (!env || end == env || *end || v < 300 || v > 3600000)
		return STORE_SHARD_LEASE_MS;
	return v;
}

static void last_add(void *user, const char *name, int64_t at_ms)
{
	struct last_list *l = user;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct last_seen *v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			l->oom = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n].name = strdup(name))) {
		l->oom = true;
		return;
	}
	l->v[l->n++].at_ms = at_ms;
}

static void last_free(struct last_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	free(l);
}

static int last_cmp(const void *a, const void *b)
{
	return strcmp(((const struct last_seen *)a)->name, ((const struct last_seen *)b)->name);
}

/* Shards gained: whoever checked their targets before us, and when (NULL when unknown). */
static struct last_list *read_last(struct store *s, int64_t max_interval_ms)
{
	struct last_list *l = calloc(1, sizeof(*l));
	struct ht_err err = { "" };

	if (!l || store_last_checked(s, clock_wall_ms() - 2 * max_interval_ms, last_add, l, &err) < 0 || l->oom) {
		last_free(l);
		return NULL;
	}
	if (l->n > 1)   /* an empty list has no array: qsort must not see its NULL */
		qsort(l->v, l->n, sizeof(*l->v), last_cmp);
	return l;
}

/* Whether a dashboard polls the fleet alone (the one-poller lease, live). It gives way once it
 * sees our shards leased; we start checking only after, so no target is checked by both in one
 * interval, and read_last then sees its final checks and continues their cadence. */
static bool dashboard_polls(struct store *s)
{
	struct store_lease l = { 0 };
	struct ht_err err = { "" };
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	bool live = store_lease_read(s, &l, &err) == 1 && store_lease_alive(&l, host, clock_wall_ms());
	store_lease_fini(&l);
	return live;
}

/* On the writer's thread: a round when one is due, or giving everything back when closing. */
static void shard_tick(void *user, struct store *s)
{
	struct shard_agent *a = user;
	struct ht_err err = { "" };
	struct last_list *last = NULL;
	uint64_t held = 0;
	int64_t now = mono_ms();

	pthread_mutex_lock(&a->mu);
	bool closing = a->closing;
	int64_t max_iv = a->max_interval_ms;
	pthread_mutex_unlock(&a->mu);
	if (closing) {
		if (s)   /* shards may be leased and not yet applied (dashboard_polls) */
			store_shard_leave(s, a->id, &err);   /* the others need not wait for the lease */
		a->thread_held = 0;
		return;
	}
	if (now < a->next_round_ms)
		return;
	a->next_round_ms = now + a->lease_ms / 3;
	if (s) {
		store_set_poller(s, a->id);
		store_set_location(s, a->location[0] ? a->location : NULL);
	}
	int rc = s ? store_shard_round(s, a->id, a->lease_ms, &held, &err) : -1;
	/* A round that fails keeps what we hold: the database (or our way to it) is away, and a
	 * target nobody checks is an outage nobody sees. If only we are cut off, the others take
	 * our shards once the lease expires and both check them until our next good round says
	 * they are gone: a partition costs duplicate checks, never missed ones. */
	if (rc < 0)
		held = a->thread_held;
	else if (held && dashboard_polls(s))
		held = 0;
	if (!s && !err.msg[0])
		snprintf(err.msg, sizeof(err.msg), "the database cannot be opened");
	if (rc == 0 && (held & ~a->thread_held))
		last = read_last(s, max_iv);
	if (rc == 0)
		quorum_tick(a->m, s);
	struct forced forced = { .n = 0 };
	if (rc == 0 && a->force_after < 0)   /* older requests were for whoever polled then */
		store_force_last(s, &a->force_after, &err);
	else if (rc == 0)
		store_force_since(s, &a->force_after, forced_add, &forced, &err);
	bool news = held != a->thread_held || rc < 0 || forced.n > 0;
	a->thread_held = held;
	pthread_mutex_lock(&a->mu);
	a->held = held;
	snprintf(a->error, sizeof(a->error), "%s", rc < 0 ? err.msg : "");
	if (last) {
		last_free(a->last);
		a->last = last;
	}
	for (size_t i = 0; i < forced.n; i++)
		forced_add(&a->forced, forced.v[i]);
	pthread_mutex_unlock(&a->mu);
	forced_clear(&forced);
	if (news)
		ev_async_send(a->m->loop, &a->async);
}

/* When target i of a shard just gained is checked: at once (*now) or not, and in how many
 * seconds its timer first fires. */
static double first_in(const struct monitor *m, size_t i, const struct last_list *last, bool *now)
{
	const struct ht_target *t = &m->cfg->targets[i];
	struct last_seen key = { (char *)t->name, 0 }, *hit;

	*now = false;
	if (!last)   /* nothing known (a reload): spread over the interval */
		return sched_first_tick(i, m->n, t->interval_s);
	/* Overdue or never checked: spread over the interval, or the first minute of a longer one,
	 * by place in the config (as Nagios spreads its first checks). "At once" put a new fleet's
	 * every target in the same second, and pollers gaining those shards kept that cadence for
	 * good (a start lag p99 of 5-10 s at 100 000 targets, bench/pg_pollers.py). */
	double window = t->interval_s < FIRST_SPREAD_MAX_S ? t->interval_s : FIRST_SPREAD_MAX_S;
	double spread = window * (double)i / (double)(m->n ? m->n : 1);
	if (last->n == 0 || !(hit = bsearch(&key, last->v, last->n, sizeof(*last->v), last_cmp))) {
		*now = spread <= 0;
		return spread;
	}
	int64_t age = clock_wall_ms() - hit->at_ms;
	if (age < 0)
		return t->interval_s;
	if (age >= (int64_t)t->interval_s * 1000) {
		*now = spread <= 0;
		return spread;
	}
	return ((int64_t)t->interval_s * 1000 - age) / 1000.0;   /* the previous poller's cadence */
}

static void apply(struct shard_agent *a, uint64_t held, const struct last_list *last)
{
	struct monitor *m = a->m;

	if (held == a->applied)
		return;
	for (size_t i = 0; i < m->n; i++) {
		uint64_t bit = 1ull << store_shard_of(m->cfg->targets[i].name);
		bool now;
		if ((held & bit) && !(a->applied & bit)) {
			double after = first_in(m, i, last, &now);
			sched_start_one(m->sched, i, now, after);
		} else if (!(held & bit) && (a->applied & bit)) {
			sched_stop_one(m->sched, i);
		}
	}
	a->applied = held;
}

/* A viewer's forced check (name "" : all), carried out when the target is in our shards. */
static void force_held(struct shard_agent *a, const char *name)
{
	struct monitor *m = a->m;

	for (size_t i = 0; i < m->n; i++)
		if ((!name[0] || strcmp(m->cfg->targets[i].name, name) == 0) &&
		    (a->applied & (1ull << store_shard_of(m->cfg->targets[i].name))))
			sched_force(m->sched, i);
}

static void on_async(struct ev_loop *loop, ev_async *w, int revents)
{
	struct shard_agent *a = w->data;
	struct forced forced;

	pthread_mutex_lock(&a->mu);
	forced = a->forced;
	a->forced.n = 0;
	uint64_t held = a->held;
	struct last_list *last = a->last;
	a->last = NULL;
	bool error_changed = strcmp(a->error, a->shown_error) != 0;
	snprintf(a->shown_error, sizeof(a->shown_error), "%s", a->error);
	pthread_mutex_unlock(&a->mu);
	bool changed = held != a->applied;
	apply(a, held, last);
	last_free(last);
	for (size_t i = 0; i < forced.n; i++)
		force_held(a, forced.v[i]);
	forced_clear(&forced);
	if ((changed || error_changed) && a->fn)
		a->fn(a->user);
}

static int64_t max_interval_ms(const struct ht_config *cfg)
{
	int64_t max = 1000;

	for (size_t i = 0; i < cfg->ntargets; i++)
		if ((int64_t)cfg->targets[i].interval_s * 1000 > max)
			max = (int64_t)cfg->targets[i].interval_s * 1000;
	return max;
}

int monitor_enable_shards(struct monitor *m, const char *id, const char *location, void (*fn)(void *user),
			  void *user, struct ht_err *err)
{
	struct shard_agent *a = calloc(1, sizeof(*a));
	char host[256] = "localhost";

	if (!a) {
		ht_err_set(err, "out of memory joining the shard leases");
		return -1;
	}
	if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "localhost");
	if (id)
		snprintf(a->id, sizeof(a->id), "%s", id);
	else
		snprintf(a->id, sizeof(a->id), "%s:%lld", host, (long long)getpid());
	snprintf(a->location, sizeof(a->location), "%s", location ? location : "");
	probe_set_location(m->probe, location);
	if (quorum_enable(m, location) < 0) {
		free(a);
		ht_err_set(err, "out of memory joining the shard leases");
		return -1;
	}
	a->m = m;
	a->fn = fn;
	a->user = user;
	a->lease_ms = monitor_shard_lease_ms();
	a->force_after = -1;
	a->max_interval_ms = max_interval_ms(m->cfg);
	pthread_mutex_init(&a->mu, NULL);
	ev_async_init(&a->async, on_async);
	a->async.data = a;
	ev_async_start(m->loop, &a->async);
	ev_unref(m->loop);   /* like the writer's: never what keeps a loop alive */
	ev_unref(m->loop);
	m->shards = a;
	store_writer_set_tick(m->writer, shard_tick, a);
	return 0;
}

void shards_start(struct monitor *m)
{
	struct shard_agent *a = m->shards;

	pthread_mutex_lock(&a->mu);
	a->max_interval_ms = max_interval_ms(m->cfg);
	uint64_t held = a->held;
	pthread_mutex_unlock(&a->mu);
	a->applied = 0;   /* a new scheduler (start, reload) runs nothing yet */
	apply(a, held, NULL);
}

int monitor_shards(const struct monitor *m, struct monitor_shards *out)
{
	struct shard_agent *a = m->shards;

	memset(out, 0, sizeof(*out));
	if (!a)
		return -1;
	out->held = __builtin_popcountll(a->applied);
	for (size_t i = 0; i < m->n; i++)
		if (a->applied & (1ull << store_shard_of(m->cfg->targets[i].name)))
			out->targets++;
	out->id = a->id;
	out->error = a->shown_error[0] ? a->shown_error : NULL;
	return 0;
}

void shards_end(struct monitor *m)
{
	if (!m->shards)
		return;
	pthread_mutex_lock(&m->shards->mu);
	m->shards->closing = true;   /* the writer's last tick gives the shards back */
	pthread_mutex_unlock(&m->shards->mu);
}

void shards_free(struct monitor *m)
{
	struct shard_agent *a = m->shards;

	if (!a)
		return;
	ev_ref(m->loop);
	ev_async_stop(m->loop, &a->async);
	ev_ref(m->loop);
	last_free(a->last);
	forced_clear(&a->forced);
	pthread_mutex_destroy(&a->mu);
	free(a);
	m->shards = NULL;
}

/* A name seen before is the same pointer: one copy per poller, however many targets. */
static const char *intern(struct monitor *m, const char *name)
{
	char **v;

	for (size_t i = 0; i < m->npollers; i++)
		if (strcmp(m->pollers[i], name) == 0)
			return m->pollers[i];
	if (!(v = realloc(m->pollers, (m->npollers + 1) * sizeof(*v))))
		return NULL;
	m->pollers = v;
	if (!(v[m->npollers] = strdup(name)))
		return NULL;
	return v[m->npollers++];
}

void poller_seen(struct monitor *m, size_t idx, const char *poller)
{
	if (!poller && idx >= m->npoller_of)
		return;
	if (idx >= m->npoller_of) {
		const char **v = realloc(m->poller_of, m->n * sizeof(*v));
		if (!v || idx >= m->n)
			return;   /* out of memory: the detail view says nothing of it */
		memset(v + m->npoller_of, 0, (m->n - m->npoller_of) * sizeof(*v));
		m->poller_of = v;
		m->npoller_of = m->n;
	}
	m->poller_of[idx] = poller ? intern(m, poller) : NULL;
}

void pollers_reset(struct monitor *m)
{
	free(m->poller_of);
	m->poller_of = NULL;
	m->npoller_of = 0;
}

void pollers_fini(struct monitor *m)
{
	pollers_reset(m);
	for (size_t i = 0; i < m->npollers; i++)
		free(m->pollers[i]);
	free(m->pollers);
	m->pollers = NULL;
	m->npollers = 0;
}

const char *monitor_poller(const struct monitor *m, size_t idx)
{
	struct monitor_role r;

	if (m->shards)
		return m->shards->id;
	monitor_role(m, &r);
	if (r.kind == MONITOR_POLLER)   /* our own results: known when stored, by store_set_poller */
		return NULL;
	return idx < m->npoller_of ? m->poller_of[idx] : NULL;
}

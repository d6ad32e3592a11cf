#include "autoconfig.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/clock.h"
#include "healthtop/core/name_map.h"
#include "monitor/monitor_priv.h"

/* Every minute, the checks that left the window are taken back (monitor_window.c). */
#define REFRESH_WINDOW_S 60.0
/* A dashboard or daemon asked to stop waits this long for another process's lock to go. */
#define CLOSE_WAIT_S 10.0

/* When target s's displayed state began; read before a result is applied. */
static int64_t alerts_since(const struct target_state *s)
{
	const struct state_change *c = state_change_at(s, 0);
	struct state_sample oldest;
	bool have_oldest = s->ring_n && state_sample_get(s, s->ring_n - 1u, &oldest);

	if (s->shown_since_ms)
		return s->shown_since_ms;
	/* no change known: the state began no later than the oldest sample kept */
	return c ? c->at_ms : have_oldest ? oldest.at_ms : 0;
}

/* Every result, from the current config or a retired one, is judged here and only here. t is
 * the target as it was checked; idx its place in the current config. */
static void apply_result(struct monitor *m, size_t idx, const struct ht_target *t,
			 const struct probe_result *r)
{
	struct target_state *s = &m->states[idx];
	struct observation o;
	int64_t since;

	history_ring_due(m, idx);
	since = alerts_since(s);
	observe(t, r, s, clock_wall_ms() / 1000, &o);
	state_show(s, &o.soft, o.row.checked_at_ms);
	state_add_sample(s, o.row.checked_at_ms, o.latency_ms, o.verdict.cls);
	if (state_set_last(s, &o.last, o.verdict.body.comps, o.verdict.body.ncomps) < 0)
		state_set_last(s, &o.last, NULL, 0);   /* no memory for the components: the rest still */
	state_window_add_check(s, o.verdict.cls, o.latency_ms >= 0 ? hist_bucket(o.latency_ms) : -1, o.up);
	/* a change not yet confirmed is checked again soon: an outage is confirmed in seconds */
	if (state_change_pending(s, &m->cfg->targets[idx].soft))
		sched_retry_in(m->sched, idx, m->cfg->targets[idx].retry_interval_s);
	m->live[idx]++;
	if (o.row.checked_at_ms > m->last_result_ms)
		m->last_result_ms = o.row.checked_at_ms;
	queue_row(m, idx, &o);
	metrics_count(m, idx, o.verdict.cls, o.changed, o.latency_ms);
	metrics_lag(m, r);
	alerts_result(m, idx, t, &o, since);
	if (m->hooks.on_result)
		m->hooks.on_result(m->hooks.user, idx, o.changed, o.from);
}

static void on_result(void *user, size_t idx, struct probe_result *r)
{
	struct monitor *m = user;

	apply_result(m, idx, &m->cfg->targets[idx], r);
}

/* A check started before a reload: it counts for the target of the same name, if any is left
 * (rt->to: where each of its targets is in the current config, kept by every reload since). */
static void on_retired_result(void *user, size_t idx, struct probe_result *r)
{
	struct retired *rt = user;
	const struct ht_target *t = &rt->cfg->targets[idx];
	size_t now_at = rt->to[idx];

	if (now_at == SIZE_MAX) {
		drop_results(rt->m, 1, "its target was removed by a reload while it was being checked");
		return;
	}
	sched_adopt(rt->m->sched, (size_t)now_at, false);
	apply_result(rt->m, (size_t)now_at, t, r);
}

static void retired_free(struct retired *rt)
{
	sched_free(rt->sched);
	config_free(rt->cfg);
	free(rt->cfg);
	free(rt->to);
	free(rt);
}

static void reap_retired(struct monitor *m)
{
	size_t k = 0;

	for (size_t i = 0; i < m->nretired; i++) {
		if (sched_idle(m->retired[i]->sched))
			retired_free(m->retired[i]);
		else
			m->retired[k++] = m->retired[i];
	}
	m->nretired = k;
}

uint64_t monitor_reload_compares(const struct monitor *m)
{
	return m->reload_compares;
}

int64_t monitor_window(const struct monitor *m)
{
	return m->window_s;
}

/* Schedulers replaced by a reload go once their last check has reported. */
static void on_reap_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct monitor *m = t->data;

	reap_retired(m);
	if (m->nretired == 0)
		ev_timer_stop(loop, t);
}

static void on_window_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct monitor *m = t->data;

	monitor_window_refresh(m, clock_wall_ms());
}

/* Per-target arrays for a config of n targets; keys are filled by the caller. */
struct targets {
	struct target_state *states;
	struct target_key **keys;
	uint64_t *live;
	size_t n;
};

static int targets_alloc(struct targets *ts, size_t n)
{
	ts->states = calloc(n ? n : 1, sizeof(*ts->states));
	ts->keys = calloc(n ? n : 1, sizeof(*ts->keys));
	ts->live = calloc(n ? n : 1, sizeof(*ts->live));
	ts->n = n;
	if (!ts->states || !ts->keys || !ts->live) {
		free(ts->states);
		free(ts->keys);
		free(ts->live);
		return -1;
	}
	return 0;
}

static void set_retention(struct monitor *m)
{
	const struct ht_retention *r = &m->cfg->retention;

	m->retention = (struct store_retention){ r->raw_days, r->hourly_days, r->daily_days };
}

static int monitor_init(struct monitor *m, struct ev_loop *loop, struct ht_config *cfg, struct ht_err *err)
{
	struct targets ts;

	m->loop = loop;
	m->cfg = cfg;
	if (targets_alloc(&ts, cfg->ntargets) < 0)
		return -1;
	m->states = ts.states;
	m->keys = ts.keys;
	m->live = ts.live;
	m->n = ts.n;
	for (size_t i = 0; i < m->n; i++) {
		state_init(&m->states[i]);   /* calloc's zero would be a shown class of "healthy" */
		if (!(m->keys[i] = key_new(&cfg->targets[i])))
			return -1;
	}
	if (!(m->probe = probe_new(loop, (unsigned)cfg->concurrency, err)))
		return -2;
	if (!(m->sched = sched_new(loop, m->probe, cfg, on_result, m)))
		return -1;
	return 0;
}

struct monitor *monitor_new(struct ev_loop *loop, struct ht_config *cfg, const char *db_path,
			    const struct monitor_hooks *hooks, struct ht_err *err)
{
	struct monitor *m = calloc(1, sizeof(*m));
	int rc = m ? monitor_init(m, loop, cfg, err) : -1;

	if (rc < 0) {
		if (rc == -1)
			ht_err_set(err, "out of memory starting the monitor");
		if (m)
			monitor_free(m);   /* frees cfg too */
		else {
			config_free(cfg);
			free(cfg);
		}
		return NULL;
	}
	monitor_set_hooks(m, hooks);
	m->window_s = 3600;
	snprintf(m->db_path, sizeof(m->db_path), "%s", db_path);
	ev_timer_init(&m->window_timer, on_window_timer, REFRESH_WINDOW_S, REFRESH_WINDOW_S);
	m->window_timer.data = m;
	ev_timer_init(&m->reap_timer, on_reap_timer, 1.0, 1.0);
	m->reap_timer.data = m;
	set_retention(m);
	if (!(m->writer = store_writer_new(loop, db_path, 0, &m->retention, writer_event, m, err))) {
		monitor_free(m);
		return NULL;
	}
	struct ht_err later = { "" };   /* a storage error is told by the status hooks, as results are */

	history_read(m, true, &later);   /* the first slice now, the rest a slice per loop turn */
	return m;
}

void monitor_start(struct monitor *m)
{
	struct ht_err err = { "" };

	if (!history_current(m))   /* a reload: the new targets' rings, every window */
		history_read(m, true, &err);
	ev_timer_start(m->loop, &m->window_timer);
	alerts_start(m);   /* after the history is read: a restart does not announce the past */
	if (m->shards)
		shards_start(m);
	else if (lease_polling(m))   /* a viewer (or one still deciding) never probes */
		sched_start(m->sched);
}

void monitor_set_hooks(struct monitor *m, const struct monitor_hooks *hooks)
{
	static const struct monitor_hooks none = { NULL, NULL, NULL };

	m->hooks = hooks ? *hooks : none;
}

void monitor_set_drop_hook(struct monitor *m, monitor_drop_fn fn, void *user)
{
	m->on_dropped = fn;
	m->drop_user = user;
}

int monitor_force(struct monitor *m, size_t i)
{
	if (i < m->n && lease_forward_force(m, m->cfg->targets[i].name))
		return 0;   /* queued for the poller */
	return i < m->n ? sched_force(m->sched, i) : -1;
}

void monitor_force_all(struct monitor *m)
{
	if (!lease_forward_force(m, ""))
		sched_force_all(m->sched);
}

static const char *target_name(const void *cfg, size_t i)
{
	return ((const struct ht_config *)cfg)->targets[i].name;
}

/* Moves what is known of each target that keeps its name into ts; to[j] is where old target j
 * went (SIZE_MAX: removed). The old names are hashed once: a walk of them per new target made a
 * reload of 100 000 targets O(n^2). */
static int carry_over(struct monitor *m, const struct ht_config *cfg, struct targets *ts, size_t *to)
{
	struct name_map old;
	int rc = 0;

	for (size_t j = 0; j < m->n; j++)
		to[j] = SIZE_MAX;
	if (name_map_init(&old, m->n, target_name, m->cfg) < 0)
		return -1;
	for (size_t i = 0; i < cfg->ntargets && rc == 0; i++) {
		size_t j = name_map_find(&old, cfg->targets[i].name);
		if (j == SIZE_MAX) {
			state_init(&ts->states[i]);
			ts->keys[i] = key_new(&cfg->targets[i]);
		} else {
			ts->states[i] = m->states[j];
			ts->keys[i] = m->keys[j];
			ts->live[i] = m->live[j];
			to[j] = i;
		}
		if (!ts->keys[i])
			rc = -1;
	}
	m->reload_compares = old.compares;
	name_map_fini(&old);
	return rc;
}

/* Checks still running from older configs now find their targets through to as well. */
static void retired_remap(struct monitor *m, const size_t *to)
{
	for (size_t k = 0; k < m->nretired; k++) {
		struct retired *rt = m->retired[k];
		for (size_t i = 0; i < rt->cfg->ntargets; i++)
			rt->to[i] = rt->to[i] == SIZE_MAX ? SIZE_MAX : to[rt->to[i]];
	}
}

/* Undoes carry_over: the old arrays still hold everything that moved. */
static void targets_abandon(struct targets *ts, const size_t *to, size_t old_n)
{
	for (size_t j = 0; j < old_n; j++)
		if (to[j] != SIZE_MAX)
			ts->keys[to[j]] = NULL;
	for (size_t i = 0; i < ts->n; i++)
		key_free(ts->keys[i]);
	free(ts->states);
	free(ts->keys);
	free(ts->live);
}

/* The old arrays give up what moved, and the keys no target uses any more (removed targets,
 * and the old name of a project or URL that changed) wait for their pending rows: a result is
 * stored with the URL that was checked. Without memory for a new key, a target keeps its old
 * one, which still names the same stored target. */
static void swap_targets(struct monitor *m, const struct ht_config *cfg, struct targets *ts, const size_t *to)
{
	for (size_t j = 0; j < m->n; j++) {
		if (to[j] != SIZE_MAX) {
			const struct ht_target *t = &cfg->targets[to[j]];
			struct target_key *k = key_same(m->keys[j], t) ? NULL : key_new(t);
			if (k) {
				key_free(m->keys[j]);   /* the writer copied what it needs */
				ts->keys[to[j]] = k;
			}
			continue;
		}
		state_fini(&m->states[j]);
		key_free(m->keys[j]);
	}
	for (size_t i = 0; i < m->npending; i++) {
		struct pending *p = &m->pending[i];
		p->idx = p->idx == SIZE_MAX ? SIZE_MAX : to[p->idx];
	}
	free(m->states);
	free(m->keys);
	free(m->live);
	m->states = ts->states;
	m->keys = ts->keys;
	m->ids_tried_at = 0;
	m->live = ts->live;
	m->n = ts->n;
}

/* Pending rows are never thrown away here: they keep their target's key and are written by the
 * next flush that succeeds, whatever the reload changed. */
int monitor_reload(struct monitor *m, struct ht_config *cfg, struct ht_err *err)
{
	struct targets ts;
	struct retired *rt;
	size_t *to;
	struct sched *next = NULL;

	reap_retired(m);
	if (m->nretired == RETIRED_MAX) {
		ht_err_set(err, "too many reloads while checks are still running; try again");
		return -1;
	}
	rt = malloc(sizeof(*rt));
	to = malloc((m->n ? m->n : 1) * sizeof(*to));
	if (!rt || !to || targets_alloc(&ts, cfg->ntargets) < 0) {
		free(rt);
		free(to);
		ht_err_set(err, "out of memory reloading");
		return -1;
	}
	if (carry_over(m, cfg, &ts, to) < 0 || !(next = sched_new(m->loop, m->probe, cfg, on_result, m))) {
		targets_abandon(&ts, to, m->n);
		free(rt);
		free(to);
		ht_err_set(err, "out of memory reloading");
		return -1;
	}
	for (size_t j = 0; j < m->n; j++)   /* what the old config has running, the new one waits for */
		if (to[j] != SIZE_MAX)
			sched_adopt(next, to[j], sched_in_flight(m->sched, j));
	metrics_remap(m, to, m->n, ts.n);
	retired_remap(m, to);
	swap_targets(m, cfg, &ts, to);
	*rt = (struct retired){ m, m->sched, m->cfg, to };
	sched_retire(m->sched, on_retired_result, rt);
	m->retired[m->nretired++] = rt;
	ev_timer_start(m->loop, &m->reap_timer);
	m->sched = next;
	m->cfg = cfg;
	probe_set_concurrency(m->probe, (unsigned)cfg->concurrency);
	lease_publish(m);
	pollers_reset(m);   /* by index: the new config's differ */
	quorum_reset(m);
	set_retention(m);
	store_writer_set_retention(m->writer, &m->retention);
	monitor_start(m);
	return 0;
}

size_t monitor_close(struct monitor *m, double wait_s)
{
	size_t unwritten = 0;

	if (!m)
		return 0;
	store_async_free(m->pga);   /* first: reads under way end (-ECANCELED) while what they name lives */
	m->pga = NULL;
	m->pg_closed = true;
	alerts_free(m);   /* before the probe goes: webhooks in flight use it */
	history_free(m);
	ev_timer_stop(m->loop, &m->window_timer);
	ev_timer_stop(m->loop, &m->reap_timer);
	probe_free(m->probe);   /* no check completes after this */
	for (size_t i = 0; i < m->nretired; i++)
		retired_free(m->retired[i]);
	sched_free(m->sched);
	lease_end(m);
	shards_end(m);
	if (m->writer) {
		writer_event(m);
		unwritten = store_writer_close(m->writer, wait_s);
		m->writer = NULL;
		if (unwritten > 0)
			drop_results(m, unwritten, "the database could not be written before exit");
	}
	for (size_t i = 0; i < m->n; i++) {
		state_fini(&m->states[i]);
		key_free(m->keys ? m->keys[i] : NULL);
	}
	lease_free(m);
	shards_free(m);
	pollers_fini(m);
	quorum_free(m);   /* after the writer: its last ops still report to it */
	store_close(m->store);
	config_free(m->cfg);
	free(m->cfg);
	free(m->states);
	free(m->keys);
	free(m->live);
	free(m->pending);
	metrics_fini(m);
	free(m);
	return unwritten;
}

void monitor_free(struct monitor *m)
{
	monitor_close(m, CLOSE_WAIT_S);
}

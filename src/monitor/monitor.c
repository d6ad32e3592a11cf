#include "autoconfig.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "healthtop/core/clock.h"
#include "healthtop/monitor/monitor.h"
#include "healthtop/probe/probe.h"
#include "healthtop/sched/sched.h"

#define FLUSH_EVERY_S 1.0
#define FLUSH_BATCH 512
#define PENDING_MAX 100000
#define REFRESH_WINDOW_S 300.0
#define RETIRED_MAX 8
#define PRUNE_EVERY_S 600.0
#define PRUNE_STEP_ROWS 2000
#define PRUNE_PAUSE_S 0.05
/* The loop must not wait on another process's lock: probes in flight would overrun their
 * timeouts. A busy database fails fast and the flush is retried a second later. */
#define WRITE_BUSY_MS 100

struct pending {
	struct store_row row;
	char reason[192];
	char error[192];
};

struct monitor {
	struct ev_loop *loop;
	struct probe *probe;
	struct sched *sched;
	struct sched *retired[RETIRED_MAX];
	size_t nretired;
	struct target_state *states;
	int64_t *ids;            /* store ids, 0 until known */
	size_t n;
	struct store *store;
	char db_path[1024];
	char storage_error[512];
	struct pending *pending;
	size_t npending;
	size_t pending_cap;
	size_t dropped;
	ev_timer flush_timer;
	ev_timer window_timer;
	ev_timer prune_timer;
	struct store_retention retention;
	int64_t window_s;
	int64_t last_result_ms;
	struct monitor_hooks hooks;
};

static void storage_failed(struct monitor *m, const char *msg)
{
	bool news = strcmp(m->storage_error, msg) != 0;

	snprintf(m->storage_error, sizeof(m->storage_error), "%s", msg);
	if (news && m->hooks.on_storage)
		m->hooks.on_storage(m->hooks.user, m->storage_error);
}

static void storage_ok(struct monitor *m)
{
	if (m->storage_error[0] == '\0')
		return;
	m->storage_error[0] = '\0';
	if (m->hooks.on_storage)
		m->hooks.on_storage(m->hooks.user, NULL);
}

static const struct ht_config *cfg_of(const struct monitor *m)
{
	return sched_config(m->sched);
}

/* Opens the store if needed and learns every target's id. */
static int ensure_store(struct monitor *m)
{
	struct ht_err err = { "" };
	const struct ht_config *cfg = cfg_of(m);

	if (!m->store) {
		if (store_open(m->db_path, &m->store, &err) < 0) {
			storage_failed(m, err.msg);
			return -1;
		}
		store_set_busy_timeout(m->store, WRITE_BUSY_MS);
	}
	for (size_t i = 0; i < m->n; i++) {
		const struct ht_target *t = &cfg->targets[i];
		if (m->ids[i] == 0 && store_target_id(m->store, t->name, t->project, t->display_url, &m->ids[i], &err) < 0) {
			storage_failed(m, err.msg);
			return -1;
		}
	}
	return 0;
}

struct replay {
	struct state_sample samples[STATE_RING];
	size_t n;
	struct state_last last;
};

static void collect_recent(void *user, const struct store_read_row *row)
{
	struct replay *rp = user;

	if (rp->n == 0) {
		rp->last = (struct state_last){
			.at_ms = row->checked_at_ms, .cls = row->cls, .http_code = row->http_code,
			.total_ms = (float)row->response_ms, .dns_ms = (float)row->dns_ms,
			.connect_ms = (float)row->connect_ms, .tls_ms = (float)row->tls_ms,
			.ttfb_ms = (float)row->ttfb_ms, .cert_expiry = row->cert_expiry,
		};
		snprintf(rp->last.reason, sizeof(rp->last.reason), "%s", row->reason);
	}
	if (rp->n < STATE_RING)
		rp->samples[rp->n++] = (struct state_sample){
			row->checked_at_ms, row->http_code > 0 ? (float)row->response_ms : -1.0f, (uint8_t)row->cls };
}

/* The past on screen at once: the newest results of each target, oldest first. */
static void load_history(struct monitor *m, size_t i)
{
	struct replay *rp = calloc(1, sizeof(*rp));
	struct ht_err err = { "" };

	if (!rp || !m->store || m->ids[i] == 0) {
		free(rp);
		return;
	}
	if (store_recent(m->store, m->ids[i], STATE_RING, collect_recent, rp, &err) < 0)
		storage_failed(m, err.msg);
	for (size_t k = rp->n; k-- > 0;)
		state_add_sample(&m->states[i], rp->samples[k].at_ms, rp->samples[k].ms, rp->samples[k].cls);
	if (rp->n > 0) {
		state_set_last(&m->states[i], &rp->last, NULL, 0);
		if (rp->last.at_ms > m->last_result_ms)
			m->last_result_ms = rp->last.at_ms;
	}
	free(rp);
}

static void queue_row(struct monitor *m, size_t idx, const struct probe_result *r, const struct ht_verdict *v)
{
	struct pending *p;

	if (m->npending == m->pending_cap) {
		size_t cap = m->pending_cap ? m->pending_cap * 2 : 64;
		struct pending *np = cap <= PENDING_MAX ? realloc(m->pending, cap * sizeof(*np)) : NULL;
		if (!np) {   /* storage has been failing for a long while: keep the newest in memory only */
			m->dropped++;
			return;
		}
		m->pending = np;
		m->pending_cap = cap;
	}
	p = &m->pending[m->npending++];
	p->row = (struct store_row){
		.target_id = (int64_t)idx,   /* resolved to the store id at flush */
		.checked_at_ms = r->started_ms, .cls = v->cls, .http_code = r->http_code,
		.response_ms = r->total_ms, .dns_ms = r->dns_ms, .connect_ms = r->connect_ms,
		.tls_ms = r->tls_ms, .ttfb_ms = r->ttfb_ms, .cert_expiry = r->cert_expiry,
		.url = cfg_of(m)->targets[idx].display_url,
	};
	snprintf(p->reason, sizeof(p->reason), "%s", v->reason);
	snprintf(p->error, sizeof(p->error), "%s", r->error);
	if (m->npending >= FLUSH_BATCH)
		monitor_flush(m);
	else if (!ev_is_active(&m->flush_timer))
		ev_timer_start(m->loop, &m->flush_timer);
}

static void on_result(void *user, size_t idx, const struct probe_result *r, const struct ht_verdict *v)
{
	struct monitor *m = user;
	struct target_state *s = &m->states[idx];
	struct state_last last = {
		.at_ms = r->started_ms, .cls = v->cls, .http_code = r->http_code,
		.total_ms = (float)r->total_ms, .dns_ms = (float)r->dns_ms, .connect_ms = (float)r->connect_ms,
		.tls_ms = (float)r->tls_ms, .ttfb_ms = (float)r->ttfb_ms, .cert_expiry = r->cert_expiry,
	};
	enum ht_class from = s->checked ? s->last.cls : v->cls;
	double ms = r->http_code > 0 ? r->total_ms : -1;   /* latency only when something answered */

	snprintf(last.reason, sizeof(last.reason), "%s", v->reason);
	bool changed = state_add_sample(s, r->started_ms, ms, v->cls);
	state_set_last(s, &last, v->body.comps, v->body.ncomps);
	state_window_add(s, v->cls, ms >= 0 ? hist_bucket(ms) : -1, 1);
	if (r->started_ms > m->last_result_ms)
		m->last_result_ms = r->started_ms;
	queue_row(m, idx, r, v);
	if (m->hooks.on_result)
		m->hooks.on_result(m->hooks.user, idx, changed, from);
}

int monitor_flush(struct monitor *m)
{
	struct ht_err err = { "" };
	struct store_row *rows;

	if (m->npending == 0)
		return 0;
	if (ensure_store(m) < 0)
		return -1;
	rows = malloc(m->npending * sizeof(*rows));
	if (!rows) {
		storage_failed(m, "out of memory writing results");
		return -1;
	}
	for (size_t i = 0; i < m->npending; i++) {
		rows[i] = m->pending[i].row;
		rows[i].target_id = m->ids[m->pending[i].row.target_id];
		rows[i].reason = m->pending[i].reason;
		rows[i].error = m->pending[i].error;
	}
	int rc = store_append_batch(m->store, rows, m->npending, &err);
	free(rows);
	if (rc < 0) {
		storage_failed(m, err.msg);
		return -1;
	}
	m->npending = 0;
	storage_ok(m);
	return 0;
}

static void reap_retired(struct monitor *m)
{
	size_t k = 0;

	for (size_t i = 0; i < m->nretired; i++) {
		if (sched_idle(m->retired[i]))
			sched_free(m->retired[i]);
		else
			m->retired[k++] = m->retired[i];
	}
	m->nretired = k;
}

static void on_flush_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct monitor *m = t->data;

	reap_retired(m);
	if (monitor_flush(m) == 0 && m->npending == 0)
		ev_timer_stop(loop, t);   /* nothing left: sleep until the next result */
}

struct id_index {
	int64_t id;
	size_t idx;
};

static int cmp_id(const void *a, const void *b)
{
	const struct id_index *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

struct window_ctx {
	struct monitor *m;
	struct id_index *map;
};

static void add_window_row(void *user, int64_t target_id, enum ht_class cls, int bucket, uint32_t count)
{
	struct window_ctx *w = user;
	struct id_index key = { target_id, 0 };
	struct id_index *hit = bsearch(&key, w->map, w->m->n, sizeof(*w->map), cmp_id);

	if (hit)
		state_window_add(&w->m->states[hit->idx], cls, bucket, count);
}

int monitor_set_window(struct monitor *m, int64_t window_s, struct ht_err *err)
{
	struct window_ctx w = { m, calloc(m->n ? m->n : 1, sizeof(*w.map)) };
	int rc = 0;

	m->window_s = window_s;
	if (!w.map) {
		ht_err_set(err, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < m->n; i++)
		state_window_reset(&m->states[i]);
	monitor_flush(m);
	if (ensure_store(m) == 0) {
		for (size_t i = 0; i < m->n; i++)
			w.map[i] = (struct id_index){ m->ids[i], i };
		qsort(w.map, m->n, sizeof(*w.map), cmp_id);
		int64_t now = clock_wall_ms();
		rc = store_window(m->store, now - window_s * 1000, now, add_window_row, &w, err);
		if (rc < 0)
			storage_failed(m, err->msg);
	}
	/* Results not yet written still count. */
	for (size_t i = 0; i < m->npending; i++) {
		const struct store_row *r = &m->pending[i].row;
		state_window_add(&m->states[r->target_id], r->cls,
				 r->http_code > 0 ? hist_bucket(r->response_ms) : -1, 1);
	}
	free(w.map);
	return rc;
}

int64_t monitor_window(const struct monitor *m)
{
	return m->window_s;
}

static void on_window_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct monitor *m = t->data;
	struct ht_err err = { "" };

	monitor_set_window(m, m->window_s, &err);   /* drops what aged out of the window */
}

/* Old history goes in small transactions with pauses between, so a sweep or the screen never
 * waits for it. */
static void on_prune_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct monitor *m = t->data;
	struct ht_err err = { "" };
	int deleted = 0;

	ev_timer_stop(loop, t);
	if (m->store && store_prune_step(m->store, &m->retention, clock_wall_ms(), PRUNE_STEP_ROWS, &deleted, &err) < 0)
		storage_failed(m, err.msg);
	ev_timer_set(t, deleted == PRUNE_STEP_ROWS ? PRUNE_PAUSE_S : PRUNE_EVERY_S, 0.0);
	ev_timer_start(loop, t);
}

static int alloc_targets(struct monitor *m, size_t n)
{
	m->states = calloc(n ? n : 1, sizeof(*m->states));
	m->ids = calloc(n ? n : 1, sizeof(*m->ids));
	m->n = n;
	for (size_t i = 0; m->states && i < n; i++)
		state_init(&m->states[i]);
	return m->states && m->ids ? 0 : -1;
}

struct monitor *monitor_new(struct ev_loop *loop, struct ht_config *cfg, const char *db_path,
			    const struct monitor_hooks *hooks, struct ht_err *err)
{
	struct monitor *m = calloc(1, sizeof(*m));

	if (!m || alloc_targets(m, cfg->ntargets) < 0 ||
	    !(m->probe = probe_new(loop, (unsigned)cfg->concurrency, err)) ||
	    !(m->sched = sched_new(loop, m->probe, cfg, on_result, m))) {
		if (!m || !m->sched) {
			config_free(cfg);
			free(cfg);
		}
		if (m) {
			probe_free(m->probe);
			free(m->pending);
			free(m->states);
			free(m->ids);
			free(m);
		}
		ht_err_set(err, "out of memory starting the monitor");
		return NULL;
	}
	m->loop = loop;
	monitor_set_hooks(m, hooks);
	m->window_s = 3600;
	snprintf(m->db_path, sizeof(m->db_path), "%s", db_path);
	ev_timer_init(&m->flush_timer, on_flush_timer, FLUSH_EVERY_S, FLUSH_EVERY_S);
	m->flush_timer.data = m;
	ev_timer_init(&m->window_timer, on_window_timer, REFRESH_WINDOW_S, REFRESH_WINDOW_S);
	m->window_timer.data = m;
	ev_timer_init(&m->prune_timer, on_prune_timer, 5.0, 0.0);
	m->prune_timer.data = m;
	m->retention = (struct store_retention){ cfg->retention.raw_days, cfg->retention.hourly_days,
						 cfg->retention.daily_days };
	if (ensure_store(m) == 0)
		for (size_t i = 0; i < m->n; i++)
			load_history(m, i);
	return m;
}

void monitor_start(struct monitor *m)
{
	struct ht_err err = { "" };

	monitor_set_window(m, m->window_s, &err);
	ev_timer_start(m->loop, &m->window_timer);
	if (!ev_is_active(&m->prune_timer))
		ev_timer_start(m->loop, &m->prune_timer);
	sched_start(m->sched);
}

void monitor_set_hooks(struct monitor *m, const struct monitor_hooks *hooks)
{
	static const struct monitor_hooks none = { NULL, NULL, NULL };

	m->hooks = hooks ? *hooks : none;
}

bool monitor_in_flight(const struct monitor *m, size_t i)
{
	return sched_in_flight(m->sched, i);
}

unsigned monitor_concurrency(const struct monitor *m)
{
	return probe_concurrency(m->probe);
}

size_t monitor_count(const struct monitor *m)
{
	return m->n;
}

const struct ht_target *monitor_target(const struct monitor *m, size_t i)
{
	return &cfg_of(m)->targets[i];
}

const struct target_state *monitor_state(const struct monitor *m, size_t i)
{
	return &m->states[i];
}

int64_t monitor_last_result_ms(const struct monitor *m)
{
	return m->last_result_ms;
}

const char *monitor_storage_error(const struct monitor *m)
{
	return m->storage_error[0] ? m->storage_error : NULL;
}

struct store *monitor_store(struct monitor *m)
{
	return ensure_store(m) == 0 ? m->store : NULL;
}

const char *monitor_db_path(const struct monitor *m)
{
	return m->db_path;
}

int monitor_force(struct monitor *m, size_t i)
{
	return i < m->n ? sched_force(m->sched, i) : -1;
}

void monitor_force_all(struct monitor *m)
{
	sched_force_all(m->sched);
}

static ssize_t find_name(const struct ht_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ntargets; i++)
		if (strcmp(cfg->targets[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

int monitor_reload(struct monitor *m, struct ht_config *cfg, struct ht_err *err)
{
	struct monitor fresh = { .n = 0 };
	struct sched *next;
	const struct ht_config *old = cfg_of(m);

	reap_retired(m);
	if (m->nretired == RETIRED_MAX) {
		ht_err_set(err, "too many reloads while checks are still running; try again");
		return -1;
	}
	monitor_flush(m);   /* pending rows refer to the old targets' positions */
	if (alloc_targets(&fresh, cfg->ntargets) < 0 || !(next = sched_new(m->loop, m->probe, cfg, on_result, m))) {
		free(fresh.states);
		free(fresh.ids);
		ht_err_set(err, "out of memory reloading");
		return -1;
	}
	for (size_t i = 0; i < cfg->ntargets; i++) {
		ssize_t j = find_name(old, cfg->targets[i].name);
		if (j >= 0) {   /* same target: keep what we know of it */
			fresh.states[i] = m->states[j];
			state_init(&m->states[j]);
		}
	}
	for (size_t i = 0; i < m->n; i++)
		state_fini(&m->states[i]);
	free(m->states);
	free(m->ids);
	m->states = fresh.states;
	m->ids = fresh.ids;
	m->n = fresh.n;
	m->npending = 0;
	sched_retire(m->sched);
	m->retired[m->nretired++] = m->sched;
	m->sched = next;
	probe_set_concurrency(m->probe, (unsigned)cfg->concurrency);
	m->retention = (struct store_retention){ cfg->retention.raw_days, cfg->retention.hourly_days,
						 cfg->retention.daily_days };
	if (ensure_store(m) == 0)
		for (size_t i = 0; i < m->n; i++)
			if (m->states[i].ring_n == 0)
				load_history(m, i);
	monitor_start(m);
	return 0;
}

void monitor_free(struct monitor *m)
{
	if (!m)
		return;
	monitor_flush(m);
	ev_timer_stop(m->loop, &m->flush_timer);
	ev_timer_stop(m->loop, &m->window_timer);
	ev_timer_stop(m->loop, &m->prune_timer);
	probe_free(m->probe);   /* no check completes after this */
	for (size_t i = 0; i < m->nretired; i++)
		sched_free(m->retired[i]);
	sched_free(m->sched);
	for (size_t i = 0; i < m->n; i++)
		state_fini(&m->states[i]);
	store_close(m->store);
	free(m->states);
	free(m->ids);
	free(m->pending);
	free(m);
}

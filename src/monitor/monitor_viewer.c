/* A viewer: draws what the poller stores, reading only the results newer than the last it drew
 * (one indexed query a second, never a rescan), and never probes. */
#include "autoconfig.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/clock.h"
#include "healthtop/monitor/monitor_viewer.h"
#include "healthtop/store/store_lease.h"
#include "monitor/monitor_priv.h"

#define VIEWER_EVERY_S 1.0
/* Rows drawn per second at most: a viewer far behind catches up over a few seconds. */
#define VIEWER_ROWS_MAX 20000
/* Gaps below the newest id read, asked for again this long (a writer's transaction lasts a
 * batch, well under this; a rolled-back one never comes) and this many at most. */
#define GAP_KEEP_S 60.0
#define GAPS_MAX 20000

static int cmp_vid(const void *a, const void *b)
{
	const struct viewer_id *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

/* Stored ids to targets, learnt again when a row names a target we do not know yet. */
static void learn_ids(struct monitor *m)
{
	struct viewer *v = &m->viewer;
	struct viewer_id *ids;

	/* PostgreSQL: the ids are learnt asynchronously, this takes those known so far */
	if ((ensure_store(m) < 0 && !m->pga) || !(ids = malloc((m->n ? m->n : 1) * sizeof(*ids))))
		return;
	for (size_t i = 0; i < m->n; i++)
		ids[i] = (struct viewer_id){ m->keys[i]->id, i };
	qsort(ids, m->n, sizeof(*ids), cmp_vid);
	free(v->ids);
	v->ids = ids;
	v->nids = m->n;
}

static ssize_t find_id(struct monitor *m, int64_t id, bool *learnt)
{
	struct viewer_id key = { id, 0 }, *hit;

	for (;;) {
		hit = m->viewer.ids ? bsearch(&key, m->viewer.ids, m->viewer.nids, sizeof(key), cmp_vid) : NULL;
		if (hit || *learnt)
			return hit ? (ssize_t)hit->idx : -1;
		*learnt = true;   /* once per poll: an unknown target of another config costs one read */
		learn_ids(m);
	}
}

struct draw_ctx {
	struct monitor *m;
	bool learnt;
};

/* One stored result, judged as the poller judged it: the raw class stored, the displayed one
 * stepped with the same anti-flap rules (observe() does the same for the poller). */
static void draw_row(void *user, const struct store_read_row *row, bool up)
{
	struct draw_ctx *c = user;
	struct monitor *m = c->m;
	ssize_t idx = find_id(m, row->target_id, &c->learnt);

	if (idx < 0)
		return;
	history_ring_due(m, (size_t)idx);
	struct target_state *s = &m->states[idx];
	struct soft_state soft = s->soft;
	struct state_sample newest;
	bool have_newest = state_sample_get(s, 0, &newest);
	int from = SOFT_STATE_UNKNOWN;
	double ms = row->http_code > 0 ? row->response_ms : -1;

	if (have_newest && row->checked_at_ms < s->last.at_ms) {
		/* a late commit older than what is shown (several pollers): it counts, it is not news */
		state_window_add_check(s, row->cls, ms >= 0 ? hist_bucket(ms) : -1, up);
		m->live[idx]++;
		return;
	}
	if (soft.shown == SOFT_STATE_UNKNOWN && have_newest)
		soft.shown = (int8_t)newest.cls;
	bool changed;
	if (!quorum_row(m, (size_t)idx, row, &soft, &from, &changed))   /* several locations: combined */
		changed = soft_state_step(&soft, &m->cfg->targets[idx].soft, row->cls, &from) &&
			  from != SOFT_STATE_UNKNOWN;
	state_show(s, &soft, row->checked_at_ms);
	state_add_sample(s, row->checked_at_ms, ms, row->cls);
	struct state_last last = {
		.at_ms = row->checked_at_ms, .cls = row->cls, .http_code = row->http_code,
		.total_ms = (float)row->response_ms, .dns_ms = (float)row->dns_ms,
		.connect_ms = (float)row->connect_ms, .tls_ms = (float)row->tls_ms,
		.ttfb_ms = (float)row->ttfb_ms, .cert_expiry = row->cert_expiry,
	};
	snprintf(last.reason, sizeof(last.reason), "%s", row->reason);
	state_set_last(s, &last, NULL, 0);
	poller_seen(m, (size_t)idx, row->poller);
	state_window_add_check(s, row->cls, ms >= 0 ? hist_bucket(ms) : -1, up);
	m->live[idx]++;
	metrics_count(m, (size_t)idx, row->cls, changed, ms);
	if (row->checked_at_ms > m->last_result_ms)
		m->last_result_ms = row->checked_at_ms;
	if (m->hooks.on_result)
		m->hooks.on_result(m->hooks.user, (size_t)idx, changed,
				   changed ? (enum ht_class)from : (enum ht_class)soft.shown);
}

/* ---- PostgreSQL: new rows read asynchronously; ids that commit late are not missed ---- */

struct pg_draw {
	struct draw_ctx c;
	int64_t newest;          /* the highest id read so far in this answer */
};

static int cmp_gap(const void *a, const void *b)
{
	const struct viewer_gap *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

/* Every id between the newest read and this row's is a gap (rows come by id). */
static void gaps_add(struct viewer *v, int64_t from, int64_t to, double now)
{
	for (int64_t id = from; id < to && v->ngaps < GAPS_MAX; id++)
		v->gaps[v->ngaps++] = (struct viewer_gap){ id, now };
}

static void pg_row(void *user, const struct store_read_row *row, bool up)
{
	struct pg_draw *d = user;
	struct viewer *v = &d->c.m->viewer;
	struct viewer_gap key = { row->id, 0 }, *hit;
	/* a target whose id is not learnt yet (the listing is asynchronous): its row is a gap too */
	bool known = find_id(d->c.m, row->target_id, &d->c.learnt) >= 0;

	if (row->id <= v->after) {   /* a late commit: drawn now, no longer a gap */
		if (!known || !v->gaps || !(hit = bsearch(&key, v->gaps, v->ngaps, sizeof(key), cmp_gap)) ||
		    hit->since < 0)
			return;
		hit->since = -1;
	} else {
		if (v->gaps)
			gaps_add(v, d->newest + 1, known ? row->id : row->id + 1, ev_now(d->c.m->loop));
		d->newest = row->id;
		if (!known)
			return;
	}
	draw_row(&d->c, row, up);
}

/* Drops the gaps drawn and those too old to come. */
static void gaps_keep(struct viewer *v, double now)
{
	size_t o = 0;

	for (size_t i = 0; i < v->ngaps; i++)
		if (v->gaps[i].since >= 0 && now - v->gaps[i].since < GAP_KEEP_S)
			v->gaps[o++] = v->gaps[i];
	v->ngaps = o;
}

static void pg_drawn(void *user, int rc, const char *err)
{
	struct pg_draw *d = user;
	struct monitor *m = d->c.m;

	m->viewer.busy = false;   /* closing too: the monitor is still whole (its reader goes first) */
	if (rc != -ECANCELED) {
		if (rc < 0)
			pg_read_failed(m, rc, err);
		if (d->newest > m->viewer.after)
			m->viewer.after = d->newest;
		gaps_keep(&m->viewer, ev_now(m->loop));
	}
	free(d);
}

static void pg_last(void *user, int64_t id)
{
	struct monitor *m = user;

	m->viewer.after = id;
	m->viewer.after_known = true;
}

static void pg_last_done(void *user, int rc, const char *err)
{
	struct monitor *m = user;

	m->viewer.busy = false;
	pg_read_failed(m, rc, err);
}

static void pg_poll(struct monitor *m, struct store_async *a)
{
	struct viewer *v = &m->viewer;
	struct ht_err err = { "" };
	struct pg_draw *d;
	int rc;

	if (v->busy)
		return;   /* one read at a time: the next tick asks again */
	if (!v->gaps)
		v->gaps = malloc(GAPS_MAX * sizeof(*v->gaps));
	ensure_store(m);   /* ids of targets stored since: answered first */
	if (!v->after_known)
		rc = store_async_results_last(a, pg_last, pg_last_done, m, &err);
	else if (!(d = calloc(1, sizeof(*d))))
		return;
	else {
		*d = (struct pg_draw){ { m, false }, v->after };
		int64_t *ids = malloc((v->ngaps ? v->ngaps : 1) * sizeof(*ids));
		for (size_t i = 0; ids && i < v->ngaps; i++)
			ids[i] = v->gaps[i].id;
		rc = ids ? store_async_results_since(a, v->after, ids, v->ngaps, VIEWER_ROWS_MAX, pg_row, pg_drawn, d, &err)
			 : -1;
		free(ids);
		if (rc < 0)
			free(d);
	}
	if (rc < 0)
		pg_read_failed(m, rc, err.msg[0] ? err.msg : "out of memory");
	else
		v->busy = true;
}

static void on_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct monitor *m = t->data;
	struct draw_ctx c = { m, false };
	struct ht_err err = { "" };

	if (pg_reader(m)) {
		pg_poll(m, m->pga);
		return;
	}
	if (ensure_store(m) < 0)
		return;
	if (store_results_since(m->store, &m->viewer.after, VIEWER_ROWS_MAX, draw_row, &c, &err) < 0)
		storage_failed(m, err.msg);
}

/* Our config for the poller's, when they differ: the reload keeps what is known by name. */
static void show_poller_config(struct monitor *m, const char *json, char *warning, size_t size)
{
	struct ht_config *cfg = calloc(1, sizeof(*cfg));
	struct ht_err err = { "" };

	if (!cfg || config_parse(json, strlen(json), "the poller's config", NULL, cfg, &err) < 0 ||
	    monitor_reload(m, cfg, &err) < 0) {
		snprintf(warning, size, "the poller's config differs from this one and cannot be shown: %s",
			 cfg ? err.msg : "out of memory");
		if (cfg)
			config_free(cfg);
		free(cfg);
		return;
	}
	snprintf(warning, size, "config differs from the poller's: showing its %zu targets", m->n);
}

void viewer_begin(struct monitor *m, const char *poller_config, char *warning, size_t size)
{
	struct viewer *v = &m->viewer;
	struct ht_err err = { "" };
	/* only to compare: 100 000 targets make 0.2 s of JSON, for a dashboard that keeps its own */
	char *mine = poller_config && poller_config[0] ? viewer_config_json(m->cfg) : NULL;

	if (poller_config && poller_config[0] && (!mine || strcmp(mine, poller_config) != 0))
		show_poller_config(m, poller_config, warning, size);
	free(mine);
	if (v->running)
		return;
	/* history was read back at start: from here on, only what is new */
	v->after_known = false;
	v->ngaps = 0;
	if (pg_reader(m))
		pg_poll(m, m->pga);   /* the newest id, asynchronously */
	else if (ensure_store(m) < 0 || store_results_last(m->store, &v->after, &err) < 0)
		v->after = 0;
	learn_ids(m);
	ev_timer_init(&v->timer, on_timer, VIEWER_EVERY_S, VIEWER_EVERY_S);
	v->timer.data = m;
	ev_timer_start(m->loop, &v->timer);
	v->running = true;
}

void viewer_stop(struct monitor *m)
{
	struct viewer *v = &m->viewer;

	if (v->running) {
		/* what the old poller stored last is drawn too (PostgreSQL: when the answer comes) */
		on_timer(m->loop, &v->timer, 0);
		ev_timer_stop(m->loop, &v->timer);
	}
	v->running = false;
	if (v->busy)
		return;   /* the answer still finds the ids; learn_ids or the next begin frees them */
	free(v->ids);
	v->ids = NULL;
	v->nids = 0;
	free(v->gaps);
	v->gaps = NULL;
	v->ngaps = 0;
}

/* The published targets are written straight into one buffer, byte for byte what cJSON's
 * unformatted print of the same object gives: building the cJSON tree first took about 1.5 KB a
 * target at once (150 MB at 100 000 targets) for a text of 230 bytes a target. */
struct jbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void jb_put(struct jbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* As cJSON escapes: the two-character escapes, \u00xx for other control bytes, the rest raw. */
static void jb_string(struct jbuf *b, const char *s)
{
	jb_put(b, "\"", 1);
	for (const char *run = s;; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 32 && c != '"' && c != '\\')
			continue;
		jb_put(b, run, (size_t)(s - run));
		if (c == '\0')
			break;
		char esc[8];
		const char *two = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" : c == '\f' ? "\\f" :
				  c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
		if (two)
			jb_put(b, two, 2);
		else
			jb_put(b, esc, (size_t)snprintf(esc, sizeof(esc), "\\u%04x", c));
		run = s + 1;
	}
	jb_put(b, "\"", 1);
}

static void jb_key_string(struct jbuf *b, const char *key, const char *value)
{
	jb_put(b, ",", 1);
	jb_string(b, key);
	jb_put(b, ":", 1);
	jb_string(b, value);
}

static void jb_key_int(struct jbuf *b, const char *key, int v, bool when)
{
	char num[24];

	if (!when)
		return;
	jb_put(b, ",", 1);
	jb_string(b, key);
	jb_put(b, num, (size_t)snprintf(num, sizeof(num), ":%d", v));
}

static void jb_target(struct jbuf *b, const struct ht_target *t)
{
	jb_put(b, "{\"name\":", 8);
	jb_string(b, t->name);
	if (t->project)
		jb_key_string(b, "project", t->project);
	jb_key_string(b, "url", t->display_url);
	/* display_url holds the path already: without this, the default /health comes twice */
	if (strncmp(t->display_url, "http://", 7) == 0 || strncmp(t->display_url, "https://", 8) == 0)
		jb_key_string(b, "path", "");
	jb_key_int(b, "interval_s", t->interval_s, true);
	jb_key_int(b, "timeout_ms", t->probe.timeout_ms, t->probe.timeout_ms > 0);
	jb_key_int(b, "degraded_ms", t->rules.degraded_ms, t->rules.degraded_ms > 0);
	jb_key_int(b, "failures_before_down", t->soft.failures_before_down, true);
	jb_key_int(b, "successes_before_healthy", t->soft.successes_before_healthy, true);
	jb_key_int(b, "retry_interval_s", t->retry_interval_s, t->retry_interval_s > 0);
	jb_put(b, "}", 1);
}

char *viewer_config_json(const struct ht_config *cfg)
{
	struct jbuf b = { NULL, 0, 0, false };
	char num[48];

	jb_put(&b, "{\"targets\":[", 12);
	for (size_t i = 0; i < cfg->ntargets; i++) {
		if (i)
			jb_put(&b, ",", 1);
		jb_target(&b, &cfg->targets[i]);
	}
	jb_put(&b, num, (size_t)snprintf(num, sizeof(num), "],\"concurrency\":%d}", cfg->concurrency));
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	char *fit = realloc(b.p, b.len + 1);   /* kept for the daemon's life: not a doubling's spare room */
	return fit ? fit : b.p;
}

/* A viewer: draws what the poller stores, reading only the results newer than the last it drew
 * (one indexed query a second, never a rescan), and never probes. */
#include "autoconfig.h"
#include <cjson/cJSON.h>
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

	if (ensure_store(m) < 0 || !(ids = malloc((m->n ? m->n : 1) * sizeof(*ids))))
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
	struct target_state *s = &m->states[idx];
	struct soft_state soft = s->soft;
	const struct state_sample *newest = state_sample_at(s, 0);
	int from = SOFT_STATE_UNKNOWN;
	double ms = row->http_code > 0 ? row->response_ms : -1;

	if (soft.shown == SOFT_STATE_UNKNOWN && newest)
		soft.shown = (int8_t)newest->cls;
	bool changed = soft_state_step(&soft, &m->cfg->targets[idx].soft, row->cls, &from) &&
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

static void on_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct monitor *m = t->data;
	struct draw_ctx c = { m, false };
	struct ht_err err = { "" };

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
	char *mine = viewer_config_json(m->cfg);

	if (poller_config && poller_config[0] && (!mine || strcmp(mine, poller_config) != 0))
		show_poller_config(m, poller_config, warning, size);
	free(mine);
	if (v->running)
		return;
	/* history was read back at start: from here on, only what is new */
	if (ensure_store(m) < 0 || store_results_last(m->store, &v->after, &err) < 0)
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
		on_timer(m->loop, &v->timer, 0);   /* what the old poller stored last is drawn too */
		ev_timer_stop(m->loop, &v->timer);
	}
	v->running = false;
	free(v->ids);
	v->ids = NULL;
	v->nids = 0;
}

static void add_int(cJSON *o, const char *key, int v, bool when)
{
	if (when)
		cJSON_AddNumberToObject(o, key, v);
}

char *viewer_config_json(const struct ht_config *cfg)
{
	cJSON *root = cJSON_CreateObject(), *targets = cJSON_AddArrayToObject(root, "targets");
	char *text;

	if (!root || !targets) {
		cJSON_Delete(root);
		return NULL;
	}
	cJSON_AddNumberToObject(root, "concurrency", cfg->concurrency);
	for (size_t i = 0; i < cfg->ntargets; i++) {
		const struct ht_target *t = &cfg->targets[i];
		cJSON *o = cJSON_CreateObject();
		if (!o)
			break;
		cJSON_AddItemToArray(targets, o);
		cJSON_AddStringToObject(o, "name", t->name);
		if (t->project)
			cJSON_AddStringToObject(o, "project", t->project);
		cJSON_AddStringToObject(o, "url", t->display_url);
		/* display_url holds the path already: without this, the default /health comes twice */
		if (strncmp(t->display_url, "http://", 7) == 0 || strncmp(t->display_url, "https://", 8) == 0)
			cJSON_AddStringToObject(o, "path", "");
		add_int(o, "interval_s", t->interval_s, true);
		add_int(o, "timeout_ms", t->probe.timeout_ms, t->probe.timeout_ms > 0);
		add_int(o, "degraded_ms", t->rules.degraded_ms, t->rules.degraded_ms > 0);
		add_int(o, "failures_before_down", t->soft.failures_before_down, true);
		add_int(o, "successes_before_healthy", t->soft.successes_before_healthy, true);
		add_int(o, "retry_interval_s", t->retry_interval_s, t->retry_interval_s > 0);
	}
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

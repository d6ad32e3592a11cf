/* Counters since start for /metrics, fed by apply_result(); gauges read from target_state at
 * scrape time. Counters follow a target through a reload by its name. */
#include "autoconfig.h"
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/clock.h"
#include "healthtop/monitor/monitor_metrics.h"
#include "healthtop/serve/metrics_text.h"
#include "monitor/monitor_priv.h"

/* The array grows with the config; a target added by a reload starts from zero. */
static int ensure_counters(struct monitor *m)
{
	if (m->counters && m->ncounters == m->n)
		return 0;
	struct metrics_target *c = calloc(m->n ? m->n : 1, sizeof(*c));
	if (!c)
		return -1;
	if (m->counters)
		memcpy(c, m->counters, (m->ncounters < m->n ? m->ncounters : m->n) * sizeof(*c));
	free(m->counters);
	m->counters = c;
	m->ncounters = m->n;
	return 0;
}

void monitor_metrics_enable(struct monitor *m)
{
	m->metrics_on = true;
}

void metrics_count(struct monitor *m, size_t idx, enum ht_class cls, bool changed, double latency_ms)
{
	struct metrics_target *c;

	if (!m->metrics_on || ensure_counters(m) < 0)
		return;   /* no memory: the scrape misses one check, probing goes on */
	c = &m->counters[idx];
	if (cls >= 0 && cls < 3)
		c->checks[cls]++;
	if (changed)
		c->state_changes++;
	if (latency_ms >= 0)
		metrics_observe_latency(c, latency_ms);
}

void metrics_lag(struct monitor *m, const struct probe_result *r)
{
	if (r->planned_ms > 0 && r->started_ms > 0)
		metrics_observe_lag(&m->lag, (double)(r->started_ms - r->planned_ms) / 1000.0);
}

void metrics_remap(struct monitor *m, const size_t *to, size_t old_n, size_t new_n)
{
	struct metrics_target *c;

	if (!m->counters)
		return;
	if (!(c = calloc(new_n ? new_n : 1, sizeof(*c)))) {
		free(m->counters);   /* counters restart: Prometheus' rate() copes with a reset */
		m->counters = NULL;
		m->ncounters = 0;
		return;
	}
	for (size_t j = 0; j < old_n && j < m->ncounters; j++)
		if (to[j] != SIZE_MAX)
			c[to[j]] = m->counters[j];
	free(m->counters);
	m->counters = c;
	m->ncounters = new_n;
}

void metrics_fini(struct monitor *m)
{
	free(m->counters);
	m->counters = NULL;
	m->ncounters = 0;
}

static double phase_s(float ms)
{
	return ms >= 0 ? ms / 1000.0 : -1;
}

/* The displayed class: what the dashboard shows and notifications announce. */
static int shown_class(const struct target_state *s)
{
	if (s->soft.shown >= 0)
		return s->soft.shown;
	return s->last.at_ms > 0 ? (int)s->last.cls : -1;
}

static void fill_target(const struct monitor *m, size_t i, int64_t now_ms, struct metrics_target *t)
{
	const struct ht_target *cfg = &m->cfg->targets[i];
	const struct target_state *s = &m->states[i];

	if (m->counters && i < m->ncounters)
		*t = m->counters[i];
	else
		memset(t, 0, sizeof(*t));
	t->name = cfg->name;
	t->project = cfg->project ? cfg->project : "";
	t->cls = quorum_shown(m, i, shown_class(s));   /* with --location: the locations' combined */
	t->muted = s->muted_until_ms > now_ms;
	bool have = s->last.at_ms > 0;
	t->phase_s[0] = have ? phase_s(s->last.dns_ms) : -1;
	t->phase_s[1] = have ? phase_s(s->last.connect_ms) : -1;
	t->phase_s[2] = have ? phase_s(s->last.tls_ms) : -1;
	t->phase_s[3] = have ? phase_s(s->last.ttfb_ms) : -1;
	t->cert_expiry = have ? s->last.cert_expiry : 0;
}

char *monitor_metrics_text(void *user, size_t *len)
{
	struct monitor *m = user;
	struct metrics_target *t = calloc(m->n ? m->n : 1, sizeof(*t));
	struct metrics_process p = { 0, m->dropped, m->last_result_ms, m->lag };
	struct store_writer_status st;
	int64_t now = clock_wall_ms();
	char *text;

	if (!t)
		return NULL;
	if (m->writer) {
		store_writer_status(m->writer, &st);
		p.store_errors = st.errors;
	}
	for (size_t i = 0; i < m->n; i++)
		fill_target(m, i, now, &t[i]);
	text = metrics_render(t, m->n, &p, len);
	free(t);
	return text;
}

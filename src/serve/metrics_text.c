#include "autoconfig.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "healthtop/core/histogram.h"
#include "healthtop/serve/metrics_text.h"

#define LE_STEP 16

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap * 2 + (size_t)(n > 0 ? n : 0);
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

double metrics_le_bound(int i)
{
	return HIST_BASE_MS * pow(HIST_RATIO, i * LE_STEP) / 1000.0;
}

void metrics_observe_latency(struct metrics_target *t, double ms)
{
	if (!(ms >= 0))
		return;
	t->latency_count++;
	t->latency_sum_s += ms / 1000.0;
	for (int i = 0; i < METRICS_LE_COUNT; i++)
		if (ms / 1000.0 <= metrics_le_bound(i))
			t->le_counts[i]++;
}

/* Around the 1 s that matters (a check due now starts within a second), out to a minute: a
 * scheduler as late as a whole interval is a different trouble, and +Inf says it. */
static const double lag_bounds[METRICS_LAG_LE_COUNT] = {
	0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};

double metrics_lag_bound(int i)
{
	return i >= 0 && i < METRICS_LAG_LE_COUNT ? lag_bounds[i] : INFINITY;
}

void metrics_observe_lag(struct metrics_lag *h, double s)
{
	if (!(s >= 0))
		s = 0;
	h->count++;
	h->sum_s += s;
	for (int i = METRICS_LAG_LE_COUNT - 1; i >= 0 && s <= lag_bounds[i]; i--)
		h->le_counts[i]++;
}

size_t metrics_escape_label(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p && o + 3 < size; p++) {
		if (*p == '\\' || *p == '"') {
			out[o++] = '\\';
			out[o++] = (char)*p;
		} else if (*p == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (*p >= 0x20 && *p != 0x7f) {
			out[o++] = (char)*p;
		}
	}
	out[o] = '\0';
	return o;
}

static void help(struct buf *b, const char *name, const char *type, const char *text)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* The label set of target i, escaped into a buffer reused line after line. */
#define L(i) labels(&t[i], lab, sizeof(lab))

static const char *labels(const struct metrics_target *t, char *out, size_t size)
{
	char name[512], project[512];

	metrics_escape_label(t->name, name, sizeof(name));
	metrics_escape_label(t->project, project, sizeof(project));
	snprintf(out, size, "name=\"%s\",project=\"%s\"", name, project);
	return out;
}

static void per_target_gauges(struct buf *b, const struct metrics_target *t, size_t n)
{
	char lab[1100];

	help(b, "healthtop_up", "gauge", "2 healthy, 1 degraded, 0 down, as displayed (after anti-flap).");
	for (size_t i = 0; i < n; i++)
		if (t[i].cls >= 0)
			put(b, "healthtop_up{%s} %d\n", L(i), 2 - t[i].cls);
	help(b, "healthtop_muted", "gauge", "1 while the target is muted.");
	for (size_t i = 0; i < n; i++)
		put(b, "healthtop_muted{%s} %d\n", L(i), t[i].muted ? 1 : 0);
	help(b, "healthtop_phase_seconds", "gauge", "Time of each phase of the last check.");
	static const char *const phases[4] = { "dns", "connect", "tls", "ttfb" };
	for (size_t i = 0; i < n; i++) {
		const char *l = L(i);   /* once per target, not per line: 10 000 targets in < 50 ms */
		for (int k = 0; k < 4; k++)
			if (t[i].phase_s[k] >= 0)
				put(b, "healthtop_phase_seconds{%s,phase=\"%s\"} %.6f\n", l, phases[k], t[i].phase_s[k]);
	}
	help(b, "healthtop_cert_expiry_timestamp_seconds", "gauge", "When the target's TLS certificate expires.");
	for (size_t i = 0; i < n; i++)
		if (t[i].cert_expiry > 0)
			put(b, "healthtop_cert_expiry_timestamp_seconds{%s} %lld\n", L(i), (long long)t[i].cert_expiry);
}

static void per_target_counters(struct buf *b, const struct metrics_target *t, size_t n)
{
	char lab[1100];
	static const char *const cls[3] = { "healthy", "degraded", "down" };

	char le[METRICS_LE_COUNT][32];

	for (int k = 0; k < METRICS_LE_COUNT; k++)
		snprintf(le[k], sizeof(le[k]), "%g", metrics_le_bound(k));
	help(b, "healthtop_checks_total", "counter", "Checks since start, by class.");
	for (size_t i = 0; i < n; i++) {
		const char *l = L(i);
		for (int k = 0; k < 3; k++)
			put(b, "healthtop_checks_total{%s,class=\"%s\"} %llu\n", l, cls[k],
			    (unsigned long long)t[i].checks[k]);
	}
	help(b, "healthtop_state_changes_total", "counter", "Changes of displayed state since start.");
	for (size_t i = 0; i < n; i++)
		put(b, "healthtop_state_changes_total{%s} %llu\n", L(i), (unsigned long long)t[i].state_changes);
	help(b, "healthtop_check_duration_seconds", "histogram", "Response time of checks that got an answer.");
	for (size_t i = 0; i < n; i++) {
		const char *l = L(i);
		for (int k = 0; k < METRICS_LE_COUNT; k++)
			put(b, "healthtop_check_duration_seconds_bucket{%s,le=\"%s\"} %llu\n", l, le[k],
			    (unsigned long long)t[i].le_counts[k]);
		put(b, "healthtop_check_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n", l,
		    (unsigned long long)t[i].latency_count);
		put(b, "healthtop_check_duration_seconds_sum{%s} %.6f\n", l, t[i].latency_sum_s);
		put(b, "healthtop_check_duration_seconds_count{%s} %llu\n", l,
		    (unsigned long long)t[i].latency_count);
	}
}

static void process_lag(struct buf *b, const struct metrics_lag *h)
{
	help(b, "healthtop_check_start_lag_seconds", "histogram",
	     "How late checks started: from when the scheduler planned each to when the probe admitted it.");
	for (int k = 0; k < METRICS_LAG_LE_COUNT; k++)
		put(b, "healthtop_check_start_lag_seconds_bucket{le=\"%g\"} %llu\n", lag_bounds[k],
		    (unsigned long long)h->le_counts[k]);
	put(b, "healthtop_check_start_lag_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)h->count);
	put(b, "healthtop_check_start_lag_seconds_sum %.6f\n", h->sum_s);
	put(b, "healthtop_check_start_lag_seconds_count %llu\n", (unsigned long long)h->count);
}

char *metrics_render(const struct metrics_target *t, size_t n, const struct metrics_process *p, size_t *len)
{
	struct buf b = { malloc(65536), 0, 65536, false };

	if (!b.p)
		return NULL;
	per_target_gauges(&b, t, n);
	per_target_counters(&b, t, n);
	help(&b, "healthtop_store_errors_total", "counter", "Failed attempts to write results (each retried).");
	put(&b, "healthtop_store_errors_total %llu\n", (unsigned long long)p->store_errors);
	help(&b, "healthtop_dropped_results_total", "counter", "Results given up before they were stored.");
	put(&b, "healthtop_dropped_results_total %llu\n", (unsigned long long)p->dropped_results);
	help(&b, "healthtop_last_sweep_timestamp_seconds", "gauge", "When the latest result arrived.");
	put(&b, "healthtop_last_sweep_timestamp_seconds %.3f\n", (double)p->last_sweep_ms / 1000.0);
	process_lag(&b, &p->lag);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

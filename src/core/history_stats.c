#include "autoconfig.h"
#include "healthtop/core/history_stats.h"

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* The state the range starts in: the last change before it, else what the first change in it
 * came from, else (no change at all) down only if every check in the range was down. */
static int initial_state(const struct stats_target *t, const struct stats_change *c, size_t n, int64_t since)
{
	int state = -1;

	for (size_t i = 0; i < n && c[i].at_ms < since; i++)
		state = c[i].to;
	for (size_t i = 0; state < 0 && i < n; i++)
		if (c[i].at_ms >= since)
			state = c[i].from;
	if (state < 0)
		state = (t->counts[HT_DOWN] > 0 && t->counts[HT_HEALTHY] + t->counts[HT_DEGRADED] == 0) ? HT_DOWN : HT_HEALTHY;
	return state;
}

void stats_walk(struct stats_target *t, const struct stats_change *c, size_t n, int64_t since,
		int64_t until, int64_t first_seen, int64_t now)
{
	int64_t start = max64(since, first_seen);
	int64_t end = min64(until, now);
	int state = initial_state(t, c, n, since);
	int64_t down_since = state == HT_DOWN ? start : -1;

	t->changes = 0;
	t->longest_outage_ms = 0;
	t->outage_ongoing = false;
	for (size_t i = 0; i < n; i++) {
		if (c[i].at_ms < since || c[i].at_ms >= until)
			continue;
		t->changes++;
		if (c[i].from == HT_DOWN && down_since >= 0) {
			if (c[i].at_ms - down_since > t->longest_outage_ms)
				t->longest_outage_ms = c[i].at_ms - down_since;
			down_since = -1;
		}
		if (c[i].to == HT_DOWN)
			down_since = c[i].at_ms;
	}
	if (down_since >= 0 && end - down_since >= t->longest_outage_ms && end > down_since) {
		t->longest_outage_ms = end - down_since;
		t->outage_ongoing = until >= now;
	}
}

double stats_uptime(const struct stats_target *t)
{
	uint64_t total = (uint64_t)t->counts[0] + t->counts[1] + t->counts[2];

	return total ? 100.0 * (double)(t->up > total ? total : t->up) / (double)total : -1;
}

double stats_quantile(const struct hist *h, double q, double min_ms, double max_ms)
{
	double v = hist_quantile(h, q);

	if (v < 0)
		return v;
	if (min_ms >= 0 && v < min_ms)
		v = min_ms;
	if (max_ms >= 0 && v > max_ms)
		v = max_ms;
	return v;
}

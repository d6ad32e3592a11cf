/* Per-target statistics over a time range (pure): uptime, percentiles, state changes, outages. */
#ifndef HEALTHTOP_STATS_H
#define HEALTHTOP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "healthtop/core/health_class.h"
#include "healthtop/core/histogram.h"

struct stats_change {
	int64_t at_ms;
	int from;
	int to;
};

struct stats_target {
	uint32_t counts[HT_CLASS_COUNT];
	uint32_t up;                  /* checks that count towards uptime */
	struct hist latency;
	double min_ms, max_ms;        /* observed latency bounds; < 0 when unknown */
	unsigned changes;             /* within the range */
	int64_t longest_outage_ms;    /* longest time spent down within the range */
	bool outage_ongoing;          /* the longest outage has not ended */
};

/* changes: every change of the target before `until`, oldest first (those before `since` give
 * the state the range starts in). first_seen_ms: the target's first known check, 0 if unknown.
 * now_ms bounds an outage that has not ended. */
void stats_walk(struct stats_target *t, const struct stats_change *changes, size_t n, int64_t since_ms,
		int64_t until_ms, int64_t first_seen_ms, int64_t now_ms);

/* The q-quantile of a latency histogram, kept within the observed [min_ms, max_ms] (a bound
 * < 0 is unknown): a bucket's middle can lie outside what was measured, and p95 below the
 * minimum reads as a lie. -1 when the histogram is empty. */
double stats_quantile(const struct hist *h, double q, double min_ms, double max_ms);

/* Percent of checks that were up (answered in time with an accepted status and not down;
 * rollups older than schema 4 without raw rows: not down); -1 with no checks. */
double stats_uptime(const struct stats_target *t);

#endif

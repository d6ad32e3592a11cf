/* The Prometheus text exposition format (0.0.4) for healthtop's state. Pure: no I/O. */
#ifndef HEALTHTOP_METRICS_TEXT_H
#define HEALTHTOP_METRICS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* le boundaries of healthtop_check_duration_seconds: every 16th bound of the history histogram
 * (core/histogram.h), so both agree on what "under 1.2 s" means. */
#define METRICS_LE_COUNT 11

struct metrics_target {
	const char *name;
	const char *project;
	int cls;                      /* ht_class of the last check; -1 before the first */
	bool muted;
	double phase_s[4];            /* dns, connect, tls, ttfb of the last check; < 0 absent */
	int64_t cert_expiry;          /* unix s; 0 when none */
	uint64_t checks[3];           /* by class, since start */
	uint64_t state_changes;
	uint64_t le_counts[METRICS_LE_COUNT];   /* checks with a latency <= each bound (cumulative) */
	uint64_t latency_count;       /* checks with a latency */
	double latency_sum_s;
};

/* healthtop_check_start_lag_seconds: how late checks started, from when the scheduler planned
 * each to when the probe admitted it (time in the admission queue counts). One per process. */
#define METRICS_LAG_LE_COUNT 14

struct metrics_lag {
	uint64_t le_counts[METRICS_LAG_LE_COUNT];   /* cumulative, like le_counts above */
	uint64_t count;
	double sum_s;
};

/* The bound in seconds of lag le index i. */
double metrics_lag_bound(int i);
/* Adds one start lag (seconds; a negative one counts as 0: clocks in ms round). */
void metrics_observe_lag(struct metrics_lag *h, double s);

struct metrics_process {
	uint64_t store_errors;
	uint64_t dropped_results;
	int64_t last_sweep_ms;        /* 0 before the first */
	struct metrics_lag lag;
};

/* The bound in seconds of le index i. */
double metrics_le_bound(int i);
/* Adds one latency (ms >= 0) to t's histogram. */
void metrics_observe_latency(struct metrics_target *t, double ms);

/* The whole exposition, malloc'd; *len its length. NULL when out of memory. */
char *metrics_render(const struct metrics_target *t, size_t n, const struct metrics_process *p, size_t *len);

/* Escapes a label value (\\, \" and \n as the format wants; control bytes dropped). */
size_t metrics_escape_label(const char *in, char *out, size_t size);

#endif

/* The monitor's state as Prometheus metrics: per-target counters kept since start beside the
 * state, rendered by serve/metrics_text on a scrape. */
#ifndef HEALTHTOP_MONITOR_METRICS_H
#define HEALTHTOP_MONITOR_METRICS_H

#include <stddef.h>

struct monitor;

/* The exposition of monitor m (a struct monitor *, as metrics_render_fn wants), malloc'd;
 * NULL when out of memory. Runs on the loop: a scrape reads memory only, never the database. */
char *monitor_metrics_text(void *m, size_t *len);

/* Counts checks for /metrics from now on (call it before monitor_start). Without it no counter
 * is kept: 200 bytes a target that a monitor nobody scrapes does not need. */
void monitor_metrics_enable(struct monitor *m);

#endif

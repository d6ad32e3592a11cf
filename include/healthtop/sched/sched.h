/* When each target is checked: a libev timer per target at its interval, start times spread,
 * forced checks that never shift the regular cadence, never two checks of one target at once. */
#ifndef HEALTHTOP_SCHED_H
#define HEALTHTOP_SCHED_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include "healthtop/core/classify.h"
#include "healthtop/core/config.h"
#include "healthtop/probe/probe.h"

struct sched;

typedef void (*sched_result_fn)(void *user, size_t idx, const struct probe_result *r,
				const struct ht_verdict *v);

/* Takes ownership of cfg. */
struct sched *sched_new(struct ev_loop *loop, struct probe *p, struct ht_config *cfg,
			sched_result_fn fn, void *user);
/* First check of every target now; then each on its own timer. */
void sched_start(struct sched *s);
/* 0: started; 1: that target's check is already running (its result will come). */
int sched_force(struct sched *s, size_t idx);
void sched_force_all(struct sched *s);
bool sched_in_flight(const struct sched *s, size_t idx);
const struct ht_config *sched_config(const struct sched *s);
/* Stops the timers; results of checks still running are dropped. Free it with sched_free()
 * once sched_idle() says so (or after probe_free()). */
void sched_retire(struct sched *s);
bool sched_idle(const struct sched *s);
/* Frees it and its config: only when idle or after probe_free(). */
void sched_free(struct sched *s);

/* Seconds from start to target i's first regular check: spread evenly over the interval,
 * between 0.5 and 1.5 intervals, so a thousand targets never fire in the same instant. */
double sched_first_tick(size_t i, size_t n, int interval_s);

#endif

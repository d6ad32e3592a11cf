/* When each target is checked: a libev timer per target at its interval, start times spread,
 * forced checks that never shift the regular cadence, retries sooner than the interval while a
 * change is being confirmed, never two checks of one target at once. */
#ifndef HEALTHTOP_SCHED_H
#define HEALTHTOP_SCHED_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include "healthtop/core/config.h"
#include "healthtop/probe/probe.h"

struct sched;

/* A raw result of target idx, as the probe gave it: judging it is the caller's job. The callee
 * may take r->body (set it to NULL). */
typedef void (*sched_result_fn)(void *user, size_t idx, struct probe_result *r);

/* cfg is borrowed: the caller keeps it alive until sched_free(). */
struct sched *sched_new(struct ev_loop *loop, struct probe *p, const struct ht_config *cfg,
			sched_result_fn fn, void *user);
/* First check of every target now; then each on its own timer. */
void sched_start(struct sched *s);
/* 0: started; 1: that target's check is already running (its result will come). */
int sched_force(struct sched *s, size_t idx);
void sched_force_all(struct sched *s);
/* Asks for idx's next check within after_s seconds (a retry while anti-flap confirms a change).
 * Nothing happens when its next regular check comes sooner anyway, or when s is retired. The
 * regular cadence then goes on from the retry: the check after it is a whole interval later. */
void sched_retry_in(struct sched *s, size_t idx, double after_s);
/* True while a check of idx runs, its own or an adopted one. */
bool sched_in_flight(const struct sched *s, size_t idx);
/* After a reload: a check the retired scheduler started is still running for idx (running true),
 * or has reported (false). Until then idx is not checked again, so one target never has two
 * checks at once; an adopted check does not keep this scheduler from being idle. */
void sched_adopt(struct sched *s, size_t idx, bool running);
/* Stops the timers; results of checks still running are still delivered, to `fn` with `user`
 * (a reload passes its own, to place them in the new config). Free it with sched_free() once
 * sched_idle() says so (or after probe_free()). */
void sched_retire(struct sched *s, sched_result_fn fn, void *user);
bool sched_idle(const struct sched *s);
/* Frees it (not its config): only when idle or after probe_free(). */
void sched_free(struct sched *s);

/* Several pollers (monitor_shard.c): target idx alone starts (checked at once when now, its
 * timer first in after_s seconds (an interval when <= 0), then every interval) or stops (a
 * check running still reports). */
void sched_start_one(struct sched *s, size_t idx, bool now, double after_s);
void sched_stop_one(struct sched *s, size_t idx);

/* Seconds from start to target i's first regular check: spread evenly over the interval,
 * between 0.5 and 1.5 intervals, so a thousand targets never fire in the same instant. */
double sched_first_tick(size_t i, size_t n, int interval_s);

#endif

/* One result in, everything the rest needs out (pure): the verdict, the row to store and the
 * change of state. `check`, the daemon and the dashboard all go through observe(), so the same
 * result gets the same class, reason and stored row whichever of them saw it. */
#ifndef HEALTHTOP_OBSERVE_H
#define HEALTHTOP_OBSERVE_H

#include <stdbool.h>
#include <stdint.h>
#include "healthtop/core/classify.h"
#include "healthtop/core/config.h"
#include "healthtop/core/target_state.h"
#include "healthtop/core/probe_result.h"
#include "healthtop/core/store_row.h"

struct observation {
	struct ht_verdict verdict;   /* class, reason, what the body said */
	/* What is stored. target_id is 0: only the caller knows the store's id. reason and error
	 * point into this observation, so the row lives as long as it does. */
	struct store_row row;
	char error[192];
	struct state_last last;      /* the detail view's "last check" (comps left NULL) */
	double latency_ms;           /* < 0 when nothing answered: no latency to plot */
	bool up;                     /* counts towards uptime (also in row.up): classify_is_up() */
	/* The displayed (anti-flap) state after this result: the caller keeps it as the target's.
	 * changed and from are about the DISPLAYED class, which is what is logged and announced:
	 * the raw class is verdict.cls, stored whatever is displayed. */
	struct soft_state soft;
	enum ht_class shown;         /* the displayed class after this result */
	bool changed;                /* the displayed class changed with this result */
	enum ht_class from;          /* the displayed class before; `shown` when there was none */
};

/* prev: what was known of the target before this result (NULL: nothing, as in `check`). Its
 * soft state is stepped with t->soft; when it has none yet but history was read back into its
 * samples, the newest sample's class counts as displayed, so a restart neither invents a change
 * nor misses one. The first result ever is displayed at once and is not a change.
 * now_s: the wall clock for heartbeat and certificate ages. */
void observe(const struct ht_target *t, const struct probe_result *r,
	     const struct target_state *prev, int64_t now_s, struct observation *o);

#endif

/* Anti-flap (Nagios' soft and hard states): the class shown and announced changes only after
 * enough consecutive results agree. Pure: no I/O, no clock. */
#ifndef HEALTHTOP_CORE_SOFT_STATE_H
#define HEALTHTOP_CORE_SOFT_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include "healthtop/core/health_class.h"

#define SOFT_STATE_UNKNOWN (-1)
#define SOFT_STATE_MAX_COUNT 100

struct soft_rules {
	uint8_t failures_before_down;      /* results worse than shown before it worsens (>= 1) */
	uint8_t successes_before_healthy;  /* results better than shown before it improves (>= 1) */
};

struct soft_state {
	int8_t shown;     /* the displayed class, or SOFT_STATE_UNKNOWN before the first result */
	int8_t toward;    /* the class the streak points to (the latest result's), while streak > 0 */
	uint8_t streak;   /* consecutive results on the same side of shown */
};

void soft_state_init(struct soft_state *s);

/* Feeds one raw result. Returns true when the shown class changed; *from is the class shown
 * before (SOFT_STATE_UNKNOWN for the first result, which is shown at once: there is nothing to
 * flap from). */
bool soft_state_step(struct soft_state *s, const struct soft_rules *r, enum ht_class raw, int *from);

/* A change is under way but not confirmed: shown differs from the latest results. *count of
 * *needed results so far, toward *to. False when nothing is pending. */
bool soft_state_pending(const struct soft_state *s, const struct soft_rules *r, enum ht_class *to,
			int *count, int *needed);

#endif

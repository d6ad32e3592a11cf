/* A target checked from several locations (daemon --location) is down only when `quorum` of
 * them agree: one location's network trouble is no outage, and an outage is never missed
 * because a location's pollers died. Pure: no I/O, no clock. */
#ifndef HEALTHTOP_CORE_QUORUM_H
#define HEALTHTOP_CORE_QUORUM_H

#include <stddef.h>
#include <stdint.h>
#include "healthtop/core/health_class.h"

#define QUORUM_MAX 64            /* a location per shard lease set at most: plenty */
#define QUORUM_STALE_INTERVALS 3 /* a location's newest result older than this many intervals: gone */

/* One location's say: its displayed class (its own anti-flap applied) and the age of its newest
 * result. Results without a location are one location, "". */
struct quorum_vote {
	const char *location;
	int cls;                 /* enum ht_class, or < 0 when it has none yet */
	int64_t age_ms;
};

struct quorum_verdict {
	enum ht_class cls;
	int counted;             /* locations whose newest result is recent enough */
	int down;                /* of those, down */
	int needed;              /* min(quorum, counted) */
	char reason[192];        /* "" when every counted location is healthy */
};

/* The combined class of n votes: down when at least min(quorum, counted) counted locations are
 * down, degraded when fewer are (or any counted one is degraded), else healthy. A vote whose
 * age exceeds max_age_ms (QUORUM_STALE_INTERVALS intervals) is not counted. Returns 0, or -1
 * when no vote counts (nothing to say: the caller keeps what it shows). */
int quorum_combine(const struct quorum_vote *v, size_t n, int quorum, int64_t max_age_ms,
		   struct quorum_verdict *out);

#endif

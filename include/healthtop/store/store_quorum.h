/* The quorum across locations in PostgreSQL (issue 13): each location's displayed class of each
 * target is a row, written by that location's poller when the class changes; the class the
 * fleet notified is another, moved only by the poller whose transaction finds it different from
 * what the rows now say. So exactly one notification goes out per change of the combined class,
 * however many locations and pollers see it, and PostgreSQL is the only coordination. */
#ifndef HEALTHTOP_STORE_QUORUM_H
#define HEALTHTOP_STORE_QUORUM_H

#include <stdbool.h>
#include <stdint.h>
#include "healthtop/core/err.h"
#include "healthtop/core/quorum.h"
#include "healthtop/store/store.h"

struct store_quorum_claim {
	bool claimed;                 /* this call moved the notified class: its caller notifies */
	int old_cls;                  /* the class notified before (claimed only) */
	int64_t since_ms, at_ms;      /* when that class began, and when it ended (database clock) */
	struct quorum_verdict v;      /* the combined class as the rows say now */
};

/* This store's location (store_set_location) shows cls for target name. When that changes its
 * row, the combined class is worked out from every location's row (a location counts until
 * max_age_ms after its pollers' last round: the caller gives the larger of
 * QUORUM_STALE_INTERVALS intervals and two lease periods) and the
 * notified class is moved to it if it differs. The first class known is recorded without a
 * claim, as a first result is not announced. settle: work it out even when our row is unchanged
 * (a location came or went). PostgreSQL with a location only; else 0, nothing. */
int store_quorum_publish(struct store *s, const char *name, int cls, int quorum, int64_t max_age_ms, bool settle,
			 struct store_quorum_claim *out, struct ht_err *err);

/* Other locations' rows changed since *after (a sequence; 0 at first: all), in that order, at
 * most limit: fn(user, name, location, cls, poller). *after moves past each. */
typedef void (*store_quorum_fn)(void *user, const char *name, const char *location, int cls, const char *poller);
int store_quorum_since(struct store *s, int64_t *after, int limit, store_quorum_fn fn, void *user, struct ht_err *err);

/* The live locations (a poller's round within two lease periods): fn(user, location) each. */
typedef void (*store_location_fn)(void *user, const char *location);
int store_quorum_live(struct store *s, int64_t lease_ms, store_location_fn fn, void *user, struct ht_err *err);

#endif

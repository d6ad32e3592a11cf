/* Several pollers, one fleet (PostgreSQL): every daemon on the database polls, each only the
 * targets of the shards it leases (store_shard.h). The round runs on the store writer's thread;
 * the loop starts and stops targets as shards come and go, and never waits for the database. */
#ifndef HEALTHTOP_MONITOR_SHARD_H
#define HEALTHTOP_MONITOR_SHARD_H

#include <stddef.h>
#include <stdint.h>
#include "healthtop/core/err.h"

struct monitor;

/* The lease's length: STORE_SHARD_LEASE_MS, or the test knob HEALTHTOP_SHARD_LEASE_MS
 * (milliseconds, 300 to 3 600 000) so integration tests can see a takeover in seconds. */
int64_t monitor_shard_lease_ms(void);

/* Polls by shards from now on (instead of the single poller lease): call before monitor_start.
 * id names this poller in the database and in each result it stores (host:pid when NULL);
 * location (NULL: none) is where it checks from: each location's pollers share every target
 * among themselves, so every location checks every target. fn (if any) hears of each change of
 * the shards held. */
int monitor_enable_shards(struct monitor *m, const char *id, const char *location, void (*fn)(void *user),
			  void *user, struct ht_err *err);

struct monitor_shards {
	int held;             /* shards held now, of STORE_SHARDS */
	size_t targets;       /* targets in them */
	const char *id;       /* this poller's name */
	const char *error;    /* the last round's error, NULL when it succeeded */
};
/* -1 when the monitor does not poll by shards. */
int monitor_shards(const struct monitor *m, struct monitor_shards *out);

/* Who checked target idx's newest result: the poller stored with it (PostgreSQL), this
 * process's own name when it polls by shards, NULL when unknown (SQLite: one poller). */
const char *monitor_poller(const struct monitor *m, size_t idx);

#endif

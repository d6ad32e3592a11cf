/* One poller per database: a lease row (who polls, since when, its heartbeat, its targets),
 * forced checks queued by viewers for the poller, and new results read by id for viewers. */
#ifndef HEALTHTOP_STORE_LEASE_H
#define HEALTHTOP_STORE_LEASE_H

#include <stdbool.h>
#include <stdint.h>
#include "healthtop/core/err.h"
#include "healthtop/store/store.h"

/* A poller on another host is taken for dead once its heartbeat is older than this. */
#define STORE_LEASE_STALE_MS 10000

struct store_lease {
	int64_t pid;
	char host[256];
	int64_t started_ms;
	int64_t heartbeat_ms;
	char *config;      /* malloc'd (NULL when none): the poller's targets, as published JSON */
};

void store_lease_fini(struct store_lease *l);

/* Whether the holder still polls: on this host, its pid is a live healthtop process (a killed
 * poller is noticed at once, whatever its heartbeat); elsewhere, its heartbeat is fresh. */
bool store_lease_alive(const struct store_lease *l, const char *my_host, int64_t now_ms);

/* 1 and *out filled when a poller holds the lease, 0 when none does, -1 on error. */
int store_lease_read(struct store *s, struct store_lease *out, struct ht_err *err);

/* Takes the lease for me unless a live holder has it: 1 taken (or already mine, config
 * refreshed), 0 held by a live other (in *holder, which the caller finis), -1 error. Costs a
 * write lock only when the holder looks dead. */
int store_lease_take(struct store *s, const struct store_lease *me, int64_t now_ms,
		     struct store_lease *holder, struct ht_err *err);

/* Refreshes my heartbeat: 1 done, 0 the lease is no longer mine, -1 error. */
int store_lease_beat(struct store *s, int64_t pid, const char *host, int64_t now_ms, struct ht_err *err);

/* Gives the lease up (a clean exit), so a viewer takes over without waiting. */
int store_lease_release(struct store *s, int64_t pid, const char *host, struct ht_err *err);

/* Queues a forced check of the target called name ("" for every target). */
int store_force_request(struct store *s, const char *name, int64_t pid, const char *host, int64_t now_ms,
			struct ht_err *err);

/* Forced checks queued after id *after, oldest first; *after moves past them. */
typedef void (*store_force_fn)(void *user, const char *name);
int store_force_since(struct store *s, int64_t *after, store_force_fn fn, void *user, struct ht_err *err);
/* The newest request's id (0: none): where a new poller starts reading. */
int store_force_last(struct store *s, int64_t *id, struct ht_err *err);

/* Results stored after id *after (at most limit), oldest first, with whether each was up; *after
 * moves past them. An indexed read of what is new: never a rescan. */
typedef void (*store_new_row_fn)(void *user, const struct store_read_row *row, bool up);
int store_results_since(struct store *s, int64_t *after, int limit, store_new_row_fn fn, void *user,
			struct ht_err *err);
/* The newest result's id (0: none). */
int store_results_last(struct store *s, int64_t *id, struct ht_err *err);

#endif

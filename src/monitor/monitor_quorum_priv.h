/* The quorum's insides, shared by monitor_quorum.c (what targets' locations say) and
 * monitor_quorum_pg.c (a daemon's side, with the database). Nothing else includes it. */
#ifndef HEALTHTOP_MONITOR_QUORUM_PRIV_H
#define HEALTHTOP_MONITOR_QUORUM_PRIV_H

#include <ev.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "healthtop/core/soft_state.h"

#define NAMES_MAX 65535     /* locations and pollers interned (few: one per poller) */
#define LOCS_MAX 255        /* locations told apart (a byte per target names the first) */

struct qloc {
	int64_t at_ms;          /* newest result; 0 unknown */
	uint16_t loc, poller;   /* location number (1..LOCS_MAX); poller name interned, 0 unknown */
	struct soft_state soft; /* the location's displayed class, its anti-flap stepped here */
};

struct qtarget {
	uint8_t n;
	struct qloc v[];
};

/* What the shard round read for the loop (guarded by mu). */
struct qread {
	char *name, *loc, *poller;
	int cls;
};

struct claim {
	char *name;
	int old_cls, new_cls;
	char reason[192];
	int64_t since_ms, at_ms;
};

struct quorum {
	struct monitor *m;
	char **names;            /* [0] is "": the location of results without one */
	size_t nnames;
	uint16_t locs[LOCS_MAX]; /* the names that are locations, by location number - 1 */
	size_t nlocs;
	uint8_t *first;          /* by target: the location number of its results so far (0 none) */
	struct qtarget **multi;  /* by target: its locations, once there are two (NULL before) */
	size_t n;                /* targets the two arrays hold */
	/* a daemon with --location: its own location, the others as read from the database */
	char *own;
	int8_t *published;       /* by target: the class last handed to the writer (-2 none) */
	bool primed;             /* the live locations were read once */
	bool alive[LOCS_MAX];    /* by location number - 1: one of its pollers ran a round lately */
	pthread_mutex_t mu;
	ev_async async;
	struct qread *reads;
	size_t nreads, reads_cap;
	char **live;             /* the live locations as last read, NULL: not read */
	size_t nlive;
	struct claim *claims;
	size_t nclaims, claims_cap;
	int64_t after;           /* the thread's: location_state's sequence read up to */
};

/* The place of s among the names (interned once), 0 ("") when there is no room. */
uint16_t quorum_intern(struct quorum *q, const char *s);
/* The location number (1..LOCS_MAX) of name, 0 when there are too many. */
uint8_t quorum_loc(struct quorum *q, const char *name);
struct quorum *quorum_get(struct monitor *m);
/* The per-target arrays sized for the current config. */
bool quorum_sized(struct quorum *q);
/* Location loc's entry of a target (added when new), NULL when out of memory. */
struct qloc *quorum_entry(struct qtarget **tp, uint8_t loc);
/* A poller's name as interned, without the " in <loc>" the store adds. */
uint16_t quorum_poller(struct quorum *q, const char *poller, const char *loc);
void quorum_reads_free(struct qread *r, size_t n);
void quorum_live_free(char **live, size_t n);

#endif

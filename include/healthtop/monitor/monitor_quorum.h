/* The quorum across locations as the monitor sees it (issue 13): each target checked from more
 * than one location keeps each location's newest class, time and poller, and shows the class
 * the locations combine to (core/quorum.h). Daemons with --location settle notifications in
 * PostgreSQL (store_quorum.h): one per change of the combined class, whoever sees it. */
#ifndef HEALTHTOP_MONITOR_QUORUM_H
#define HEALTHTOP_MONITOR_QUORUM_H

#include <stddef.h>
#include <stdint.h>

struct monitor;

struct monitor_location {
	const char *location;    /* "" for results without one */
	int cls;                 /* its displayed class, < 0 unknown */
	int64_t at_ms;           /* its newest result (0: unknown, a daemon's view of another location) */
	const char *poller;      /* who checked it (NULL: unknown) */
};

/* Target idx's locations, when it has more than one (else 0), up to max of them, in the order
 * first seen; reason (if any) gets the combined class's reason ("" when healthy). */
size_t monitor_locations(const struct monitor *m, size_t idx, struct monitor_location *out, size_t max,
			 char *reason, size_t reason_size);

#endif

/* One poller, many viewers on one database. A monitor that takes part in the lease probes only
 * while it holds it (the poller); otherwise it is a viewer: it draws what the poller stores,
 * queues its forced checks for the poller, and takes over when the poller dies. */
#ifndef HEALTHTOP_MONITOR_VIEWER_H
#define HEALTHTOP_MONITOR_VIEWER_H

#include <stdbool.h>
#include <stdint.h>
#include "healthtop/core/err.h"

struct monitor;

enum monitor_role_kind { MONITOR_DECIDING, MONITOR_POLLER, MONITOR_VIEWER };

struct monitor_role {
	enum monitor_role_kind kind;
	int64_t pid;            /* a viewer's poller */
	char host[256];
	const char *warning;    /* NULL, or why what is shown is not this process's config */
	bool lost;              /* this process polled and another took over (it stalled) */
};

/* Joins the lease: from now on the monitor probes only while it is the poller. Call before
 * monitor_start; the decision comes from the writer thread within moments (never blocking the
 * loop), and fn (if any) hears of it and of each change. */
int monitor_enable_lease(struct monitor *m, void (*fn)(void *user), void *user, struct ht_err *err);
void monitor_role(const struct monitor *m, struct monitor_role *out);
/* Runs the loop until the first decision (at most wait_s; -1 if none came: the database is
 * locked, and the decision comes later). From then on the config is never swapped for the
 * poller's (a screen holds the targets): a different one is only warned about. */
int monitor_lease_wait(struct monitor *m, double wait_s);

#endif

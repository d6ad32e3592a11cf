/* check --notify: a one-shot run that announces, like a poller, each target whose class differs
 * from the one stored before it, and delivers what earlier runs left waiting. */
#ifndef HEALTHTOP_CHECK_NOTIFY_H
#define HEALTHTOP_CHECK_NOTIFY_H

#include <ev.h>
#include <stdint.h>
#include "healthtop/core/config.h"

/* How long check waits for deliveries; what is left waits in the database. */
#define CHECK_NOTIFY_WAIT_S 30.0

struct check_notify {
	int *old_cls;            /* per target: the stored class before this run, -1 none */
	int64_t *since_ms;
	int64_t *muted_until_ms;
	size_t n;
};

struct check_outcome {
	int cls;
	const char *reason;
	int64_t at_ms;
};

/* Reads what the database knew before this run's results are recorded. -1: said on stderr. */
int check_notify_before(const char *db, const struct ht_config *cfg, struct check_notify *cn);
/* Announces the changes (outcome per target) and delivers, waiting up to CHECK_NOTIFY_WAIT_S. */
void check_notify_send(struct ev_loop *loop, const struct ht_config *cfg, const char *db,
		       const struct check_notify *cn, const struct check_outcome *out);
void check_notify_fini(struct check_notify *cn);

#endif

/* The notification dispatcher: fans a change of displayed state out to the destinations that
 * want it, delivers each destination's messages in order, one at a time, and retries a failing
 * destination with backoff for up to an hour. It keeps nothing durable itself: every message is
 * handed to io->persist before its first attempt and to io->forget once delivered or given up,
 * so a restart can hand them back through notifier_restore. */
#ifndef HEALTHTOP_NOTIFIER_H
#define HEALTHTOP_NOTIFIER_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>
#include "healthtop/core/notify_dest.h"
#include "healthtop/notify/notify_format.h"

struct notifier;

struct notifier_msg {
	int64_t id;              /* unique per process run and restore; the durable key */
	size_t dest;             /* index into the destinations */
	struct notify_event ev;  /* strings owned by the message */
	int64_t created_ms;
	int attempts;
};

typedef void (*notifier_done_fn)(void *ctx, int ok, const char *why);

struct notifier_io {
	/* POSTs body to d->url with ctype and the extra headers; calls done on the loop. */
	int (*post)(void *user, const struct notify_dest *d, const char *body, const char *ctype,
		    char hdr[2][256], size_t nhdr, notifier_done_fn done, void *ctx);
	void (*persist)(void *user, const struct notifier_msg *m);
	void (*forget)(void *user, const struct notifier_msg *m);
	void (*log)(void *user, const char *line);
	void *user;
};

struct notifier_timing {
	double first_retry_s;   /* doubles per failure */
	double max_retry_s;
	double give_up_s;       /* after this long since the change, a message is dropped and logged */
};

#define NOTIFIER_DEFAULT_TIMING ((struct notifier_timing){ 2.0, 300.0, 3600.0 })

struct notifier *notifier_new(struct ev_loop *loop, const struct notify_dest *dests, size_t ndests,
			      const struct notifier_io *io, const struct notifier_timing *timing);
/* A change of displayed state: one message per destination that wants it. */
void notifier_announce(struct notifier *n, const struct notify_event *e);
/* A message kept from an earlier run (its destination named by key); ignored when the config no
 * longer has that destination. */
void notifier_restore(struct notifier *n, const char *dest_key, const struct notify_event *e,
		      int64_t id, int64_t created_ms, int attempts);
size_t notifier_pending(const struct notifier *n);
/* Every message still waiting, per destination in delivery order: how a reload hands them to
 * the notifier of the new config (through notifier_restore). */
typedef void (*notifier_msg_fn)(void *user, const char *dest_key, const struct notifier_msg *m);
void notifier_each(const struct notifier *n, notifier_msg_fn fn, void *user);
void notifier_free(struct notifier *n);

#endif

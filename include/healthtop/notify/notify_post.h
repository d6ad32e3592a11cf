/* Webhook POSTs for the notifier, on the probe's multi handle (never blocking the loop). A
 * notifier that goes away (reload, exit) cancels what it has in flight: the answers are then
 * only freed. */
#ifndef HEALTHTOP_NOTIFY_POST_H
#define HEALTHTOP_NOTIFY_POST_H

#include "healthtop/notify/notifier.h"
#include "healthtop/probe/probe.h"

#define NOTIFY_POST_TIMEOUT_MS 10000

struct notify_poster;

struct notify_poster *notify_poster_new(struct probe *probe);
/* The notifier_io.post function; user is the poster. */
int notify_poster_post(void *user, const struct notify_dest *d, const char *body, const char *ctype,
		       char hdr[2][256], size_t nhdr, notifier_done_fn done, void *ctx);
/* Answers still to come are not passed on. */
void notify_poster_cancel(struct notify_poster *p);
/* Call before the probe is freed (which drops the answers still to come). */
void notify_poster_free(struct notify_poster *p);

#endif

/* The built-in demo fleet: an HTTP server on 127.0.0.1 (libmicrohttpd on the libev loop) whose
 * endpoints show every class, so a new user sees the whole picture with no setup. */
#ifndef HEALTHTOP_DEMO_H
#define HEALTHTOP_DEMO_H

#include <ev.h>
#include "healthtop/core/config.h"
#include "healthtop/core/err.h"

struct demo;

struct demo *demo_start(struct ev_loop *loop, struct ht_err *err);
unsigned demo_port(const struct demo *d);

/* The demo fleet's config, pointing at this server (and at one closed port). */
int demo_config(const struct demo *d, struct ht_config *cfg, struct ht_err *err);

void demo_stop(struct demo *d);

#endif

/* /metrics over HTTP with libmicrohttpd on the loop: `--metrics-listen ADDR:PORT`. */
#ifndef HEALTHTOP_METRICS_HTTP_H
#define HEALTHTOP_METRICS_HTTP_H

#include <ev.h>
#include <stddef.h>
#include "healthtop/core/err.h"

struct metrics_http;

/* Renders the exposition (malloc'd) on the loop when a scrape arrives; NULL: 500. */
typedef char *(*metrics_render_fn)(void *user, size_t *len);

/* "127.0.0.1:9100", "[::1]:9100", "localhost:9100" or ":9100" (every address). Resolved once,
 * here; a bad address or a port in use is an error naming it. */
struct metrics_http *metrics_http_start(struct ev_loop *loop, const char *listen, metrics_render_fn fn,
					void *user, struct ht_err *err);
unsigned metrics_http_port(const struct metrics_http *m);
void metrics_http_stop(struct metrics_http *m);

#endif

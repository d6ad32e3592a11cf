/* libmicrohttpd driven by libev: MHD's epoll fd as an ev_io, its timeout as an ev_timer. Shared
 * by every server healthtop runs on its loop (the demo fleet, /metrics). */
#ifndef HEALTHTOP_HTTP_LOOP_H
#define HEALTHTOP_HTTP_LOOP_H

#include <ev.h>
#include <microhttpd.h>

struct http_loop {
	struct ev_loop *loop;
	struct MHD_Daemon *mhd;
	ev_io io;
	ev_timer timer;
};

/* mhd must have been started with MHD_USE_EPOLL (no thread of its own). -1 when its epoll fd
 * cannot be read. */
int http_loop_attach(struct http_loop *h, struct ev_loop *loop, struct MHD_Daemon *mhd);
/* Runs MHD now and re-arms its timer: after resuming a suspended connection. */
void http_loop_run(struct http_loop *h);
/* Stops the watchers and the daemon. */
void http_loop_stop(struct http_loop *h);

#endif

#include "autoconfig.h"

#include "healthtop/serve/http_loop.h"

static void rearm(struct http_loop *h)
{
	MHD_UNSIGNED_LONG_LONG to;

	ev_timer_stop(h->loop, &h->timer);
	if (MHD_get_timeout(h->mhd, &to) == MHD_YES) {
		ev_timer_set(&h->timer, (double)to / 1000.0, 0.0);
		ev_timer_start(h->loop, &h->timer);
	}
}

void http_loop_run(struct http_loop *h)
{
	MHD_run(h->mhd);
	rearm(h);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	http_loop_run(w->data);
}

static void on_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	http_loop_run(t->data);
}

int http_loop_attach(struct http_loop *h, struct ev_loop *loop, struct MHD_Daemon *mhd)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_EPOLL_FD);

	if (!info)
		return -1;
	h->loop = loop;
	h->mhd = mhd;
	ev_io_init(&h->io, on_io, info->epoll_fd, EV_READ);
	h->io.data = h;
	ev_io_start(loop, &h->io);
	ev_timer_init(&h->timer, on_timer, 0.0, 0.0);
	h->timer.data = h;
	rearm(h);
	return 0;
}

void http_loop_stop(struct http_loop *h)
{
	if (!h->mhd)
		return;
	ev_io_stop(h->loop, &h->io);
	ev_timer_stop(h->loop, &h->timer);
	MHD_stop_daemon(h->mhd);
	h->mhd = NULL;
}

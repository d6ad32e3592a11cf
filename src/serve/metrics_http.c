#include "autoconfig.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "healthtop/serve/http_loop.h"
#include "healthtop/serve/metrics_http.h"

struct metrics_http {
	struct http_loop http;
	metrics_render_fn fn;
	void *user;
	unsigned port;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, char *body, size_t len,
			     const char *ctype)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result rc;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	rc = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_len, void **state)
{
	struct metrics_http *m = cls;
	size_t len = 0;
	char *body;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(conn, 405, strdup("GET only\n"), 9, "text/plain");
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, 404, strdup("healthtop serves /metrics\n"), 26, "text/plain");
	body = m->fn(m->user, &len);
	if (!body)
		return reply(conn, 500, strdup("out of memory\n"), 14, "text/plain");
	return reply(conn, 200, body, len, "text/plain; version=0.0.4; charset=utf-8");
}

/* "host:port" with the host optional and IPv6 in brackets. */
static int split(const char *listen, char *host, size_t hsize, char *port, size_t psize)
{
	const char *colon = strrchr(listen, ':');
	size_t hl;

	if (!colon || !colon[1] || strlen(colon + 1) >= psize)
		return -1;
	hl = (size_t)(colon - listen);
	if (hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']') {
		listen++;
		hl -= 2;
	}
	if (hl >= hsize)
		return -1;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	snprintf(port, psize, "%s", colon + 1);
	/* getaddrinfo takes "99999" and wraps it, so the daemon would serve on a port nobody scrapes */
	return strspn(port, "0123456789") == strlen(port) && strtol(port, NULL, 10) <= 65535 ? 0 : -1;
}

static struct MHD_Daemon *start_on(struct metrics_http *m, const struct addrinfo *ai)
{
	unsigned flags = MHD_USE_EPOLL | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);

	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, m,
				MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
				MHD_OPTION_END);
}

struct metrics_http *metrics_http_start(struct ev_loop *loop, const char *listen, metrics_render_fn fn,
					void *user, struct ht_err *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res = NULL;
	char host[256], port[16];
	struct metrics_http *m;
	struct MHD_Daemon *mhd = NULL;

	if (split(listen, host, sizeof(host), port, sizeof(port)) < 0) {
		ht_err_set(err, "--metrics-listen: \"%.80s\" is not ADDR:PORT, PORT 0..65535 "
			   "(e.g. 127.0.0.1:9100)", listen);
		return NULL;
	}
	int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (gai != 0) {
		ht_err_set(err, "--metrics-listen: %.80s: %s", listen, gai_strerror(gai));
		return NULL;
	}
	if (!(m = calloc(1, sizeof(*m)))) {
		freeaddrinfo(res);
		ht_err_set(err, "out of memory");
		return NULL;
	}
	m->fn = fn;
	m->user = user;
	for (const struct addrinfo *ai = res; ai && !mhd; ai = ai->ai_next)
		mhd = start_on(m, ai);
	freeaddrinfo(res);
	if (!mhd || http_loop_attach(&m->http, loop, mhd) < 0) {
		ht_err_set(err, "--metrics-listen: cannot listen on %.80s (in use, or not an address here?)", listen);
		if (mhd)
			MHD_stop_daemon(mhd);
		free(m);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT);
	m->port = info ? info->port : 0;
	return m;
}

unsigned metrics_http_port(const struct metrics_http *m)
{
	return m->port;
}

void metrics_http_stop(struct metrics_http *m)
{
	if (!m)
		return;
	http_loop_stop(&m->http);
	free(m);
}

#include "autoconfig.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "healthtop/serve/demo.h"
#include "healthtop/serve/http_loop.h"

#define SLOW_S 1.4
#define HANG_S 30.0

struct demo_req {
	struct demo *d;
	struct MHD_Connection *conn;
	ev_timer timer;
	bool suspended;
	bool resumed;
	struct demo_req *prev, *next;   /* suspended ones, to wake at shutdown */
};

struct demo {
	struct ev_loop *loop;
	struct MHD_Daemon *mhd;
	struct http_loop http;
	unsigned port;
	unsigned closed_port;
	unsigned long flap_count;
	struct demo_req *waiting;
};

struct route {
	const char *path;
	double delay_s;
	int (*respond)(struct demo *d, char *buf, size_t size, const char **ctype);
};

static const char json_type[] = "application/json";

static int r_ok(struct demo *d, char *buf, size_t size, const char **ctype)
{
	snprintf(buf, size, "{\"status\":\"ok\",\"version\":\"2.0.0\"}");
	return 200;
}

static int r_deep(struct demo *d, char *buf, size_t size, const char **ctype)
{
	snprintf(buf, size, "{\"status\":\"ok\",\"postgres\":\"ok\",\"redis\":\"ok\","
		 "\"storage\":\"ok\",\"repo_mirrors\":\"ok\"}");
	return 200;
}

static int r_deep_redis(struct demo *d, char *buf, size_t size, const char **ctype)
{
	snprintf(buf, size, "{\"status\":\"ok\",\"postgres\":\"ok\",\"redis\":\"error\","
		 "\"storage\":\"ok\",\"repo_mirrors\":\"ok\"}");
	return 200;
}

static int r_workers(struct demo *d, char *buf, size_t size, const char **ctype)
{
	long now = (long)time(NULL);
	snprintf(buf, size, "{\"status\":\"ok\",\"workers\":["
		 "{\"type\":\"ai\",\"last_heartbeat\":%ld,\"status\":\"ok\"},"
		 "{\"type\":\"repo_sync\",\"last_heartbeat\":%ld,\"status\":\"ok\"}]}", now - 4, now - 95);
	return 200;
}

static int r_spring(struct demo *d, char *buf, size_t size, const char **ctype)
{
	snprintf(buf, size, "{\"status\":\"UP\",\"components\":{"
		 "\"db\":{\"status\":\"UP\"},\"diskSpace\":{\"status\":\"UP\"},"
		 "\"mail\":{\"status\":\"OUT_OF_SERVICE\"}}}");
	return 200;
}

static int r_ietf(struct demo *d, char *buf, size_t size, const char **ctype)
{
	*ctype = "application/health+json";
	snprintf(buf, size, "{\"status\":\"pass\",\"version\":\"1\",\"checks\":{"
		 "\"uptime\":[{\"componentType\":\"system\",\"status\":\"pass\"}],"
		 "\"ollama:responseTime\":[{\"observedValue\":250,\"status\":\"pass\"}]}}");
	return 200;
}

static int r_failing(struct demo *d, char *buf, size_t size, const char **ctype)
{
	snprintf(buf, size, "{\"status\":\"failing\",\"postgres\":\"error\"}");
	return 503;
}

static int r_flapping(struct demo *d, char *buf, size_t size, const char **ctype)
{
	if (d->flap_count++ % 3 == 2) {
		snprintf(buf, size, "{\"status\":\"down\"}");
		return 500;
	}
	snprintf(buf, size, "{\"status\":\"ok\"}");
	return 200;
}

static int r_missing(struct demo *d, char *buf, size_t size, const char **ctype)
{
	*ctype = "text/html";
	snprintf(buf, size, "<html><body>404 Not Found</body></html>");
	return 404;
}

static const struct route routes[] = {
	{ "/api/health", 0, r_ok },
	{ "/api/health/deep", 0, r_deep },
	{ "/api/health/workers", 0, r_workers },
	{ "/sync/health/deep", 0, r_deep_redis },
	{ "/web/health", 0, r_ok },
	{ "/search/health", SLOW_S, r_ok },
	{ "/flaky/health", 0, r_flapping },
	{ "/billing/actuator/health", 0, r_spring },
	{ "/coder/api/health", 0, r_ietf },
	{ "/ledger/health", 0, r_failing },
	{ "/reports/health", HANG_S, r_ok },
	{ "/docs/health", 0, r_missing },
};

/* Targets of the demo; "%u" is this server's port, "%c" a port nobody listens on. */
static const char demo_fleet[] =
	"{ \"concurrency\": 16,"
	"  \"defaults\": { \"interval_s\": 10, \"timeout_ms\": 2000, \"degraded_ms\": 1000 },"
	"  \"targets\": ["
	"  {\"name\":\"api\",        \"project\":\"hivesync\", \"url\":\"http://127.0.0.1:%u/api\"},"
	"  {\"name\":\"api-deep\",   \"project\":\"hivesync\", \"url\":\"http://127.0.0.1:%u/api\", \"path\":\"/health/deep\"},"
	"  {\"name\":\"workers\",    \"project\":\"hivesync\", \"url\":\"http://127.0.0.1:%u/api\", \"path\":\"/health/workers\"},"
	"  {\"name\":\"repo-sync\",  \"project\":\"hivesync\", \"url\":\"http://127.0.0.1:%u/sync\", \"path\":\"/health/deep\"},"
	"  {\"name\":\"web\",        \"project\":\"catalyst\", \"url\":\"http://127.0.0.1:%u/web\"},"
	"  {\"name\":\"search\",     \"project\":\"catalyst\", \"url\":\"http://127.0.0.1:%u/search\"},"
	"  {\"name\":\"flaky\",      \"project\":\"catalyst\", \"url\":\"http://127.0.0.1:%u/flaky\"},"
	"  {\"name\":\"billing\",    \"project\":\"catalyst\", \"url\":\"http://127.0.0.1:%u/billing\", \"path\":\"/actuator/health\"},"
	"  {\"name\":\"coder-api\",  \"project\":\"coder-ai\", \"url\":\"http://127.0.0.1:%u/coder/api/health\", \"path\":\"\"},"
	"  {\"name\":\"ledger\",     \"project\":\"coder-ai\", \"url\":\"http://127.0.0.1:%u/ledger\"},"
	"  {\"name\":\"reports\",    \"project\":\"coder-ai\", \"url\":\"http://127.0.0.1:%u/reports\"},"
	"  {\"name\":\"docs\",       \"project\":\"coder-ai\", \"url\":\"http://127.0.0.1:%u/docs\"},"
	"  {\"name\":\"legacy\",     \"project\":\"coder-ai\", \"url\":\"http://127.0.0.1:%c\"}"
	"  ] }";

static const struct route *find_route(const char *url)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(url, routes[i].path) == 0)
			return &routes[i];
	return NULL;
}

static void run_mhd(struct demo *d)
{
	http_loop_run(&d->http);
}

static void unlink_waiting(struct demo_req *r)
{
	struct demo *d = r->d;

	if (!r->suspended)
		return;
	if (r->prev)
		r->prev->next = r->next;
	else
		d->waiting = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
	r->suspended = false;
}

static void wake(struct demo_req *r)
{
	struct demo *d = r->d;

	ev_timer_stop(d->loop, &r->timer);
	unlink_waiting(r);
	r->resumed = true;
	MHD_resume_connection(r->conn);
}

static void on_delay_done(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct demo_req *r = t->data;
	struct demo *d = r->d;

	wake(r);
	run_mhd(d);
}

static enum MHD_Result reply(struct MHD_Connection *conn, int code, const char *body, const char *ctype)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	rc = MHD_queue_response(conn, (unsigned)code, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct demo *d = cls;
	struct demo_req *r = *state;
	const struct route *route = find_route(url);
	char body[1024];
	const char *ctype = json_type;

	if (!r) {
		if (!(r = calloc(1, sizeof(*r))))
			return MHD_NO;
		r->d = d;
		r->conn = conn;
		*state = r;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;   /* the demo ignores request bodies */
		return MHD_YES;
	}
	if (!route)
		return reply(conn, 404, "{\"error\":\"no such endpoint\"}", json_type);
	if (route->delay_s > 0 && !r->resumed) {
		ev_timer_init(&r->timer, on_delay_done, route->delay_s, 0.0);
		r->timer.data = r;
		ev_timer_start(d->loop, &r->timer);
		r->suspended = true;
		r->next = d->waiting;
		if (d->waiting)
			d->waiting->prev = r;
		d->waiting = r;
		MHD_suspend_connection(conn);
		return MHD_YES;
	}
	int code = route->respond(d, body, sizeof(body), &ctype);
	return reply(conn, code, body, ctype);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
			 enum MHD_RequestTerminationCode why)
{
	struct demo_req *r = *state;

	if (!r)
		return;
	ev_timer_stop(r->d->loop, &r->timer);
	unlink_waiting(r);
	free(r);
	*state = NULL;
}

/* A loopback port that refuses connections: bound once, then released. */
static unsigned closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port = 9;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

struct demo *demo_start(struct ev_loop *loop, struct ht_err *err)
{
	struct demo *d = calloc(1, sizeof(*d));
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	const union MHD_DaemonInfo *info;

	if (!d) {
		ht_err_set(err, "demo: out of memory");
		return NULL;
	}
	d->loop = loop;
	d->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
				  on_request, d,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, d,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
				  MHD_OPTION_END);
	if (!d->mhd) {
		ht_err_set(err, "demo: cannot start the demo server on 127.0.0.1");
		free(d);
		return NULL;
	}
	info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_BIND_PORT);
	d->port = info ? info->port : 0;
	if (d->port == 0 || http_loop_attach(&d->http, loop, d->mhd) < 0) {
		ht_err_set(err, "demo: cannot read the demo server's port or epoll fd");
		MHD_stop_daemon(d->mhd);
		free(d);
		return NULL;
	}
	d->closed_port = closed_port();
	return d;
}

unsigned demo_port(const struct demo *d)
{
	return d->port;
}

int demo_config(const struct demo *d, struct ht_config *cfg, struct ht_err *err)
{
	char text[sizeof(demo_fleet) + 256];
	char port[16], closed[16];
	size_t o = 0;

	snprintf(port, sizeof(port), "%u", d->port);
	snprintf(closed, sizeof(closed), "%u", d->closed_port);
	for (const char *p = demo_fleet; *p && o + 16 < sizeof(text); p++) {
		const char *put = NULL;
		if (p[0] == '%' && p[1] == 'u')
			put = port;
		else if (p[0] == '%' && p[1] == 'c')
			put = closed;
		if (put) {
			size_t n = strlen(put);
			memcpy(text + o, put, n);
			o += n;
			p++;
		} else {
			text[o++] = *p;
		}
	}
	text[o] = '\0';
	return config_parse(text, o, "(demo fleet)", NULL, cfg, err);
}

void demo_stop(struct demo *d)
{
	if (!d)
		return;
	/* MHD requires suspended connections to be resumed before it stops. */
	while (d->waiting)
		wake(d->waiting);
	http_loop_stop(&d->http);
	free(d);
}

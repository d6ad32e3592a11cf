/* probe_submit_post: a webhook POST on the checks' multi handle and admission queue, against a
 * receiver on 127.0.0.1 (libmicrohttpd on the same loop). */
#include "autoconfig.h"
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/probe/probe.h"
#include "healthtop/serve/http_loop.h"

struct receiver {
	struct http_loop hl;
	unsigned short port;
	int requests;
	char method[16];
	char content_type[64];
	char token[64];
	char raw[64];
	char body[256];
	size_t body_len;
};

struct outcome {
	struct ev_loop *loop;
	int results;
	long http_code;
	enum probe_outcome outcome;
};

static void copy_header(struct MHD_Connection *c, const char *name, char *out, size_t size)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

	snprintf(out, size, "%s", v ? v : "");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	struct receiver *rx = cls;
	static int first;

	if (!*con_cls) {
		*con_cls = &first;
		return MHD_YES;
	}
	if (*data_size) {
		size_t room = sizeof(rx->body) - 1 - rx->body_len;
		size_t take = *data_size < room ? *data_size : room;
		memcpy(rx->body + rx->body_len, data, take);
		rx->body_len += take;
		rx->body[rx->body_len] = '\0';
		*data_size = 0;
		return MHD_YES;
	}
	rx->requests++;
	snprintf(rx->method, sizeof(rx->method), "%s", method);
	copy_header(c, "Content-Type", rx->content_type, sizeof(rx->content_type));
	copy_header(c, "X-Token", rx->token, sizeof(rx->token));
	copy_header(c, "X-Raw", rx->raw, sizeof(rx->raw));
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc = MHD_queue_response(c, 204, resp);
	MHD_destroy_response(resp);
	return rc;
}

static void receiver_start(struct receiver *rx, struct ev_loop *loop)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
						 on_request, rx, MHD_OPTION_SOCK_ADDR, &sa,
						 MHD_OPTION_END);
	const union MHD_DaemonInfo *info;

	assert_non_null(d);
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	rx->port = info->port;
	assert_int_equal(http_loop_attach(&rx->hl, loop, d), 0);
}

static void on_done(void *user, struct probe_result *r)
{
	struct outcome *o = user;

	o->results++;
	o->http_code = r->http_code;
	o->outcome = r->outcome;
	ev_break(o->loop, EVBREAK_ALL);
}

/* A safety net, not a measure: if the loop ever waits this long, the result was lost. */
static void on_hung(struct ev_loop *loop, ev_timer *t, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

static void test_post_delivers_body_and_headers(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct receiver rx = { .requests = 0 };
	struct outcome o = { .loop = loop };
	struct ht_err err = { "" };
	struct ht_header hdr = { .name = "X-Token", .value = "s3cret" };
	const char *raw[] = { "X-Raw: yes", NULL };
	char url[64], payload[] = "{\"event\":\"down\"}";
	ev_timer hung;

	receiver_start(&rx, loop);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook", rx.port);
	struct probe *p = probe_new(loop, 4, &err);
	assert_non_null(p);
	struct probe_post post = { .url = url, .headers = &hdr, .nheaders = 1, .raw_headers = raw,
				   .content_type = "application/json", .body = payload,
				   .body_len = strlen(payload), .timeout_ms = 30000 };
	assert_int_equal(probe_submit_post(p, &post, on_done, &o), 0);
	memset(payload, 'x', sizeof(payload) - 1);   /* the probe kept its own copy */
	ev_timer_init(&hung, on_hung, 30.0, 0.0);
	ev_timer_start(loop, &hung);
	ev_run(loop, 0);
	ev_timer_stop(loop, &hung);
	assert_int_equal(o.results, 1);
	assert_int_equal(o.outcome, PROBE_OK);
	assert_int_equal(o.http_code, 204);
	assert_int_equal(rx.requests, 1);
	assert_string_equal(rx.method, "POST");
	assert_string_equal(rx.body, "{\"event\":\"down\"}");
	assert_string_equal(rx.content_type, "application/json");
	assert_string_equal(rx.token, "s3cret");
	assert_string_equal(rx.raw, "yes");
	probe_free(p);
	http_loop_stop(&rx.hl);
	ev_loop_destroy(loop);
}

/* A POST waits in the same queue as checks: with one slot taken, it is queued, not started. */
static void test_post_counts_against_concurrency(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct ht_err err = { "" };
	struct ht_target t = { .name = "a", .url = "http://127.0.0.1:9", .check_url = "http://127.0.0.1:9/",
			       .display_url = "http://127.0.0.1:9/", .interval_s = 60,
			       .probe = { .timeout_ms = 60000 } };
	struct probe_post post = { .url = "http://127.0.0.1:9/hook", .body = "{}", .body_len = 2 };
	struct outcome o = { .loop = loop };
	struct probe *p = probe_new(loop, 1, &err);

	assert_non_null(p);
	assert_int_equal(probe_submit(p, &t, on_done, &o), 0);
	assert_int_equal(probe_submit_post(p, &post, on_done, &o), 0);
	assert_int_equal(probe_in_flight(p), 1);
	assert_int_equal(probe_queued(p), 1);
	probe_free(p);   /* frees the queued POST's copies too (valgrind/ASan see it) */
	ev_loop_destroy(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_post_delivers_body_and_headers),
		cmocka_unit_test(test_post_counts_against_concurrency),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}

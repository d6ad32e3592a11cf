/* One probe's observation: what the network said, before any judgement. */
#ifndef HEALTHTOP_RESULT_H
#define HEALTHTOP_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROBE_BODY_MAX (64u * 1024)

enum probe_outcome {
	PROBE_OK = 0,       /* an HTTP response arrived (any status) */
	PROBE_DNS,          /* name did not resolve */
	PROBE_REFUSED,      /* connection refused */
	PROBE_UNREACHABLE,  /* no route, network unreachable */
	PROBE_TLS,          /* handshake or certificate verification failed */
	PROBE_TIMEOUT,      /* timeout_ms elapsed */
	PROBE_REDIRECTS,    /* more than the allowed redirects (a loop) */
	PROBE_ERROR,        /* any other transport failure (reset, empty reply...) */
};

/* What was checked, from the URL's scheme: the classifier's rules differ by kind. */
enum probe_kind {
	PROBE_KIND_HTTP = 0,  /* http://, https:// */
	PROBE_KIND_GRPC,      /* grpc://, grpcs://: grpc.health.v1.Health/Check over HTTP/2 */
	PROBE_KIND_TCP,       /* tcp://: a TCP connect, nothing sent */
	PROBE_KIND_TLS,       /* tls://: a TCP connect and a TLS handshake, nothing sent */
};

struct probe_result {
	int64_t started_ms;      /* wall clock, unix ms, when the transfer left the queue */
	int64_t planned_ms;      /* when the scheduler meant it to start (set by sched); 0: unscheduled */
	enum probe_outcome outcome;
	long http_code;          /* 0: no response */
	double total_ms;         /* phases: < 0 when absent */
	double dns_ms;
	double connect_ms;
	double tls_ms;
	double ttfb_ms;          /* from request sent to first response byte */
	int64_t cert_expiry;     /* unix seconds, 0 unknown */
	char error[192];         /* transport error text, sanitized; "" when none */
	char *body;              /* NUL-terminated, at most PROBE_BODY_MAX bytes, owned */
	size_t body_len;
	bool body_truncated;
	enum probe_kind kind;
	bool grpc_status_seen;   /* a grpc-status header or trailer arrived */
	long grpc_status;        /* its code (0 = OK) */
	char grpc_message[128];  /* grpc-message, percent-decoded and sanitized */
};

void probe_result_fini(struct probe_result *r);

#endif

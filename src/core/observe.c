#include "autoconfig.h"
#include <stdio.h>
#include <string.h>
#include "healthtop/core/observe.h"

static void fill_row(const struct probe_result *r, struct observation *o)
{
	snprintf(o->error, sizeof(o->error), "%s", r->error);
	o->row = (struct store_row){
		.target_id = 0,
		.checked_at_ms = r->started_ms, .cls = o->verdict.cls, .http_code = r->http_code,
		.response_ms = r->total_ms, .dns_ms = r->dns_ms, .connect_ms = r->connect_ms,
		.tls_ms = r->tls_ms, .ttfb_ms = r->ttfb_ms, .cert_expiry = r->cert_expiry,
		.reason = o->verdict.reason, .error = o->error,
	};
}

static void fill_last(const struct probe_result *r, struct observation *o)
{
	o->last = (struct state_last){
		.at_ms = r->started_ms, .cls = o->verdict.cls, .http_code = r->http_code,
		.total_ms = (float)r->total_ms, .dns_ms = (float)r->dns_ms,
		.connect_ms = (float)r->connect_ms, .tls_ms = (float)r->tls_ms,
		.ttfb_ms = (float)r->ttfb_ms, .cert_expiry = r->cert_expiry,
	};
	snprintf(o->last.reason, sizeof(o->last.reason), "%s", o->verdict.reason);
}

static void fill_change(const struct ht_target *t, const struct target_state *prev, struct observation *o)
{
	struct state_sample before;
	bool have_before = prev && state_sample_get(prev, 0, &before);
	int from;

	if (prev)
		o->soft = prev->soft;
	else
		soft_state_init(&o->soft);
	if (o->soft.shown == SOFT_STATE_UNKNOWN && have_before)
		o->soft.shown = (int8_t)before.cls;
	bool stepped = soft_state_step(&o->soft, &t->soft, o->verdict.cls, &from);
	o->shown = (enum ht_class)o->soft.shown;
	o->changed = stepped && from != SOFT_STATE_UNKNOWN;
	o->from = from == SOFT_STATE_UNKNOWN ? o->shown : (enum ht_class)from;
}

void observe(const struct ht_target *t, const struct probe_result *r,
	     const struct target_state *prev, int64_t now_s, struct observation *o)
{
	memset(o, 0, sizeof(*o));
	classify_result(r, &t->rules, t->probe.timeout_ms, now_s, &o->verdict);
	o->up = classify_is_up(r, &t->rules, o->verdict.cls);
	fill_row(r, o);
	o->row.up = o->up;
	o->row.url = t->display_url;   /* history keeps what was checked, whatever the config says later */
	fill_last(r, o);
	/* latency only when something answered: a response, or a tcp/tls connection */
	o->latency_ms = (r->http_code > 0 || (r->outcome == PROBE_OK && r->kind != PROBE_KIND_HTTP)) ?
		r->total_ms : -1;
	fill_change(t, prev, o);
}

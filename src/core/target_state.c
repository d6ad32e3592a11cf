#include "autoconfig.h"
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/sample_pack.h"
#include "healthtop/core/target_state.h"

void state_init(struct target_state *s)
{
	memset(s, 0, sizeof(*s));
	s->last.reason = "";
	soft_state_init(&s->soft);
}

void state_fini(struct target_state *s)
{
	free(s->last.comps);
	free(s->reason_buf);
	hist_span_fini(&s->win_hist);
	memset(s, 0, sizeof(*s));
	s->last.reason = "";
}

static unsigned ring_slot(const struct target_state *s, unsigned i)
{
	return (s->ring_head + STATE_RING - 1 - i) % STATE_RING;
}

static uint8_t ring_cls(const struct state_ring *r, unsigned k)
{
	return (uint8_t)((r->cls[k / 4] >> ((k % 4) * 2)) & 3u);
}

static void ring_put(struct target_state *s, int64_t at_ms, double ms, enum ht_class cls)
{
	struct state_ring *r = &s->ring;
	unsigned k = s->ring_head, shift = (k % 4) * 2;

	if (s->ring_n == 0) {
		r->newest_gap_ms = at_ms;
		r->gap[k] = 0;
	} else {
		/* from the time the ring holds for the newest, so that rounding never adds up */
		r->gap[k] = sample_pack_gap(at_ms - r->newest_gap_ms);
		r->newest_gap_ms += sample_unpack_gap(r->gap[k]);   /* slot k held the oldest, if full */
	}
	r->newest_ms = at_ms;
	r->newest_lat = (float)ms;
	r->lat[k] = sample_pack_ms(ms);
	r->cls[k / 4] = (uint8_t)((r->cls[k / 4] & ~(3u << shift)) | (((unsigned)cls & 3u) << shift));
}

bool state_sample_get(const struct target_state *s, unsigned i, struct state_sample *out)
{
	const struct state_ring *r = &s->ring;
	unsigned k;

	if (i >= s->ring_n)
		return false;
	k = ring_slot(s, i);
	if (i == 0) {
		*out = (struct state_sample){ r->newest_ms, r->newest_lat, ring_cls(r, k) };
		return true;
	}
	int64_t at = r->newest_gap_ms;
	for (unsigned j = 0; j < i; j++)
		at -= sample_unpack_gap(r->gap[ring_slot(s, j)]);
	*out = (struct state_sample){ at, sample_unpack_ms(r->lat[k]), ring_cls(r, k) };
	return true;
}

bool state_add_sample(struct target_state *s, int64_t at_ms, double ms, enum ht_class cls)
{
	struct state_sample prev;
	bool changed = state_sample_get(s, 0, &prev) && prev.cls != (uint8_t)cls;

	if (changed) {
		s->changes[s->changes_head] = (struct state_change){ at_ms, prev.cls, (uint8_t)cls };
		s->changes_head = (s->changes_head + 1) % STATE_CHANGES;
		if (s->changes_n < STATE_CHANGES)
			s->changes_n++;
	}
	ring_put(s, at_ms, ms, cls);
	s->ring_head = (s->ring_head + 1) % STATE_RING;
	if (s->ring_n < STATE_RING)
		s->ring_n++;
	return changed;
}

/* The reason into the target's own buffer, grown only when a longer one comes. Without memory
 * for a longer one it is cut to the room there is: the check's other details still count. */
static void keep_reason(struct target_state *s, const char *reason)
{
	size_t len = strnlen(reason, sizeof(((struct state_last *)0)->reason) - 1) + 1;

	if (len > s->reason_cap) {
		size_t cap = (len + 15) & ~(size_t)15;
		char *b = realloc(s->reason_buf, cap);
		if (b) {
			s->reason_buf = b;
			s->reason_cap = (uint8_t)cap;
		}
		if (len > s->reason_cap)
			len = s->reason_cap;
	}
	if (len <= 1) {
		s->last.reason = "";
		return;
	}
	memcpy(s->reason_buf, reason, len - 1);
	s->reason_buf[len - 1] = '\0';
	s->last.reason = s->reason_buf;
}

/* The components into the target's own array, grown only when more come. */
static int keep_comps(struct target_state *s, const struct body_component *comps, size_t ncomps)
{
	if (ncomps > s->comps_cap) {
		struct body_component *c = realloc(s->last.comps, ncomps * sizeof(*c));
		if (!c)
			return -1;
		s->last.comps = c;
		s->comps_cap = (uint8_t)ncomps;
	}
	if (ncomps)
		memcpy(s->last.comps, comps, ncomps * sizeof(*comps));
	s->last.ncomps = ncomps;
	return 0;
}

int state_set_last(struct target_state *s, const struct state_last *last,
		   const struct body_component *comps, size_t ncomps)
{
	if (ncomps > BODY_MAX_COMPONENTS || keep_comps(s, comps, ncomps) < 0)
		return -1;
	keep_reason(s, last->reason);
	s->last.at_ms = last->at_ms;
	s->last.cls = last->cls;
	s->last.http_code = last->http_code;
	s->last.total_ms = last->total_ms;
	s->last.dns_ms = last->dns_ms;
	s->last.connect_ms = last->connect_ms;
	s->last.tls_ms = last->tls_ms;
	s->last.ttfb_ms = last->ttfb_ms;
	s->last.cert_expiry = last->cert_expiry;
	s->checked = true;
	/* history read back at start: its newest result stands for what was displayed */
	if (s->soft.shown == SOFT_STATE_UNKNOWN)
		s->soft.shown = (int8_t)last->cls;
	return 0;
}

const struct state_change *state_change_at(const struct target_state *s, unsigned i)
{
	if (i >= s->changes_n)
		return NULL;
	return &s->changes[(s->changes_head + STATE_CHANGES - 1 - i) % STATE_CHANGES];
}

void state_window_reset(struct target_state *s)
{
	memset(s->win_counts, 0, sizeof(s->win_counts));
	s->win_up = 0;
	hist_span_clear(&s->win_hist);
}

void state_window_add(struct target_state *s, enum ht_class cls, int bucket, uint32_t count)
{
	if ((unsigned)cls < HT_CLASS_COUNT)
		s->win_counts[cls] += count;
	else if (cls == STATE_WINDOW_UP)
		s->win_up += count;
	if (bucket >= 0 && hist_span_add(&s->win_hist, bucket, count) < 0)
		return;   /* no memory: p95 misses these checks, the counts above keep them */
}

static bool sub_count(uint32_t *v, uint32_t count)
{
	bool enough = *v >= count;

	*v = enough ? *v - count : 0;
	return enough;
}

bool state_window_sub(struct target_state *s, enum ht_class cls, int bucket, uint32_t count)
{
	bool ok = true;

	if ((unsigned)cls < HT_CLASS_COUNT)
		ok = sub_count(&s->win_counts[cls], count);
	else if (cls == STATE_WINDOW_UP)
		ok = sub_count(&s->win_up, count);
	return hist_span_sub(&s->win_hist, bucket, count) && ok;
}

void state_window_add_check(struct target_state *s, enum ht_class cls, int bucket, bool up)
{
	state_window_add(s, cls, bucket, 1);
	if (up)
		state_window_add(s, STATE_WINDOW_UP, -1, 1);
}

void state_show(struct target_state *s, const struct soft_state *next, int64_t at_ms)
{
	if (next->shown != s->soft.shown || s->shown_since_ms == 0)
		s->shown_since_ms = at_ms;
	s->soft = *next;
}

bool state_change_pending(const struct target_state *s, const struct soft_rules *r)
{
	enum ht_class to;
	int count, needed;

	return soft_state_pending(&s->soft, r, &to, &count, &needed);
}

double state_uptime(const struct target_state *s)
{
	uint64_t total = (uint64_t)s->win_counts[0] + s->win_counts[1] + s->win_counts[2];

	if (total == 0)
		return -1;
	return 100.0 * (double)(s->win_up > total ? total : s->win_up) / (double)total;
}

double state_p95(const struct target_state *s)
{
	return hist_span_quantile(&s->win_hist, 0.95);
}

#include "autoconfig.h"
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/target_state.h"

void state_init(struct target_state *s)
{
	memset(s, 0, sizeof(*s));
	soft_state_init(&s->soft);
}

void state_fini(struct target_state *s)
{
	free(s->last.comps);
	memset(s, 0, sizeof(*s));
}

bool state_add_sample(struct target_state *s, int64_t at_ms, double ms, enum ht_class cls)
{
	const struct state_sample *prev = state_sample_at(s, 0);
	bool changed = prev && prev->cls != (uint8_t)cls;

	if (changed) {
		s->changes[s->changes_head] = (struct state_change){ at_ms, prev->cls, (uint8_t)cls };
		s->changes_head = (s->changes_head + 1) % STATE_CHANGES;
		if (s->changes_n < STATE_CHANGES)
			s->changes_n++;
	}
	s->ring[s->ring_head] = (struct state_sample){ at_ms, (float)ms, (uint8_t)cls };
	s->ring_head = (s->ring_head + 1) % STATE_RING;
	if (s->ring_n < STATE_RING)
		s->ring_n++;
	return changed;
}

int state_set_last(struct target_state *s, const struct state_last *last,
		   const struct body_component *comps, size_t ncomps)
{
	struct body_component *copy = NULL;

	if (ncomps > 0) {
		copy = malloc(ncomps * sizeof(*copy));
		if (!copy)
			return -1;
		memcpy(copy, comps, ncomps * sizeof(*copy));
	}
	free(s->last.comps);
	s->last = *last;
	s->last.comps = copy;
	s->last.ncomps = ncomps;
	s->checked = true;
	/* history read back at start: its newest result stands for what was displayed */
	if (s->soft.shown == SOFT_STATE_UNKNOWN)
		s->soft.shown = (int8_t)last->cls;
	return 0;
}

const struct state_sample *state_sample_at(const struct target_state *s, unsigned i)
{
	if (i >= s->ring_n)
		return NULL;
	return &s->ring[(s->ring_head + STATE_RING - 1 - i) % STATE_RING];
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
	memset(&s->win_hist, 0, sizeof(s->win_hist));
}

void state_window_add(struct target_state *s, enum ht_class cls, int bucket, uint32_t count)
{
	if ((unsigned)cls < HT_CLASS_COUNT)
		s->win_counts[cls] += count;
	else if (cls == STATE_WINDOW_UP)
		s->win_up += count;
	if (bucket >= 0)
		hist_add_bucket(&s->win_hist, bucket, count);
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
	return hist_quantile(&s->win_hist, 0.95);
}

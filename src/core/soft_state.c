#include "autoconfig.h"

#include "healthtop/core/soft_state.h"

void soft_state_init(struct soft_state *s)
{
	s->shown = SOFT_STATE_UNKNOWN;
	s->toward = SOFT_STATE_UNKNOWN;
	s->streak = 0;
}

static int needed_for(const struct soft_state *s, const struct soft_rules *r, int to)
{
	int n = to > s->shown ? r->failures_before_down : r->successes_before_healthy;

	return n < 1 ? 1 : n;
}

bool soft_state_step(struct soft_state *s, const struct soft_rules *r, enum ht_class raw, int *from)
{
	int cls = (int)raw;

	*from = s->shown;
	if (s->shown == SOFT_STATE_UNKNOWN || cls == s->shown) {
		bool changed = s->shown != cls;
		s->shown = (int8_t)cls;
		s->streak = 0;
		s->toward = SOFT_STATE_UNKNOWN;
		return changed;
	}
	/* a result on the other side of shown breaks the streak; worse-then-worse continues it */
	bool same_side = s->streak > 0 && ((s->toward > s->shown) == (cls > s->shown));
	s->streak = same_side && s->streak < SOFT_STATE_MAX_COUNT ? (uint8_t)(s->streak + 1) : 1;
	s->toward = (int8_t)cls;
	if (s->streak < needed_for(s, r, cls))
		return false;
	s->shown = (int8_t)cls;
	s->streak = 0;
	s->toward = SOFT_STATE_UNKNOWN;
	return true;
}

bool soft_state_pending(const struct soft_state *s, const struct soft_rules *r, enum ht_class *to,
			int *count, int *needed)
{
	if (s->streak == 0 || s->toward == SOFT_STATE_UNKNOWN)
		return false;
	*to = (enum ht_class)s->toward;
	*count = s->streak;
	*needed = needed_for(s, r, s->toward);
	return true;
}

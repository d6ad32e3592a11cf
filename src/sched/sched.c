#include "autoconfig.h"
#include <stdlib.h>
#include "healthtop/core/clock.h"
#include "healthtop/sched/sched.h"

struct sched_slot {
	struct sched *s;
	size_t idx;
	ev_timer timer;
	int64_t due_ms;      /* when the timer is meant to fire next (wall ms, libev's clock) */
	int64_t planned_ms;  /* when the running check was meant to start: its start lag's origin */
	bool in_flight;
	bool adopted;   /* a check started before a reload runs for it: not started twice */
};

struct sched {
	struct ev_loop *loop;
	struct probe *probe;
	const struct ht_config *cfg;
	struct sched_slot *slots;
	size_t in_flight;
	sched_result_fn fn;
	void *user;
};

double sched_first_tick(size_t i, size_t n, int interval_s)
{
	if (n == 0)
		return interval_s;
	return interval_s * (0.5 + (double)i / (double)n);
}

static void free_now(struct sched *s)
{
	for (size_t i = 0; i < s->cfg->ntargets; i++)
		ev_timer_stop(s->loop, &s->slots[i].timer);
	free(s->slots);
	free(s);
}

static void on_probe_done(void *user, struct probe_result *r)
{
	struct sched_slot *slot = user;
	struct sched *s = slot->s;

	slot->in_flight = false;
	s->in_flight--;
	r->planned_ms = slot->planned_ms;
	s->fn(s->user, slot->idx, r);
}

static int submit(struct sched_slot *slot, int64_t planned_ms)
{
	struct sched *s = slot->s;

	if (slot->in_flight || slot->adopted)
		return 1;
	slot->planned_ms = planned_ms;
	slot->in_flight = true;
	s->in_flight++;
	if (probe_submit(s->probe, &s->cfg->targets[slot->idx], on_probe_done, slot) < 0) {
		slot->in_flight = false;
		s->in_flight--;
		return -1;
	}
	return 0;
}

/* libev's timers are in its own time base (ev_now): the planned times are kept in it too, so
 * that a late loop shows as lag and a timer never looks early. */
static int64_t loop_ms(struct ev_loop *loop, double after_s)
{
	return (int64_t)((ev_now(loop) + after_s) * 1000.0);
}

/* Each target's timer sits in libev's heap: firing one costs O(log n), never a walk of all. */
static void on_tick(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct sched_slot *slot = t->data;
	int64_t planned = slot->due_ms;

	/* libev has already moved the timer on by its interval (or to now when far behind) */
	slot->due_ms = loop_ms(loop, ev_timer_remaining(loop, t));
	submit(slot, planned);   /* a check still running is not started twice */
}

struct sched *sched_new(struct ev_loop *loop, struct probe *p, const struct ht_config *cfg,
			sched_result_fn fn, void *user)
{
	struct sched *s = calloc(1, sizeof(*s));

	if (!s || !(s->slots = calloc(cfg->ntargets ? cfg->ntargets : 1, sizeof(*s->slots)))) {
		free(s);
		return NULL;
	}
	s->loop = loop;
	s->probe = p;
	s->cfg = cfg;
	s->fn = fn;
	s->user = user;
	for (size_t i = 0; i < cfg->ntargets; i++) {
		struct sched_slot *slot = &s->slots[i];
		int iv = cfg->targets[i].interval_s;
		slot->s = s;
		slot->idx = i;
		ev_timer_init(&slot->timer, on_tick, sched_first_tick(i, cfg->ntargets, iv), iv);
		slot->timer.data = slot;
	}
	return s;
}

void sched_start(struct sched *s)
{
	/* Reading a large config may have taken seconds since the loop last looked at the clock:
	 * the timers' spread starts from now, not from then. */
	ev_now_update(s->loop);
	int64_t now = loop_ms(s->loop, 0);
	for (size_t i = 0; i < s->cfg->ntargets; i++) {
		struct sched_slot *slot = &s->slots[i];
		submit(slot, now);
		ev_timer_start(s->loop, &slot->timer);
		slot->due_ms = loop_ms(s->loop, ev_timer_remaining(s->loop, &slot->timer));
	}
}

int sched_force(struct sched *s, size_t idx)
{
	if (idx >= s->cfg->ntargets)
		return -1;
	return submit(&s->slots[idx], clock_wall_ms());
}

void sched_force_all(struct sched *s)
{
	int64_t now = clock_wall_ms();

	for (size_t i = 0; i < s->cfg->ntargets; i++)
		submit(&s->slots[i], now);
}

void sched_retry_in(struct sched *s, size_t idx, double after_s)
{
	struct sched_slot *slot;

	if (idx >= s->cfg->ntargets || after_s <= 0)
		return;
	slot = &s->slots[idx];
	/* a retired scheduler has stopped its timers: the new one decides */
	if (!ev_is_active(&slot->timer) || ev_timer_remaining(s->loop, &slot->timer) <= after_s)
		return;
	ev_timer_stop(s->loop, &slot->timer);
	ev_timer_set(&slot->timer, after_s, s->cfg->targets[idx].interval_s);
	ev_timer_start(s->loop, &slot->timer);
	slot->due_ms = loop_ms(s->loop, after_s);
}

bool sched_in_flight(const struct sched *s, size_t idx)
{
	return idx < s->cfg->ntargets && (s->slots[idx].in_flight || s->slots[idx].adopted);
}

void sched_adopt(struct sched *s, size_t idx, bool running)
{
	if (idx < s->cfg->ntargets)
		s->slots[idx].adopted = running;
}

void sched_retire(struct sched *s, sched_result_fn fn, void *user)
{
	for (size_t i = 0; i < s->cfg->ntargets; i++)
		ev_timer_stop(s->loop, &s->slots[i].timer);
	s->fn = fn;
	s->user = user;
}

bool sched_idle(const struct sched *s)
{
	return s->in_flight == 0;
}

void sched_free(struct sched *s)
{
	if (s)
		free_now(s);
}

void sched_start_one(struct sched *s, size_t idx, bool now, double after_s)
{
	struct sched_slot *slot;

	if (idx >= s->cfg->ntargets)
		return;
	slot = &s->slots[idx];
	ev_timer_stop(s->loop, &slot->timer);
	if (now)
		submit(slot, loop_ms(s->loop, 0));
	ev_timer_set(&slot->timer, after_s > 0 ? after_s : s->cfg->targets[idx].interval_s,
		     s->cfg->targets[idx].interval_s);
	ev_timer_start(s->loop, &slot->timer);
	slot->due_ms = loop_ms(s->loop, ev_timer_remaining(s->loop, &slot->timer));   /* start lag's origin */
}

void sched_stop_one(struct sched *s, size_t idx)
{
	if (idx < s->cfg->ntargets)
		ev_timer_stop(s->loop, &s->slots[idx].timer);   /* a check running still reports */
}

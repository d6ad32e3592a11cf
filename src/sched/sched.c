#include "autoconfig.h"
#include <stdlib.h>
#include "healthtop/sched/sched.h"

struct sched_slot {
	struct sched *s;
	size_t idx;
	ev_timer timer;
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
	s->fn(s->user, slot->idx, r);
}

static int submit(struct sched_slot *slot)
{
	struct sched *s = slot->s;

	if (slot->in_flight || slot->adopted)
		return 1;
	slot->in_flight = true;
	s->in_flight++;
	if (probe_submit(s->probe, &s->cfg->targets[slot->idx], on_probe_done, slot) < 0) {
		slot->in_flight = false;
		s->in_flight--;
		return -1;
	}
	return 0;
}

static void on_tick(struct ev_loop *loop, ev_timer *t, int revents)
{
	submit(t->data);   /* a check still running is not started twice */
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
	for (size_t i = 0; i < s->cfg->ntargets; i++) {
		submit(&s->slots[i]);
		ev_timer_start(s->loop, &s->slots[i].timer);
	}
}

int sched_force(struct sched *s, size_t idx)
{
	if (idx >= s->cfg->ntargets)
		return -1;
	return submit(&s->slots[idx]);
}

void sched_force_all(struct sched *s)
{
	for (size_t i = 0; i < s->cfg->ntargets; i++)
		submit(&s->slots[i]);
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

void sched_start_one(struct sched *s, size_t idx, double first_s)
{
	struct sched_slot *slot;

	if (idx >= s->cfg->ntargets)
		return;
	slot = &s->slots[idx];
	ev_timer_stop(s->loop, &slot->timer);
	if (first_s <= 0)
		submit(slot);
	ev_timer_set(&slot->timer, first_s > 0 ? first_s : s->cfg->targets[idx].interval_s,
		     s->cfg->targets[idx].interval_s);
	ev_timer_start(s->loop, &slot->timer);
}

void sched_stop_one(struct sched *s, size_t idx)
{
	if (idx < s->cfg->ntargets)
		ev_timer_stop(s->loop, &s->slots[idx].timer);   /* a check running still reports */
}

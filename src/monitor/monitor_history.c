/* The past read back in slices: each target's newest results (its sample ring) and its share of
 * the history window, HISTORY_SLICE targets per loop turn. A fleet of that size or less is read
 * at once, as it always was; a larger one draws its first frame at once and fills in over the
 * next loop turns, keys answered between slices (100 000 targets: a 1 h window alone is 6 million
 * rows, seconds of reading the screen must not wait for). */
#include "autoconfig.h"
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/clock.h"
#include "healthtop/core/histogram.h"
#include "monitor/monitor_priv.h"

/* About 30 ms on the project's machine for targets checked every 60 s (120 results for the
 * ring and 60 for a 1 h window, each row an index seek of 2-3 us): a key pressed meanwhile
 * waits at most that long. */
#define HISTORY_SLICE 64

struct history {
	ev_timer timer;          /* 0 s, re-armed: one slice per loop turn */
	struct monitor *m;
	struct target_key **keys;   /* the config read for (m->keys then) */
	size_t next;             /* first target (config order) of the next slice */
	int64_t since_ms;
	bool rings;              /* also read the rings of targets that have none yet */
	bool running;
	bool *in_slice;          /* by target: its unwritten results count in this slice */
	size_t nflags;
	int64_t *ids;            /* a slice's store ids, sorted */
	size_t nslice;           /* room in ids and map */
	struct slice_id { int64_t id; size_t idx; } *map;
	uint64_t slices;
	monitor_history_fn fn;
	void *user;
};

static int cmp_slice_id(const void *a, const void *b)
{
	const struct slice_id *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

struct slice_ctx {
	struct history *h;
	size_t n;
};

static void add_row(void *user, int64_t target_id, enum ht_class cls, int bucket, uint32_t count)
{
	struct slice_ctx *c = user;
	struct slice_id key = { target_id, 0 };
	struct slice_id *hit = bsearch(&key, c->h->map, c->n, sizeof(*hit), cmp_slice_id);

	if (hit)
		state_window_add(&c->h->m->states[hit->idx], cls, bucket, count);
}

static void count_unwritten(struct monitor *m, const struct pending *p)
{
	if (p->idx != SIZE_MAX && p->idx < m->history->nflags && m->history->in_slice[p->idx])
		state_window_add_check(&m->states[p->idx], (enum ht_class)p->cls, p->ms >= 0 ? hist_bucket(p->ms) : -1,
				       p->up);
}

/* Targets [from, to): their rings if wanted, then their windows from the store and the results
 * the writer has not confirmed yet (counted once: a result is either written or pending). */
static int read_slice(struct monitor *m, size_t from, size_t to, struct ht_err *err)
{
	struct history *h = m->history;
	struct slice_ctx c = { h, 0 };
	int rc = 0;

	for (size_t i = from; i < to; i++) {
		if (h->rings && m->states[i].ring_n == 0)
			load_history(m, i);
		state_window_reset(&m->states[i]);
		h->in_slice[i] = true;
		if (m->keys[i]->id != 0)
			h->map[c.n++] = (struct slice_id){ m->keys[i]->id, i };
	}
	qsort(h->map, c.n, sizeof(*h->map), cmp_slice_id);
	for (size_t k = 0; k < c.n; k++)
		h->ids[k] = h->map[k].id;
	if (m->store && c.n > 0 && (rc = store_window_ids(m->store, h->since_ms, h->ids, c.n, add_row, &c, err)) < 0)
		storage_failed(m, err->msg);
	pending_each(m, count_unwritten);
	for (size_t i = from; i < to; i++)
		h->in_slice[i] = false;
	h->slices++;
	h->next = to;
	return rc;
}

/* PostgreSQL reads a window for the whole fleet (store_window_ids): once, not per slice. */
static size_t slice_size(const struct monitor *m)
{
	return store_is_postgres(m->db_path) && m->n > HISTORY_SLICE ? m->n : HISTORY_SLICE;
}

static int next_slice(struct monitor *m, struct ht_err *err)
{
	struct history *h = m->history;
	size_t slice = slice_size(m);
	size_t to = h->next + slice < m->n ? h->next + slice : m->n;
	int rc = read_slice(m, h->next, to, err);

	h->running = h->next < m->n;
	return rc;
}

static void on_slice(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct monitor *m = t->data;
	struct ht_err err = { "" };

	if (m->history->next < m->n)
		next_slice(m, &err);
	m->history->running = m->history->next < m->n;
	if (m->history->running)
		ev_timer_start(loop, t);   /* the next loop turn: keys and results come first */
	if (m->history->fn)
		m->history->fn(m->history->user, !m->history->running);
}

/* Room for a config of m->n targets. */
static int history_fit(struct monitor *m)
{
	struct history *h = m->history;

	if (!h) {
		if (!(h = m->history = calloc(1, sizeof(*h))))
			return -1;
		h->m = m;
		ev_timer_init(&h->timer, on_slice, 0.0, 0.0);
		h->timer.data = m;
	}
	if (h->nflags >= m->n && h->nslice >= slice_size(m))
		return 0;
	bool *flags = calloc(m->n ? m->n : 1, sizeof(*flags));
	int64_t *ids = malloc(slice_size(m) * sizeof(*ids));
	struct slice_id *map = malloc(slice_size(m) * sizeof(*map));
	if (!flags || !ids || !map) {
		free(flags);
		free(ids);
		free(map);
		return -1;
	}
	free(h->in_slice);
	free(h->ids);
	free(h->map);
	h->in_slice = flags;
	h->nflags = m->n;
	h->ids = ids;
	h->map = map;
	h->nslice = slice_size(m);
	return 0;
}

int history_read(struct monitor *m, bool rings, struct ht_err *err)
{
	struct history *h;
	int rc;

	if (history_fit(m) < 0) {
		ht_err_set(err, "out of memory reading the history");
		return -1;
	}
	h = m->history;
	h->rings = rings || (h->running && h->rings);   /* a window switch mid-way still reads rings */
	h->since_ms = clock_wall_ms() - m->window_s * 1000;
	h->next = 0;
	h->keys = m->keys;
	if (ensure_store(m) < 0)
		h->rings = false;   /* nothing to read yet: the windows hold what is pending */
	for (size_t i = 0; i < m->n; i++)   /* no window shows another window's counts meanwhile */
		state_window_reset(&m->states[i]);
	rc = next_slice(m, err);
	if (h->running && !ev_is_active(&h->timer))
		ev_timer_start(m->loop, &h->timer);
	else if (!h->running && ev_is_active(&h->timer))
		ev_timer_stop(m->loop, &h->timer);
	if (h->fn)   /* the first slice too: the screen shows what it read */
		h->fn(h->user, !h->running);
	return rc;
}

bool history_current(const struct monitor *m)
{
	return m->history && m->history->keys == m->keys;
}

void history_ring_due(struct monitor *m, size_t idx)
{
	struct history *h = m->history;

	if (h && h->running && h->rings && idx >= h->next && m->states[idx].ring_n == 0)
		load_history(m, idx);
}

void history_free(struct monitor *m)
{
	if (!m->history)
		return;
	ev_timer_stop(m->loop, &m->history->timer);
	free(m->history->in_slice);
	free(m->history->ids);
	free(m->history->map);
	free(m->history);
	m->history = NULL;
}

int monitor_set_window(struct monitor *m, int64_t window_s, struct ht_err *err)
{
	m->window_s = window_s;
	return history_read(m, false, err);
}

void monitor_set_history_hook(struct monitor *m, monitor_history_fn fn, void *user)
{
	if (history_fit(m) < 0)
		return;
	m->history->fn = fn;
	m->history->user = user;
}

bool monitor_history_reading(const struct monitor *m)
{
	return m->history && m->history->running;
}

uint64_t monitor_history_slices(const struct monitor *m)
{
	return m->history ? m->history->slices : 0;
}

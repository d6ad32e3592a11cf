/* The past read back in slices: each target's newest results (its sample ring) and its share of
 * the history window, HISTORY_SLICE targets per loop turn. A fleet of that size or less is read
 * at once, as it always was; a larger one draws its first frame at once and fills in over the
 * next loop turns, keys answered between slices (100 000 targets: a 1 h window alone is 6 million
 * rows, seconds of reading the screen must not wait for). */
#include "autoconfig.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/clock.h"
#include "healthtop/core/histogram.h"
#include "healthtop/core/id_index.h"
#include "monitor/monitor_priv.h"

/* About 30 ms on the project's machine for targets checked every 60 s (120 results for the
 * ring and 60 for a 1 h window, each row an index seek of 2-3 us): a key pressed meanwhile
 * waits at most that long. */
#define HISTORY_SLICE 64
/* PostgreSQL: targets whose rings one query reads (120 rows each at most). */
#define RING_CHUNK 256

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
	uint64_t gen;            /* PostgreSQL: reads answered for an older history_read are ignored */
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


/* ---- PostgreSQL: the same reads, asynchronous on the loop's connection ---- */

static int64_t key_id(const void *m, size_t i)
{
	return ((const struct monitor *)m)->keys[i]->id;
}

static void history_end(struct monitor *m)
{
	struct history *h = m->history;

	h->running = false;
	h->slices++;
	if (h->fn)
		h->fn(h->user, true);
}

struct pg_rings {
	struct monitor *m;
	uint64_t gen;
	size_t next;             /* the next target (config order) to look at */
	size_t cur;              /* the target whose rows are being collected; SIZE_MAX none */
	bool *want;              /* by target: it showed no ring when the read began */
	struct replay *rp;
	struct id_index by_id;
	int64_t ids[RING_CHUNK];
};

static void rings_free(struct pg_rings *r)
{
	id_index_fini(&r->by_id);
	free(r->want);
	free(r->rp);
	free(r);
}

/* A target's rows are all in (rows come by target). Checks made since start came first: the
 * past goes in before them, and the newest result shown stays theirs. */
static void ring_flush(struct pg_rings *r)
{
	struct target_state *s = r->cur != SIZE_MAX ? &r->m->states[r->cur] : NULL;
	struct state_sample live[STATE_RING];
	unsigned n = 0;

	if (s && s->ring_n > 0) {
		while (n < s->ring_n && state_sample_get(s, n, &live[n]))
			n++;
		s->ring_n = s->ring_head = s->changes_n = s->changes_head = 0;   /* rebuilt in order */
		for (size_t k = replay_count(r->rp); k-- > 0;)
			replay_sample_add(r->rp, k, s, live[n - 1].at_ms);
		while (n-- > 0)
			state_add_sample(s, live[n].at_ms, live[n].ms, (enum ht_class)live[n].cls);
		replay_seed(r->m, r->cur, r->rp);   /* the locations the live rows have not shown yet */
		replay_clear(r->rp);
	} else if (s) {
		replay_apply(r->m, r->cur, r->rp);
	}
	r->cur = SIZE_MAX;
}

static void ring_row(void *user, const struct store_read_row *row)
{
	struct pg_rings *r = user;
	size_t at;

	if (r->gen != r->m->history->gen)
		return;
	at = id_index_find(&r->by_id, row->target_id);
	if (at != r->cur)
		ring_flush(r);
	if (at != SIZE_MAX) {
		if (r->cur == SIZE_MAX)
			r->cur = at;
		replay_row(r->rp, row);
	}
}

static void rings_next(struct pg_rings *r);

static void rings_done(void *user, int rc, const char *err)
{
	struct pg_rings *r = user;

	if (rc == -ECANCELED || r->gen != r->m->history->gen) {
		rings_free(r);
		return;
	}
	ring_flush(r);
	if (rc < 0) {
		pg_read_failed(r->m, rc, err);
		history_end(r->m);
		rings_free(r);
		return;
	}
	rings_next(r);
}

/* The rings of the next targets that show none, RING_CHUNK per query, one query at a time. */
static void rings_next(struct pg_rings *r)
{
	struct monitor *m = r->m;
	struct ht_err err = { "" };
	size_t n = 0;
	int rc;

	for (; r->next < m->n && n < RING_CHUNK; r->next++)
		if (r->want[r->next] && m->keys[r->next]->id != 0)
			r->ids[n++] = m->keys[r->next]->id;
	if (n == 0 || !m->pga) {
		history_end(m);
		rings_free(r);
		return;
	}
	if ((rc = store_async_recent(m->pga, r->ids, n, STATE_RING, ring_row, rings_done, r, &err)) < 0) {
		pg_read_failed(m, rc, err.msg);
		history_end(m);
		rings_free(r);
	}
}

/* Takes want (the targets that showed no ring when the read began: checks made since then
 * come first, the past goes in before them). */
static void rings_start(struct monitor *m, bool *want)
{
	struct pg_rings *r = calloc(1, sizeof(*r));

	if (!r || !(r->rp = replay_new()) || id_index_init(&r->by_id, m->n, key_id, m) < 0) {
		free(r ? r->rp : NULL);
		free(r);
		free(want);
		history_end(m);
		return;
	}
	r->want = want;
	r->m = m;
	r->gen = m->history->gen;
	r->cur = SIZE_MAX;
	rings_next(r);
}

struct pg_window {
	struct monitor *m;
	uint64_t gen;
	bool *rings;             /* by target: read its ring after the window; NULL none */
	bool begun;
	struct id_index by_id;
};

/* At the answer, not before: results written meanwhile are in it, those still unwritten are
 * pending (counted once either way). */
static void window_begin(struct pg_window *w)
{
	struct monitor *m = w->m;

	w->begun = true;
	for (size_t i = 0; i < m->n; i++)
		state_window_reset(&m->states[i]);
	if (id_index_init(&w->by_id, m->n, key_id, m) < 0)
		memset(&w->by_id, 0, sizeof(w->by_id));
}

static void window_row(void *user, int64_t target_id, enum ht_class cls, int bucket, uint32_t count)
{
	struct pg_window *w = user;
	size_t at;

	if (w->gen != w->m->history->gen)
		return;
	if (!w->begun)
		window_begin(w);
	if ((at = id_index_find(&w->by_id, target_id)) != SIZE_MAX)
		state_window_add(&w->m->states[at], cls, bucket, count);
}

static void count_all_unwritten(struct monitor *m, const struct pending *p)
{
	if (p->idx < m->n)
		state_window_add_check(&m->states[p->idx], (enum ht_class)p->cls, p->ms >= 0 ? hist_bucket(p->ms) : -1,
				       p->up);
}

static void window_done(void *user, int rc, const char *err)
{
	struct pg_window *w = user;
	struct monitor *m = w->m;

	if (rc != -ECANCELED && w->gen == m->history->gen) {
		if (rc < 0) {
			pg_read_failed(m, rc, err);
		} else {
			if (!w->begun)
				window_begin(w);
			pending_each(m, count_all_unwritten);
		}
		if (rc >= 0 && w->rings)
			rings_start(m, w->rings);
		else
			history_end(m);
		if (rc >= 0)
			w->rings = NULL;   /* rings_start's now */
	}
	if (w->begun)
		id_index_fini(&w->by_id);
	free(w->rings);
	free(w);
}

static int pg_history_read(struct monitor *m, struct store_async *a, struct ht_err *err)
{
	struct history *h = m->history;
	struct pg_window *w = calloc(1, sizeof(*w));
	int rc;

	h->gen++;
	h->next = m->n;   /* no slices: history_ring_due never reads on the loop */
	ensure_store(m);   /* the ids first: answered before the window */
	if (!w) {
		ht_err_set(err, "out of memory reading the history");
		history_end(m);
		return -1;
	}
	*w = (struct pg_window){ .m = m, .gen = h->gen };
	if (h->rings && (w->rings = calloc(m->n ? m->n : 1, sizeof(bool))))
		for (size_t i = 0; i < m->n; i++)
			w->rings[i] = m->states[i].ring_n == 0;
	if ((rc = store_async_window(a, h->since_ms, window_row, window_done, w, err)) < 0) {
		free(w->rings);
		free(w);
		pg_read_failed(m, rc, err->msg);
		history_end(m);
		return -1;
	}
	h->running = true;
	if (h->fn)
		h->fn(h->user, false);
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
	for (size_t i = 0; i < m->n; i++)   /* no window shows another window's counts meanwhile */
		state_window_reset(&m->states[i]);
	if (pg_reader(m)) {
		if (ev_is_active(&h->timer))
			ev_timer_stop(m->loop, &h->timer);
		return pg_history_read(m, m->pga, err);
	}
	if (ensure_store(m) < 0)
		h->rings = false;   /* nothing to read yet: the windows hold what is pending */
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

/* The history window kept current: every minute the checks that aged out of it are taken back
 * (a read of that minute's results), instead of reading the whole window again (a one-hour
 * window of 100 000 targets is 6 million results: seconds of the loop's time every refresh).
 * A full read still comes first, after a reload or a window switch, for windows read from the
 * rollups (> 6 h: an hour leaves them at a time), and whenever the counts drift from the store. */
#include "autoconfig.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/id_index.h"
#include "monitor/monitor_priv.h"

struct aged {
	struct monitor *m;
	struct id_index by_id;
	bool drift;
};

static int64_t key_id(const void *m, size_t i)
{
	return ((const struct monitor *)m)->keys[i]->id;
}

static void take_back(void *user, int64_t target_id, enum ht_class cls, int bucket, uint32_t count)
{
	struct aged *a = user;
	size_t at = id_index_find(&a->by_id, target_id);

	if (at != SIZE_MAX && !state_window_sub(&a->m->states[at], cls, bucket, count))
		a->drift = true;
}

/* The read the counts stand on is still the one this file knows: same config, same span, no
 * other read since (a window switch, a reload) and none under way. */
static bool mark_holds(struct monitor *m)
{
	struct window_mark *w = &m->win_mark;

	if (w->reading && !monitor_history_reading(m)) {   /* our full read has ended */
		w->reading = false;
		w->slices = monitor_history_slices(m);
	}
	return w->valid && !w->reading && w->keys == m->keys && w->window_s == m->window_s &&
	       w->slices == monitor_history_slices(m) && !monitor_history_reading(m) && history_current(m);
}

/* Takes back every check in [from, to); false when that is not possible or the counts drifted. */
static bool take_back_aged(struct monitor *m, int64_t from, int64_t to)
{
	struct aged a = { m, { 0 }, false };
	struct ht_err err = { "" };
	int64_t rows;

	if (ensure_store(m) < 0 || id_index_init(&a.by_id, m->n, key_id, m) < 0)
		return false;
	rows = store_window_between(m->store, from, to, take_back, &a, &err);
	id_index_fini(&a.by_id);
	if (rows < 0) {
		storage_failed(m, err.msg);
		return false;
	}
	m->win_mark.rows += (uint64_t)rows;
	return !a.drift;
}

/* PostgreSQL: the aged minute asked for on the loop's connection, taken back when it comes if
 * nothing else read the window meanwhile; a full read otherwise. */
struct pg_aged {
	struct aged a;
	int64_t since;
	bool checked, holds;
};

/* Whether the counts still stand on the mark, once the answer is in. */
static bool pg_holds(struct pg_aged *p)
{
	if (!p->checked) {
		p->checked = true;
		p->holds = mark_holds(p->a.m);
	}
	return p->holds;
}

static void full_read(struct monitor *m, int64_t since);

static void pg_aged_done(void *user, int rc, const char *err)
{
	struct pg_aged *p = user;
	struct monitor *m = p->a.m;

	if (rc != -ECANCELED) {
		m->win_mark.taking = false;
		if (rc < 0)
			pg_read_failed(m, rc, err);
		if (rc >= 0 && pg_holds(p) && !p->a.drift) {
			m->win_mark.since_ms = p->since;
			m->win_mark.rows += (uint64_t)rc;
		} else if (rc >= 0 && p->holds) {
			full_read(m, p->since);   /* the counts drifted: read the window again */
		}
	}
	id_index_fini(&p->a.by_id);
	free(p);
}

static void pg_aged_row(void *user, int64_t target_id, enum ht_class cls, int bucket, uint32_t count)
{
	struct pg_aged *p = user;

	if (pg_holds(p))
		take_back(&p->a, target_id, cls, bucket, count);
}

static bool pg_take_back_aged(struct monitor *m, int64_t from, int64_t to)
{
	struct pg_aged *p = calloc(1, sizeof(*p));
	struct ht_err err = { "" };
	int rc;

	if (!p || id_index_init(&p->a.by_id, m->n, key_id, m) < 0) {
		free(p);
		return false;
	}
	p->a.m = m;
	p->since = to;
	if ((rc = store_async_window_between(m->pga, from, to, pg_aged_row, pg_aged_done, p, &err)) < 0) {
		pg_read_failed(m, rc, err.msg);
		id_index_fini(&p->a.by_id);
		free(p);
		return false;
	}
	m->win_mark.taking = true;
	return true;
}

static void full_read(struct monitor *m, int64_t since)
{
	struct window_mark *w = &m->win_mark;
	struct ht_err err = { "" };

	*w = (struct window_mark){ .valid = true, .reading = true, .keys = m->keys, .window_s = m->window_s,
				   .since_ms = since };
	monitor_set_window(m, m->window_s, &err);   /* drops what aged out of the window */
	w->reading = monitor_history_reading(m);
	w->slices = monitor_history_slices(m);
}

void monitor_window_refresh(struct monitor *m, int64_t now_ms)
{
	struct window_mark *w = &m->win_mark;
	int64_t since = now_ms - m->window_s * 1000;
	bool raw = strcmp(store_window_source(since, now_ms), "raw") == 0;

	w->rows = 0;
	if ((w->reading && monitor_history_reading(m)) || w->taking)
		return;   /* our full read is still going a slice a turn: starting over would never end */
	if (m->pga && raw && mark_holds(m) && since >= w->since_ms && pg_take_back_aged(m, w->since_ms, since))
		return;
	if (!m->pga && raw && mark_holds(m) && since >= w->since_ms && take_back_aged(m, w->since_ms, since)) {
		w->since_ms = since;
		return;
	}
	full_read(m, since);
}

uint64_t monitor_window_rows(const struct monitor *m)
{
	return m->win_mark.rows;
}

/* The quorum across locations in the monitor (monitor_quorum.h): what a target's locations say,
 * and the class they combine to. Memory: nothing for a fleet without locations; a byte per target
 * once a location is seen; and, only for a target seen from a second location, its locations'
 * newest (16 bytes each). A daemon's side, with the database, is monitor_quorum_pg.c. */
#include "autoconfig.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/clock.h"
#include "healthtop/core/quorum.h"
#include "healthtop/monitor/monitor_quorum.h"
#include "monitor/monitor_priv.h"
#include "monitor/monitor_quorum_priv.h"

uint16_t quorum_intern(struct quorum *q, const char *s)
{
	char **v;

	for (size_t i = 0; i < q->nnames; i++)
		if (strcmp(q->names[i], s) == 0)
			return (uint16_t)i;
	if (q->nnames >= NAMES_MAX || !(v = realloc(q->names, (q->nnames + 1) * sizeof(*v))))
		return 0;
	q->names = v;
	if (!(v[q->nnames] = strdup(s)))
		return 0;
	return (uint16_t)q->nnames++;
}

/* The location number (1..LOCS_MAX) of name, 0 when there are too many. */
uint8_t quorum_loc(struct quorum *q, const char *name)
{
	uint16_t id = quorum_intern(q, name);

	if (id == 0 && name[0])
		return 0;
	for (size_t i = 0; i < q->nlocs; i++)
		if (q->locs[i] == id)
			return (uint8_t)(i + 1);
	if (q->nlocs == LOCS_MAX)
		return 0;
	q->locs[q->nlocs++] = id;
	return (uint8_t)q->nlocs;
}

struct quorum *quorum_get(struct monitor *m)
{
	struct quorum *q = m->quorum;

	if (q)
		return q;
	if (!(q = calloc(1, sizeof(*q))) || !(q->names = calloc(1, sizeof(*q->names))) ||
	    !(q->names[0] = strdup(""))) {
		if (q)
			free(q->names);
		free(q);
		return NULL;
	}
	q->nnames = 1;
	q->m = m;
	pthread_mutex_init(&q->mu, NULL);
	m->quorum = q;
	return q;
}

/* The per-target arrays sized for the current config (a reload starts them again). */
bool quorum_sized(struct quorum *q)
{
	size_t n = q->m->n;

	if (q->first && q->n == n)
		return true;
	for (size_t i = 0; i < q->n && q->multi && q->first; i++)
		free(q->multi[i]);
	free(q->first);
	free(q->multi);
	free(q->published);
	q->first = calloc(n ? n : 1, 1);
	q->multi = calloc(n ? n : 1, sizeof(*q->multi));
	q->published = malloc(n ? n : 1);
	q->n = q->first && q->multi && q->published ? n : 0;
	if (q->published)
		memset(q->published, -2, n ? n : 1);
	return q->n == n;
}

struct qloc *quorum_entry(struct qtarget **tp, uint8_t loc)
{
	struct qtarget *t = *tp;

	for (uint8_t i = 0; t && i < t->n; i++)
		if (t->v[i].loc == loc)
			return &t->v[i];
	if (t && t->n == LOCS_MAX)
		return NULL;
	uint8_t n = t ? t->n : 0;
	if (!(t = realloc(t, sizeof(*t) + (n + 1u) * sizeof(t->v[0]))))
		return NULL;
	t->n = n + 1;
	t->v[n] = (struct qloc){ 0, loc, 0, { SOFT_STATE_UNKNOWN, 0, 0 } };
	*tp = t;
	return &t->v[n];
}

/* The combined class of target idx from its locations' entries. */
static int combine(const struct quorum *q, size_t idx, int64_t now_ms, struct quorum_verdict *out)
{
	const struct ht_target *t = &q->m->cfg->targets[idx];
	const struct qtarget *qt = q->multi[idx];
	struct quorum_vote v[LOCS_MAX];

	for (uint8_t i = 0; i < qt->n; i++) {
		const struct qloc *l = &qt->v[i];
		int64_t age = now_ms - l->at_ms;
		const char *name = q->names[q->locs[l->loc - 1]];
		int cls = l->soft.shown;
		if (q->own) {   /* a daemon knows the others by their pollers' rounds, not their results */
			age = q->alive[l->loc - 1] ? 0 : INT64_MAX;
			if (strcmp(name, q->own) == 0)   /* and its own location by its own anti-flap */
				cls = q->m->states[idx].soft.shown;
		}
		v[i] = (struct quorum_vote){ name, cls, age };
	}
	return quorum_combine(v, qt->n, t->quorum, (int64_t)QUORUM_STALE_INTERVALS * t->interval_s * 1000, out);
}

/* "host:1 in eu-west" for location eu-west is "host:1": the location has its own column. */
uint16_t quorum_poller(struct quorum *q, const char *poller, const char *loc)
{
	char buf[400];
	size_t n = poller ? strlen(poller) : 0, l = strlen(loc);

	if (!poller)
		return 0;
	snprintf(buf, sizeof(buf), "%s", poller);
	if (l && n > l + 4 && strcmp(poller + n - l, loc) == 0 && strncmp(poller + n - l - 4, " in ", 4) == 0 &&
	    n - l - 4 < sizeof(buf))
		buf[n - l - 4] = '\0';
	return quorum_intern(q, buf);
}

/* A target seen from a second location: the first one's state is what the target showed. */
static bool go_multi(struct quorum *q, size_t idx, const struct soft_state *soft)
{
	struct monitor *m = q->m;
	struct state_sample newest;
	struct qloc *e = quorum_entry(&q->multi[idx], q->first[idx]);

	if (!e)
		return false;
	e->soft = *soft;
	e->at_ms = state_sample_get(&m->states[idx], 0, &newest) ? newest.at_ms : 0;
	if (idx < m->npoller_of && m->poller_of[idx])
		e->poller = quorum_poller(q, m->poller_of[idx], q->names[q->locs[q->first[idx] - 1]]);
	return true;
}

bool quorum_row(struct monitor *m, size_t idx, const struct store_read_row *row, struct soft_state *soft, int *from,
		bool *changed)
{
	const char *loc = row->location ? row->location : "";
	struct quorum *q = m->quorum;
	struct quorum_verdict v;
	uint8_t l;
	int f;

	if ((!q && !loc[0]) || !(q = quorum_get(m)) || !quorum_sized(q) || !(l = quorum_loc(q, loc)))
		return false;   /* no locations (or no memory for them): one location, as before */
	if (!q->multi[idx] && (!q->first[idx] || q->first[idx] == l)) {
		q->first[idx] = l;
		return false;
	}
	if (!q->multi[idx] && !go_multi(q, idx, soft))
		return false;
	struct qloc *e = quorum_entry(&q->multi[idx], l);
	if (!e)
		return false;
	soft_state_step(&e->soft, &m->cfg->targets[idx].soft, row->cls, &f);
	if (row->checked_at_ms > e->at_ms)
		e->at_ms = row->checked_at_ms;
	e->poller = quorum_poller(q, row->poller, loc);
	*from = soft->shown;
	*changed = false;
	if (combine(q, idx, clock_wall_ms(), &v) < 0)
		return true;   /* no location recent enough to count: keep what is shown */
	*changed = soft->shown != SOFT_STATE_UNKNOWN && soft->shown != (int8_t)v.cls;
	*soft = (struct soft_state){ (int8_t)v.cls, (int8_t)v.cls, 0 };
	return true;
}

int quorum_seed(struct monitor *m, size_t idx, const struct quorum_seen *seen, size_t n)
{
	struct quorum *q = m->quorum;
	struct quorum_verdict v;

	if (n < 2 || (q && q->own) || !(q = quorum_get(m)) || q->own || !quorum_sized(q))
		return -1;
	/* rows drawn since start (one location so far): theirs is that location's state */
	if (!q->multi[idx] && q->first[idx] && !go_multi(q, idx, &m->states[idx].soft))
		return -1;
	for (size_t k = 0; k < n; k++) {
		uint8_t l = quorum_loc(q, seen[k].loc);
		struct qloc *e = l ? quorum_entry(&q->multi[idx], l) : NULL;
		if (!e)
			return -1;
		if (!q->first[idx])
			q->first[idx] = l;
		if (seen[k].at_ms <= e->at_ms)
			continue;   /* a row drawn already is newer */
		e->at_ms = seen[k].at_ms;
		e->soft = (struct soft_state){ (int8_t)seen[k].cls, (int8_t)seen[k].cls, 0 };
		e->poller = quorum_poller(q, seen[k].poller[0] ? seen[k].poller : NULL, seen[k].loc);
	}
	return combine(q, idx, clock_wall_ms(), &v) < 0 ? -1 : (int)v.cls;
}

size_t monitor_locations(const struct monitor *m, size_t idx, struct monitor_location *out, size_t max,
			 char *reason, size_t reason_size)
{
	const struct quorum *q = m->quorum;
	const struct qtarget *t = q && idx < q->n ? q->multi[idx] : NULL;
	struct quorum_verdict v;
	size_t n = 0;

	if (reason && reason_size)
		reason[0] = '\0';
	if (!t || t->n < 2)
		return 0;
	for (uint8_t i = 0; i < t->n && n < max; i++) {
		const struct qloc *l = &t->v[i];
		const char *name = q->names[q->locs[l->loc - 1]];
		bool own = q->own && strcmp(name, q->own) == 0;
		out[n++] = (struct monitor_location){ name, own ? m->states[idx].soft.shown : l->soft.shown,
			own ? m->states[idx].last.at_ms : l->at_ms, l->poller ? q->names[l->poller] : NULL };
	}
	if (reason && reason_size && combine(q, idx, clock_wall_ms(), &v) == 0)
		snprintf(reason, reason_size, "%s", v.reason);
	return n;
}

int quorum_shown(const struct monitor *m, size_t idx, int shown)
{
	const struct quorum *q = m->quorum;
	struct quorum_verdict v;

	if (!q || !q->own || idx >= q->n || !q->multi[idx] || combine(q, idx, clock_wall_ms(), &v) < 0)
		return shown;
	return (int)v.cls;
}

void quorum_reads_free(struct qread *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].name);
		free(r[i].loc);
		free(r[i].poller);
	}
	free(r);
}

void quorum_live_free(char **live, size_t n)
{
	for (size_t i = 0; live && i < n; i++)
		free(live[i]);
	free(live);
}

void quorum_reset(struct monitor *m)
{
	struct quorum *q = m->quorum;

	if (!q)
		return;
	for (size_t i = 0; i < q->n; i++)   /* by index: the new config's differ */
		free(q->multi[i]);
	free(q->first);
	q->first = NULL;
	quorum_sized(q);
	pthread_mutex_lock(&q->mu);
	q->after = 0;   /* a daemon reads the other locations' classes again, for the new targets */
	pthread_mutex_unlock(&q->mu);
}

void quorum_free(struct monitor *m)
{
	struct quorum *q = m->quorum;

	if (!q)
		return;
	if (q->own) {
		ev_ref(m->loop);
		ev_async_stop(m->loop, &q->async);
	}
	for (size_t i = 0; i < q->n; i++)
		free(q->multi[i]);
	free(q->multi);
	free(q->first);
	free(q->published);
	for (size_t i = 0; i < q->nnames; i++)
		free(q->names[i]);
	free(q->names);
	free(q->own);
	quorum_reads_free(q->reads, q->nreads);
	quorum_live_free(q->live, q->nlive);
	for (size_t i = 0; i < q->nclaims; i++)
		free(q->claims[i].name);
	free(q->claims);
	pthread_mutex_destroy(&q->mu);
	free(q);
	m->quorum = NULL;
}

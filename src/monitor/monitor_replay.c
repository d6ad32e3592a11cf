/* History read back into a target's state: its newest results, collected newest first (as the
 * store hands them over), applied oldest first. For a synchronous read (load_history) and the
 * loop's asynchronous one on PostgreSQL (monitor_history.c). */
#include "autoconfig.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/clock.h"
#include "monitor/monitor_priv.h"

struct replay {
	struct state_sample samples[STATE_RING];
	size_t n;
	struct state_last last;
	char poller[256];
	struct quorum_seen locs[QUORUM_SEEN_MAX];   /* each location's newest (rows come newest first) */
	size_t nlocs;
};

static void seen_location(struct replay *rp, const struct store_read_row *row)
{
	const char *loc = row->location ? row->location : "";

	for (size_t k = 0; k < rp->nlocs; k++)
		if (strcmp(rp->locs[k].loc, loc) == 0)
			return;
	if (rp->nlocs == QUORUM_SEEN_MAX || strlen(loc) >= sizeof(rp->locs[0].loc))
		return;
	struct quorum_seen *q = &rp->locs[rp->nlocs++];
	snprintf(q->loc, sizeof(q->loc), "%s", loc);
	snprintf(q->poller, sizeof(q->poller), "%s", row->poller ? row->poller : "");
	q->at_ms = row->checked_at_ms;
	q->cls = row->cls;
}

static void collect_recent(void *user, const struct store_read_row *row)
{
	struct replay *rp = user;

	if (rp->n == 0) {
		rp->last = (struct state_last){
			.at_ms = row->checked_at_ms, .cls = row->cls, .http_code = row->http_code,
			.total_ms = (float)row->response_ms, .dns_ms = (float)row->dns_ms,
			.connect_ms = (float)row->connect_ms, .tls_ms = (float)row->tls_ms,
			.ttfb_ms = (float)row->ttfb_ms, .cert_expiry = row->cert_expiry,
		};
		snprintf(rp->last.reason, sizeof(rp->last.reason), "%s", row->reason);
		snprintf(rp->poller, sizeof(rp->poller), "%s", row->poller ? row->poller : "");
	}
	seen_location(rp, row);
	if (rp->n < STATE_RING)
		rp->samples[rp->n++] = (struct state_sample){
			row->checked_at_ms, row->http_code > 0 ? (float)row->response_ms : -1.0f, (uint8_t)row->cls };
}

struct replay *replay_new(void)
{
	return calloc(1, sizeof(struct replay));
}

void replay_row(void *user, const struct store_read_row *row)
{
	collect_recent(user, row);
}

size_t replay_count(const struct replay *rp)
{
	return rp->n;
}

void replay_sample_add(const struct replay *rp, size_t k, struct target_state *s, int64_t before_ms)
{
	if (rp->samples[k].at_ms < before_ms)
		state_add_sample(s, rp->samples[k].at_ms, rp->samples[k].ms, rp->samples[k].cls);
}

void replay_clear(struct replay *rp)
{
	rp->n = 0;
	rp->nlocs = 0;
}

/* Several locations in what was read back: target i shows their combined class at once. */
void replay_seed(struct monitor *m, size_t i, const struct replay *rp)
{
	int cls = quorum_seed(m, i, rp->locs, rp->nlocs);

	if (cls >= 0)
		state_show(&m->states[i], &(struct soft_state){ (int8_t)cls, (int8_t)cls, 0 },
			   rp->n ? rp->samples[0].at_ms : clock_wall_ms());
}

/* The newest results collected, oldest first, into target i's state; rp is empty after. */
void replay_apply(struct monitor *m, size_t i, struct replay *rp)
{
	for (size_t k = rp->n; k-- > 0;)
		state_add_sample(&m->states[i], rp->samples[k].at_ms, rp->samples[k].ms, rp->samples[k].cls);
	if (rp->n > 0) {
		state_set_last(&m->states[i], &rp->last, NULL, 0);
		poller_seen(m, i, rp->poller[0] ? rp->poller : NULL);
		if (rp->last.at_ms > m->last_result_ms)
			m->last_result_ms = rp->last.at_ms;
		replay_seed(m, i, rp);
	}
	rp->n = 0;
	rp->nlocs = 0;
}

/* The past on screen at once: the newest results of each target, oldest first. */
void load_history(struct monitor *m, size_t i)
{
	struct replay *rp = replay_new();
	struct ht_err err = { "" };

	if (!rp || !m->store || m->keys[i]->id == 0) {
		free(rp);
		return;
	}
	if (store_recent(m->store, m->keys[i]->id, STATE_RING, collect_recent, rp, &err) < 0)
		storage_failed(m, err.msg);
	replay_apply(m, i, rp);
	free(rp);
}

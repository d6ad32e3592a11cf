/* check --notify. check is a one-shot command: it may block on the database (as its recording
 * does), so the queue is written directly, not through a writer thread. */
#include "autoconfig.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/cmd/check_notify.h"
#include "healthtop/core/clock.h"
#include "healthtop/core/notify_dest.h"
#include "healthtop/notify/notifier.h"
#include "healthtop/notify/notify_post.h"
#include "healthtop/store/store_alert.h"

#define POLL_S 0.05

struct send_ctx {
	const struct ht_config *cfg;
	struct store *store;
	struct notifier *notifier;
	struct notify_poster *poster;
	ev_timer poll;
	double deadline;
};

static bool covers(const char *scope, const struct ht_target *t)
{
	if (strncmp(scope, "project:", 8) == 0)
		return strcmp(scope + 8, t->project) == 0;
	return strcmp(scope, t->name) == 0;
}

struct mute_scan {
	const struct ht_config *cfg;
	int64_t *until;
};

static void mute_row(void *user, const struct store_mute_row *r)
{
	struct mute_scan *ms = user;

	for (size_t i = 0; i < ms->cfg->ntargets; i++)
		if (covers(r->scope, &ms->cfg->targets[i]) && r->until_ms > ms->until[i])
			ms->until[i] = r->until_ms;
}

int check_notify_before(const char *db, const struct ht_config *cfg, struct check_notify *cn)
{
	struct store *s = NULL;
	struct ht_err err = { "" };
	size_t n = cfg->ntargets ? cfg->ntargets : 1;

	memset(cn, 0, sizeof(*cn));
	cn->old_cls = calloc(n, sizeof(*cn->old_cls));
	cn->since_ms = calloc(n, sizeof(*cn->since_ms));
	cn->muted_until_ms = calloc(n, sizeof(*cn->muted_until_ms));
	cn->n = cfg->ntargets;
	if (!cn->old_cls || !cn->since_ms || !cn->muted_until_ms) {
		ht_err_set(&err, "out of memory");
		goto fail;
	}
	if (store_open(db, &s, &err) < 0)
		goto fail;
	for (size_t i = 0; i < cfg->ntargets; i++)
		if (store_last_state(s, cfg->targets[i].name, &cn->old_cls[i], &cn->since_ms[i], &err) < 0)
			goto fail;
	struct mute_scan ms = { cfg, cn->muted_until_ms };
	if (store_mute_each(s, clock_wall_ms(), mute_row, &ms, &err) < 0)
		goto fail;
	store_close(s);
	return 0;
fail:
	fprintf(stderr, "healthtop check: --notify: nobody will be notified: %s\n", err.msg);
	store_close(s);
	check_notify_fini(cn);
	return -1;
}

static void on_log(void *user, const char *line)
{
	fprintf(stderr, "healthtop check: %s\n", line);
}

static void persist(void *user, const struct notifier_msg *m)
{
	struct send_ctx *c = user;
	struct ht_err err = { "" };
	const struct notify_event *e = &m->ev;
	struct store_notify_row r = { m->id, c->cfg->notify[m->dest].key, e->name, e->project, e->url, e->old_cls,
				      e->new_cls, e->reason, e->since_ms, e->at_ms, m->created_ms, m->attempts };

	if (store_notify_put(c->store, &r, &err) < 0)
		fprintf(stderr, "healthtop check: a notification for %s is not kept for later: %s\n", e->name, err.msg);
}

static void forget(void *user, const struct notifier_msg *m)
{
	struct send_ctx *c = user;
	struct ht_err err = { "" };

	if (store_notify_delete(c->store, m->id, &err) < 0)
		fprintf(stderr, "healthtop check: %s\n", err.msg);
}

static int do_post(void *user, const struct notify_dest *d, const char *body, const char *ctype,
		   char hdr[2][256], size_t nhdr, notifier_done_fn done, void *ctx)
{
	struct send_ctx *c = user;

	return notify_poster_post(c->poster, d, body, ctype, hdr, nhdr, done, ctx);
}

static void restore_row(void *user, const struct store_notify_row *r)
{
	struct send_ctx *c = user;
	struct notify_event e = { r->name, r->project, r->url, r->old_cls, r->new_cls, r->reason, r->since_ms, r->at_ms };

	notifier_restore(c->notifier, r->dest, &e, r->id, r->created_ms, r->attempts);
}

static void on_poll(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct send_ctx *c = t->data;

	if (notifier_pending(c->notifier) == 0 || ev_now(loop) >= c->deadline)
		ev_break(loop, EVBREAK_ONE);
}

static void announce(struct send_ctx *c, const struct check_notify *cn, const struct check_outcome *out)
{
	int64_t now = clock_wall_ms();

	for (size_t i = 0; i < cn->n; i++) {
		const struct ht_target *t = &c->cfg->targets[i];
		if (cn->old_cls[i] < 0 || cn->old_cls[i] == out[i].cls)
			continue;   /* first result, or no change */
		if (cn->muted_until_ms[i] > now)
			continue;
		struct notify_event e = { t->name, t->project, t->display_url, cn->old_cls[i], out[i].cls,
					  out[i].reason, cn->since_ms[i], out[i].at_ms };
		notifier_announce(c->notifier, &e);
	}
}

void check_notify_send(struct ev_loop *loop, const struct ht_config *cfg, const char *db,
		       const struct check_notify *cn, const struct check_outcome *out)
{
	struct send_ctx c = { .cfg = cfg };
	struct ht_err err = { "" };
	struct probe *probe = NULL;
	struct notifier_io io = { do_post, persist, forget, on_log, &c };

	if (!cn->old_cls || cfg->nnotify == 0)
		return;
	if (store_open(db, &c.store, &err) < 0 || !(probe = probe_new(loop, 4, &err)) ||
	    !(c.poster = notify_poster_new(probe)) ||
	    !(c.notifier = notifier_new(loop, cfg->notify, cfg->nnotify, &io, NULL))) {
		fprintf(stderr, "healthtop check: --notify: nobody was notified: %s\n", err.msg[0] ? err.msg : "out of memory");
		goto out;
	}
	if (store_notify_each(c.store, restore_row, &c, &err) < 0)
		fprintf(stderr, "healthtop check: earlier notifications not read: %s\n", err.msg);
	announce(&c, cn, out);
	c.deadline = ev_now(loop) + CHECK_NOTIFY_WAIT_S;
	ev_timer_init(&c.poll, on_poll, POLL_S, POLL_S);
	c.poll.data = &c;
	ev_timer_start(loop, &c.poll);
	if (notifier_pending(c.notifier) > 0)
		ev_run(loop, 0);
	ev_timer_stop(loop, &c.poll);
	if (notifier_pending(c.notifier) > 0)
		fprintf(stderr, "healthtop check: %zu notification%s not delivered yet; waiting in the database "
			"for the next poller or check --notify\n", notifier_pending(c.notifier),
			notifier_pending(c.notifier) == 1 ? "" : "s");
out:
	notify_poster_cancel(c.poster);
	notifier_free(c.notifier);
	notify_poster_free(c.poster);
	probe_free(probe);
	store_close(c.store);
}

void check_notify_fini(struct check_notify *cn)
{
	free(cn->old_cls);
	free(cn->since_ms);
	free(cn->muted_until_ms);
	memset(cn, 0, sizeof(*cn));
}

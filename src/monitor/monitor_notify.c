/* Between the monitor and the people it tells: each change of displayed state goes to the
 * notifier unless the target is muted. The notifier's queue and the mutes live in the database,
 * written as ops by the monitor's writer thread (in order with each other), so the loop never
 * waits for a lock. Mutes set by another process (the CLI, another dashboard) are picked up
 * within a second. */
#include "autoconfig.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/clock.h"
#include "healthtop/notify/notifier.h"
#include "healthtop/notify/notify_post.h"
#include "healthtop/store/store_alert.h"
#include "healthtop/store/store_writer.h"
#include "monitor/monitor_priv.h"

#define MUTE_POLL_S 1.0

struct alerts {
	struct monitor *m;
	struct notifier *notifier;
	struct store_writer *writer;   /* the monitor's; NULL: nothing kept across restarts */
	struct notify_poster *poster;   /* webhooks on the probe's multi handle */
	ev_timer poll;
	const struct ht_config *cfg;   /* whose destinations the notifier serves */
	int64_t data_version;
	uint64_t mutes_seen;      /* fingerprint of the mute rows last applied */
	int64_t mutes_expire_ms;  /* the first of them to run out (INT64_MAX: none) */
	uint64_t mute_reads, mute_scans;   /* monitor_mute_counts */
	bool mutes_loaded, restored;
	bool mutes_busy, restoring;   /* PostgreSQL: that read is under way on the loop's connection */
	uint64_t mute_seq;        /* our newest mute op: the table is stale for us until it is done */
	int64_t first_id;         /* ids from here on are this run's own: never restored */
};

static void alert_log(struct alerts *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void alert_log(struct alerts *a, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!a->m->alert_log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	a->m->alert_log(a->m->alert_log_user, line);
}

static void notifier_log(void *user, const char *line)
{
	struct alerts *a = user;

	if (a->m->alert_log)
		a->m->alert_log(a->m->alert_log_user, line);
}

/* ---- the durable queue, written by the writer thread ---- */

struct put_op {
	struct store_notify_row row;
	char *strings[5];
};

static void put_free(void *arg)
{
	struct put_op *op = arg;

	for (int i = 0; i < 5; i++)
		free(op->strings[i]);
	free(op);
}

static int put_run(struct store *s, void *arg, struct ht_err *err)
{
	return store_notify_put(s, &((struct put_op *)arg)->row, err);
}

static void persist(void *user, const struct notifier_msg *msg)
{
	struct alerts *a = user;
	struct put_op *op = calloc(1, sizeof(*op));
	const struct notify_event *e = &msg->ev;
	const char *src[5] = { a->cfg->notify[msg->dest].key, e->name, e->project, e->url, e->reason };

	if (!a->writer || !op) {
		free(op);
		return;
	}
	for (int i = 0; i < 5; i++)
		if (!(op->strings[i] = strdup(src[i] ? src[i] : ""))) {
			put_free(op);
			alert_log(a, "notify: out of memory keeping a notification for %s", e->name);
			return;
		}
	op->row = (struct store_notify_row){ msg->id, op->strings[0], op->strings[1], op->strings[2],
		op->strings[3], e->old_cls, e->new_cls, op->strings[4], e->since_ms, e->at_ms,
		msg->created_ms, msg->attempts };
	if (!store_writer_push_op(a->writer, put_run, put_free, op))
		alert_log(a, "notify: out of memory keeping a notification for %s", e->name);
}

static int forget_run(struct store *s, void *arg, struct ht_err *err)
{
	return store_notify_delete(s, *(int64_t *)arg, err);
}

static void forget_id(struct alerts *a, int64_t id)
{
	int64_t *arg = malloc(sizeof(*arg));

	if (!a->writer || !arg) {
		free(arg);
		return;
	}
	*arg = id;
	store_writer_push_op(a->writer, forget_run, free, arg);
}

static void forget(void *user, const struct notifier_msg *msg)
{
	forget_id(user, msg->id);
}

static void restore_row(void *user, const struct store_notify_row *r)
{
	struct alerts *a = user;
	struct notify_event e = { r->name, r->project, r->url, r->old_cls, r->new_cls, r->reason, r->since_ms, r->at_ms };
	size_t before = notifier_pending(a->notifier);

	/* The database is read late when it did not exist at start: what this run announced
	 * meanwhile is queued already (and may even be delivered, its removal not yet written). */
	if (r->id >= a->first_id)
		return;
	notifier_restore(a->notifier, r->dest, &e, r->id, r->created_ms, r->attempts);
	if (notifier_pending(a->notifier) == before) {   /* its destination left the config */
		alert_log(a, "notify: dropping a notification for %s: its destination is no longer configured", r->name);
		forget_id(a, r->id);
	}
}

static void restore_done(void *user, int rc, const char *err)
{
	struct alerts *a = user;

	a->restoring = false;
	if (rc == 0)
		a->restored = true;
	else if (rc != -EAGAIN && rc != -ECANCELED)
		alert_log(a, "notify: cannot read waiting notifications yet: %s", err);
}

/* What an earlier run could not deliver goes first, in its order. */
static void restore(struct alerts *a)
{
	struct store_async *pga = pg_reader(a->m);
	struct store *st = pga ? NULL : monitor_store(a->m);
	struct ht_err err = { "" };
	int rc;

	if (a->restored || a->restoring || (!st && !pga) || !a->notifier || !lease_polling(a->m))
		return;   /* a viewer delivers nothing: the poller's queue is the poller's */
	if (pga) {
		if ((rc = store_async_notify_each(pga, restore_row, restore_done, a, &err)) < 0)
			restore_done(a, rc, err.msg);
		else
			a->restoring = true;
		return;
	}
	rc = store_notify_each(st, restore_row, a, &err);
	restore_done(a, rc, err.msg);
}

static int do_post(void *user, const struct notify_dest *d, const char *body, const char *ctype,
		   char hdr[2][256], size_t nhdr, notifier_done_fn done, void *ctx)
{
	struct alerts *a = user;

	return a->poster ? notify_poster_post(a->poster, d, body, ctype, hdr, nhdr, done, ctx) : -1;
}

static struct notifier *notifier_for(struct alerts *a)
{
	struct notifier_io io = { do_post, persist, forget, notifier_log, a };

	a->cfg = a->m->cfg;
	return notifier_new(a->m->loop, a->m->cfg->notify, a->m->cfg->nnotify, &io, NULL);
}

/* ---- mutes ---- */

static bool scope_covers(const char *scope, const struct ht_target *t)
{
	if (strncmp(scope, "project:", 8) == 0)
		return strcmp(scope + 8, t->project) == 0;
	return strcmp(scope, t->name) == 0;
}

struct mute_scan {
	struct monitor *m;
	int64_t *until;
};

static void mute_row(void *user, const struct store_mute_row *r)
{
	struct mute_scan *ms = user;

	for (size_t i = 0; i < ms->m->n; i++)
		if (scope_covers(r->scope, &ms->m->cfg->targets[i]) && r->until_ms > ms->until[i])
			ms->until[i] = r->until_ms;
}

static void apply_mutes(struct alerts *a, const int64_t *until)
{
	struct monitor *m = a->m;

	for (size_t i = 0; i < m->n; i++) {
		if (m->states[i].muted_until_ms == until[i])
			continue;
		char when[40];
		clock_iso8601(until[i], false, when, sizeof(when));
		if (until[i])
			alert_log(a, "%s: muted until %s", m->cfg->targets[i].name, when);
		else
			alert_log(a, "%s: unmuted", m->cfg->targets[i].name);
		m->states[i].muted_until_ms = until[i];
		if (m->hooks.on_result)
			m->hooks.on_result(m->hooks.user, i, false, m->states[i].last.cls);
	}
}

struct mute_print {
	uint64_t hash;
	int64_t expire_ms;
};

/* FNV-1a over each row's scope and end, in the table's order (by scope). */
static void mute_print_row(void *user, const struct store_mute_row *r)
{
	struct mute_print *p = user;
	const unsigned char *b = (const unsigned char *)&r->until_ms;

	for (const char *c = r->scope; *c; c++)
		p->hash = (p->hash ^ (unsigned char)*c) * 1099511628211ULL;
	p->hash = (p->hash ^ 0xFFu) * 1099511628211ULL;   /* "ab"+"c" differs from "a"+"bc" */
	for (size_t k = 0; k < sizeof(r->until_ms); k++)
		p->hash = (p->hash ^ b[k]) * 1099511628211ULL;
	if (r->until_ms < p->expire_ms)
		p->expire_ms = r->until_ms;
}

/* A read of the mute rows: the same for a synchronous read and an asynchronous one. */
struct mute_read {
	struct mute_rows rows;    /* first: the row callback's user is the read */
	struct alerts *a;
	int64_t version;
};

/* Targets are scanned only when the rows differ from the last applied, or one has run out. */
static void mutes_read(void *user, int rc, const char *err)
{
	struct mute_read *mr = user;
	struct alerts *a = mr->a;
	struct mute_print p = { 1469598103934665603ULL, INT64_MAX };
	struct mute_scan ms = { a->m, NULL };
	bool ok = rc == 0 && !mr->rows.oom;

	a->mutes_busy = false;
	for (size_t i = 0; ok && i < mr->rows.n; i++)
		mute_print_row(&p, &mr->rows.rows[i]);
	if (ok && a->mutes_loaded && p.hash == a->mutes_seen) {
		a->data_version = mr->version;
		a->mutes_expire_ms = p.expire_ms;
	} else if (ok && (ms.until = calloc(a->m->n ? a->m->n : 1, sizeof(int64_t)))) {
		a->mute_scans++;
		for (size_t i = 0; i < mr->rows.n; i++)
			mute_row(&ms, &mr->rows.rows[i]);
		a->data_version = mr->version;
		a->mutes_loaded = true;
		a->mutes_seen = p.hash;
		a->mutes_expire_ms = p.expire_ms;
		apply_mutes(a, ms.until);
		free(ms.until);
	}
	mute_rows_fini(&mr->rows);
	free(mr);
}

/* Every database change (the writer's every batch) used to recompute every target's mute: a
 * scan of all targets per change, 1.5 % of the 100 000-target daemon's CPU. Now the mute rows
 * alone are read (a few). Cheap when nothing changed at all on SQLite: one PRAGMA. PostgreSQL
 * has no such counter: the rows are read each second, on the loop's asynchronous connection. */
static void load_mutes(struct alerts *a)
{
	struct store_async *pga = pg_reader(a->m);
	struct store *st = pga ? NULL : monitor_store(a->m);
	struct ht_err err = { "" };
	struct mute_read *mr;
	int64_t v, now = clock_wall_ms();
	int rc;

	if ((!st && !pga) || a->mutes_busy || (a->writer && a->mute_seq > store_writer_ops_done(a->writer)))
		return;
	v = st ? store_data_version(st) : a->data_version + 1;
	if (a->mutes_loaded && v == a->data_version && now < a->mutes_expire_ms)
		return;
	if (!(mr = calloc(1, sizeof(*mr))))
		return;
	mr->a = a;
	mr->version = v;
	a->mute_reads++;
	a->mutes_busy = true;
	rc = pga ? store_async_mutes(pga, now, mute_rows_add, mutes_read, mr, &err)
		 : store_mute_each(st, now, mute_rows_add, mr, &err);
	if (rc < 0 && pga)
		pg_read_failed(a->m, rc, err.msg);
	if (!pga || rc < 0)
		mutes_read(mr, rc < 0 ? rc : 0, err.msg);
}

void monitor_mute_counts(const struct monitor *m, uint64_t *reads, uint64_t *scans)
{
	*reads = m->alerts ? m->alerts->mute_reads : 0;
	*scans = m->alerts ? m->alerts->mute_scans : 0;
}

static void on_poll(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct alerts *a = t->data;

	restore(a);
	load_mutes(a);
}

struct mute_op {
	struct store_mute_row row;
	char scope[HT_NAME_MAX + 16];
};

static int mute_run(struct store *s, void *arg, struct ht_err *err)
{
	struct mute_op *op = arg;
	bool removed;

	if (op->row.until_ms == 0)
		return store_mute_clear(s, op->scope, clock_wall_ms(), &removed, err);
	return store_mute_set(s, &op->row, err);
}

void alerts_mute_saved(struct monitor *m, const char *scope, int64_t until_ms)
{
	struct alerts *a = m->alerts;
	struct mute_op *op = a && a->writer ? calloc(1, sizeof(*op)) : NULL;

	if (!op)
		return;
	snprintf(op->scope, sizeof(op->scope), "%s", scope);
	op->row = (struct store_mute_row){ op->scope, until_ms, "muted from the dashboard", clock_wall_ms() };
	uint64_t seq = store_writer_push_op(a->writer, mute_run, free, op);
	if (seq)
		a->mute_seq = seq;
}

/* ---- the monitor's side ---- */

void alerts_result(struct monitor *m, size_t idx, const struct ht_target *t, const struct observation *o,
		   int64_t since_ms)
{
	struct alerts *a = m->alerts;

	if (quorum_own_result(m, idx, t, o))
		return;   /* the locations' combined class is announced: PostgreSQL says who does */
	if (!o->changed || !a)
		return;
	if (monitor_muted(m, idx, clock_wall_ms())) {
		if (m->cfg->nnotify)
			alert_log(a, "%s: %s -> %s while muted: nobody notified", t->name, ht_class_name(o->from),
				  ht_class_name(o->shown));
		return;
	}
	if (!a->notifier)
		return;
	struct notify_event e = { t->name, t->project, t->display_url, (int)o->from, (int)o->shown,
				  o->last.reason, since_ms, o->row.checked_at_ms };
	notifier_announce(a->notifier, &e);
}

struct notifier *alerts_notifier(const struct monitor *m)
{
	return m->alerts ? m->alerts->notifier : NULL;
}

static void alerts_init(struct monitor *m)
{
	struct alerts *a = calloc(1, sizeof(*a));

	if (!a)
		return;
	m->alerts = a;
	a->m = m;
	a->writer = m->writer;
	a->first_id = clock_wall_ms() * 1000;   /* the notifier numbers from the clock, never below */
	if (!(a->poster = notify_poster_new(m->probe)) || !(a->notifier = notifier_for(a)))
		alert_log(a, "notify: out of memory: nobody will be notified");
	ev_timer_init(&a->poll, on_poll, 0.0, MUTE_POLL_S);
	a->poll.data = a;
	ev_timer_start(m->loop, &a->poll);
	ev_unref(m->loop);   /* polling mutes alone must not keep a loop alive */
	restore(a);
	load_mutes(a);
}

void monitor_set_alert_log(struct monitor *m, monitor_log_fn fn, void *user)
{
	m->alert_log = fn;
	m->alert_log_user = user;
}

size_t monitor_notify_pending(const struct monitor *m)
{
	return m->alerts && m->alerts->notifier ? notifier_pending(m->alerts->notifier) : 0;
}

static void move_msg(void *user, const char *key, const struct notifier_msg *msg)
{
	struct alerts *a = user;
	size_t before = notifier_pending(a->notifier);

	notifier_restore(a->notifier, key, &msg->ev, msg->id, msg->created_ms, msg->attempts);
	if (notifier_pending(a->notifier) == before) {
		alert_log(a, "notify: dropping a notification for %s: its destination was removed by a reload",
			  msg->ev.name);
		forget_id(a, msg->id);
	}
}

/* The new config's destinations take over what is waiting; a message in flight at the reload
 * may be sent once more (never lost). */
static void alerts_reload(struct alerts *a)
{
	struct notifier *old = a->notifier;
	const struct ht_config *was = a->cfg;

	if (!(a->notifier = notifier_for(a))) {
		a->notifier = old;   /* out of memory: the old destinations keep serving */
		a->cfg = was;
		return;
	}
	if (old) {
		notify_poster_cancel(a->poster);   /* what old has in flight; the new one resends it */
		notifier_each(old, move_msg, a);
		notifier_free(old);
	}
	a->mutes_loaded = false;   /* new targets: recompute who is muted */
	load_mutes(a);
}

void alerts_took_over(struct monitor *m)
{
	if (!m->alerts)
		return;
	/* a viewer announced nothing: every waiting row is the old poller's */
	m->alerts->first_id = clock_wall_ms() * 1000;
	m->alerts->restored = false;
	restore(m->alerts);
}

void alerts_start(struct monitor *m)
{
	if (!m->alerts)
		alerts_init(m);
	else if (m->alerts->cfg != m->cfg)
		alerts_reload(m->alerts);
}

void alerts_free(struct monitor *m)
{
	struct alerts *a = m->alerts;

	if (!a)
		return;
	notify_poster_cancel(a->poster);
	notifier_free(a->notifier);   /* what is waiting stays in the database for the next run */
	notify_poster_free(a->poster);   /* before the probe goes: it drops the answers to come */
	if (ev_is_active(&a->poll)) {
		ev_ref(m->loop);
		ev_timer_stop(m->loop, &a->poll);
	}
	free(a);   /* the monitor's writer, closed after this, writes the ops still queued */
	m->alerts = NULL;
}


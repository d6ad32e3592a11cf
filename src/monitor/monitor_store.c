#include "autoconfig.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "monitor/monitor_priv.h"

#define FLUSH_BATCH 512
#define PENDING_MAX 100000
/* The loop must not wait on another process's lock: probes in flight would overrun their
 * timeouts. A busy database fails fast and the flush is retried a second later. */
#define WRITE_BUSY_MS 100

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct target_key *key_new(const struct ht_target *t)
{
	struct target_key *k = calloc(1, sizeof(*k));

	if (!k || !(k->name = strdup(t->name)) || !(k->url = strdup(t->display_url)) ||
	    (t->project && !(k->project = dup_or_null(t->project)))) {
		key_free(k);
		return NULL;
	}
	return k;
}

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

bool key_same(const struct target_key *k, const struct ht_target *t)
{
	return same_text(k->name, t->name) && same_text(k->project, t->project) &&
	       same_text(k->url, t->display_url);
}

void key_free(struct target_key *k)
{
	if (!k)
		return;
	free(k->name);
	free(k->project);
	free(k->url);
	free(k);
}

int gone_reserve(struct monitor *m, size_t extra)
{
	struct target_key **ng = realloc(m->gone, (m->ngone + extra + 1) * sizeof(*ng));

	if (!ng)
		return -1;
	m->gone = ng;
	return 0;
}

void key_retire(struct monitor *m, struct target_key *k)
{
	if (m->npending == 0)
		key_free(k);
	else
		m->gone[m->ngone++] = k;
}

void free_gone_keys(struct monitor *m)
{
	for (size_t i = 0; i < m->ngone; i++)
		key_free(m->gone[i]);
	free(m->gone);
	m->gone = NULL;
	m->ngone = 0;
}

void storage_failed(struct monitor *m, const char *msg)
{
	bool news = strcmp(m->storage_error, msg) != 0;

	snprintf(m->storage_error, sizeof(m->storage_error), "%s", msg);
	if (news && m->hooks.on_storage)
		m->hooks.on_storage(m->hooks.user, m->storage_error);
}

static void storage_ok(struct monitor *m)
{
	if (m->storage_error[0] == '\0')
		return;
	m->storage_error[0] = '\0';
	if (m->hooks.on_storage)
		m->hooks.on_storage(m->hooks.user, NULL);
}

/* Never silent: the count is kept for monitor_dropped() and said at once, through the hook meant
 * for it, else as a storage message (the dashboard's status line), else on stderr. */
void drop_results(struct monitor *m, uint64_t count, const char *why)
{
	char msg[256];

	if (count == 0)
		return;
	m->dropped += count;
	if (m->on_dropped) {
		m->on_dropped(m->drop_user, count, m->dropped, why);
		return;
	}
	snprintf(msg, sizeof(msg), "%llu results dropped (%llu in all): %s", (unsigned long long)count,
		 (unsigned long long)m->dropped, why);
	if (m->hooks.on_storage)
		m->hooks.on_storage(m->hooks.user, msg);
	else
		fprintf(stderr, "healthtop: %s\n", msg);
}

struct replay {
	struct state_sample samples[STATE_RING];
	size_t n;
	struct state_last last;
};

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
	}
	if (rp->n < STATE_RING)
		rp->samples[rp->n++] = (struct state_sample){
			row->checked_at_ms, row->http_code > 0 ? (float)row->response_ms : -1.0f, (uint8_t)row->cls };
}

/* The past on screen at once: the newest results of each target, oldest first. */
void load_history(struct monitor *m, size_t i)
{
	struct replay *rp = calloc(1, sizeof(*rp));
	struct ht_err err = { "" };

	if (!rp || !m->store || m->keys[i]->id == 0) {
		free(rp);
		return;
	}
	if (store_recent(m->store, m->keys[i]->id, STATE_RING, collect_recent, rp, &err) < 0)
		storage_failed(m, err.msg);
	for (size_t k = rp->n; k-- > 0;)
		state_add_sample(&m->states[i], rp->samples[k].at_ms, rp->samples[k].ms, rp->samples[k].cls);
	if (rp->n > 0) {
		state_set_last(&m->states[i], &rp->last, NULL, 0);
		if (rp->last.at_ms > m->last_result_ms)
			m->last_result_ms = rp->last.at_ms;
	}
	free(rp);
}

static int key_id(struct monitor *m, struct target_key *k, struct ht_err *err)
{
	if (k->id != 0)
		return 0;
	return store_target_id(m->store, k->name, k->project, k->url, &k->id, err);
}

/* Opens the store if needed and learns every current target's id. */
int ensure_store(struct monitor *m)
{
	struct ht_err err = { "" };

	if (!m->store) {
		if (store_open(m->db_path, &m->store, &err) < 0) {
			storage_failed(m, err.msg);
			return -1;
		}
		store_set_busy_timeout(m->store, WRITE_BUSY_MS);
	}
	for (size_t i = 0; i < m->n; i++) {
		if (key_id(m, m->keys[i], &err) < 0) {
			storage_failed(m, err.msg);
			return -1;
		}
	}
	return 0;
}

static int grow_pending(struct monitor *m)
{
	size_t cap = m->pending_cap ? m->pending_cap * 2 : 64;
	struct pending *np;

	if (cap > PENDING_MAX)
		cap = PENDING_MAX;
	if (cap <= m->pending_cap || !(np = realloc(m->pending, cap * sizeof(*np))))
		return -1;
	m->pending = np;
	m->pending_cap = cap;
	return 0;
}

void queue_row(struct monitor *m, size_t idx, const struct observation *o)
{
	struct pending *p;

	if (m->npending == m->pending_cap && grow_pending(m) < 0) {
		/* storage has been failing for a long while: this result stays in memory only */
		drop_results(m, 1, "too many results waiting for the database");
		return;
	}
	p = &m->pending[m->npending++];
	p->row = o->row;
	p->key = m->keys[idx];
	p->idx = idx;
	snprintf(p->reason, sizeof(p->reason), "%s", o->row.reason);
	snprintf(p->error, sizeof(p->error), "%s", o->row.error ? o->row.error : "");
	if (m->npending >= FLUSH_BATCH)
		monitor_flush(m);
	else if (!ev_is_active(&m->flush_timer))
		ev_timer_start(m->loop, &m->flush_timer);
}

static struct store_row *pending_rows(struct monitor *m, struct ht_err *err)
{
	struct store_row *rows = malloc(m->npending * sizeof(*rows));

	if (!rows) {
		ht_err_set(err, "out of memory writing results");
		return NULL;
	}
	for (size_t i = 0; i < m->npending; i++) {
		struct pending *p = &m->pending[i];
		if (key_id(m, p->key, err) < 0) {
			free(rows);
			return NULL;
		}
		rows[i] = p->row;
		rows[i].target_id = p->key->id;
		rows[i].reason = p->reason;
		rows[i].error = p->error;
		rows[i].url = p->key->url;
	}
	return rows;
}

/* All or nothing: on failure every pending result stays, to be retried. */
int monitor_flush(struct monitor *m)
{
	struct ht_err err = { "" };
	struct store_row *rows;

	if (m->npending == 0)
		return 0;
	if (ensure_store(m) < 0)
		return -1;
	if (!(rows = pending_rows(m, &err))) {
		storage_failed(m, err.msg);
		return -1;
	}
	int rc = store_append_batch(m->store, rows, m->npending, &err);
	free(rows);
	if (rc < 0) {
		storage_failed(m, err.msg);
		return -1;
	}
	m->npending = 0;
	free_gone_keys(m);
	storage_ok(m);
	return 0;
}

size_t monitor_pending(const struct monitor *m)
{
	return m->npending;
}

uint64_t monitor_dropped(const struct monitor *m)
{
	return m->dropped;
}

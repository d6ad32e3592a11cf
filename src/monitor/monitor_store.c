#include "autoconfig.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "healthtop/core/clock.h"
#include "healthtop/store/store_async.h"
#include "monitor/monitor_priv.h"

#define LEARN_PAUSE_MAX_S 5.0

/* Reads in WAL mode never wait for a writer; this only covers a checkpoint's brief lock. */
#define READ_BUSY_MS 100

/* One block: the key and its three texts after it (a fleet has one key per target: four
 * allocations each were 60 bytes of malloc overhead and scattered small blocks). */
struct target_key *key_new(const struct ht_target *t)
{
	size_t ln = strlen(t->name) + 1, lp = t->project ? strlen(t->project) + 1 : 0;
	size_t lu = strlen(t->display_url) + 1;
	struct target_key *k = malloc(sizeof(*k) + ln + lp + lu);
	char *text;

	if (!k)
		return NULL;
	text = (char *)(k + 1);
	*k = (struct target_key){ .name = memcpy(text, t->name, ln), .id = 0 };
	k->url = memcpy(text + ln, t->display_url, lu);
	k->project = t->project ? memcpy(text + ln + lu, t->project, lp) : NULL;
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
	free(k);   /* its texts are in the same block */
}

void storage_failed(struct monitor *m, const char *msg)
{
	bool news = strcmp(m->storage_error, msg) != 0;

	snprintf(m->storage_error, sizeof(m->storage_error), "%s", msg);
	if (news && m->hooks.on_storage)
		m->hooks.on_storage(m->hooks.user, m->storage_error);
}

void storage_ok(struct monitor *m)
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

struct name_index {
	const char *name;
	size_t idx;
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct name_index *)a)->name, ((const struct name_index *)b)->name);
}

struct id_ctx {
	struct monitor *m;
	struct name_index *by_name;
};

static int learn_id(void *user, const struct store_target *t)
{
	struct id_ctx *c = user;
	struct name_index key = { t->name, 0 };
	struct name_index *hit = bsearch(&key, c->by_name, c->m->n, sizeof(*hit), cmp_name);

	if (hit) {
		if (c->m->keys[hit->idx]->id == 0 && c->m->unknown_ids > 0)
			c->m->unknown_ids--;
		c->m->keys[hit->idx]->id = t->id;
	}
	if (t->id > c->m->max_id)
		c->m->max_id = t->id;
	return 0;
}

/* Learns the stored ids of the current targets by reading, never writing: a target the writer
 * has not created yet keeps id 0 (no history to show) until a later read finds it. A new
 * config (a reload gives new keys, maybe for targets stored long ago) reads every target; after
 * that only those stored since, and nothing once every key has its id. */
static int learn_ids(struct monitor *m, struct ht_err *err)
{
	bool all = m->learnt_keys != m->keys;
	struct id_ctx c = { m, NULL };
	int rc;

	if (!all && m->unknown_ids == 0)
		return 0;
	if (!(c.by_name = malloc((m->n ? m->n : 1) * sizeof(struct name_index)))) {
		ht_err_set(err, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < m->n; i++)
		c.by_name[i] = (struct name_index){ m->keys[i]->name, i };
	qsort(c.by_name, m->n, sizeof(*c.by_name), cmp_name);
	if (all)
		m->max_id = 0;
	rc = store_targets_after(m->store, all ? 0 : m->max_id, learn_id, &c, err);   /* by id: no sort */
	free(c.by_name);
	if (rc < 0)
		return -1;
	if (all) {
		m->learnt_keys = m->keys;
		m->unknown_ids = 0;   /* learn_id counts down from here */
		for (size_t i = 0; i < m->n; i++)
			m->unknown_ids += m->keys[i]->id == 0;
	}
	return 0;
}

/* While some targets have no id yet (the writer creates each with its first result), they are
 * looked for again after a pause that grows with the fleet: matching 100 000 names twice a second
 * was most of the loop's work during the first sweep. Up to 2 000 targets: every time. */
static bool ids_due(struct monitor *m)
{
	double pause = (double)m->n / 20000.0, now = ev_now(m->loop);

	if (m->learnt_keys != m->keys) {
		m->ids_tried_at = now;   /* a new config or connection: every id, now */
		return true;
	}
	if (m->unknown_ids == 0)
		return false;
	if (m->ids_tried_at > 0 && now - m->ids_tried_at < (pause < LEARN_PAUSE_MAX_S ? pause : LEARN_PAUSE_MAX_S))
		return false;
	m->ids_tried_at = now;
	return true;
}

struct store_async *pg_reader(struct monitor *m)
{
	struct ht_err err = { "" };

	if (!store_is_postgres(m->db_path) || m->pg_closed)
		return NULL;
	if (!m->pga && store_async_new(m->loop, m->db_path, &m->pga, &err) < 0)
		storage_failed(m, err.msg);
	return m->pga;
}

void pg_read_failed(struct monitor *m, int rc, const char *err)
{
	if (rc == -EAGAIN)
		m->pg_reread = true;   /* no schema yet: read again once the writer has written */
	else if (rc != -ECANCELED && rc < 0)
		storage_failed(m, err);
}

/* A listing of targets on the loop's PostgreSQL connection: answered before any read sent after
 * it, so those find the ids in place. */
struct id_job {
	struct id_ctx c;
	struct target_key **keys;
	bool all;
};

static int learn_id_async(void *user, const struct store_target *t)
{
	struct id_job *j = user;

	return j->c.m->keys == j->keys ? learn_id(&j->c, t) : 0;   /* a reload meanwhile: its own follows */
}

static void ids_learnt(void *user, int rc, const char *err)
{
	struct id_job *j = user;
	struct monitor *m = j->c.m;

	if (rc != -ECANCELED) {
		if (j->keys == m->ids_flight_keys)
			m->ids_in_flight = false;
		if (rc < 0) {
			pg_read_failed(m, rc, err);
		} else if (j->all && m->keys == j->keys) {
			m->learnt_keys = m->keys;
			m->unknown_ids = 0;
			for (size_t i = 0; i < m->n; i++)
				m->unknown_ids += m->keys[i]->id == 0;
		}
	}
	free(j->c.by_name);
	free(j);
}

static void pg_learn_ids(struct monitor *m, struct store_async *a)
{
	struct ht_err err = { "" };
	struct id_job *j;
	int rc;

	/* a listing for an older config does not hold a new one's back */
	if ((m->ids_in_flight && m->ids_flight_keys == m->keys) || !ids_due(m) || !(j = calloc(1, sizeof(*j))))
		return;
	*j = (struct id_job){ { m, malloc((m->n ? m->n : 1) * sizeof(struct name_index)) }, m->keys,
			      m->learnt_keys != m->keys };
	if (!j->c.by_name) {
		free(j);
		return;
	}
	for (size_t i = 0; i < m->n; i++)
		j->c.by_name[i] = (struct name_index){ m->keys[i]->name, i };
	qsort(j->c.by_name, m->n, sizeof(*j->c.by_name), cmp_name);
	if (j->all)
		m->max_id = 0;
	if ((rc = store_async_targets_after(a, j->all ? 0 : m->max_id, learn_id_async, ids_learnt, j, &err)) < 0) {
		pg_read_failed(m, rc, err.msg);
		free(j->c.by_name);
		free(j);
		return;
	}
	m->ids_in_flight = true;
	m->ids_flight_keys = m->keys;
}

/* Opens the reading connection if needed and learns every current target's id. */
int ensure_store(struct monitor *m)
{
	struct ht_err err = { "" };
	struct store_async *a = pg_reader(m);

	if (store_is_postgres(m->db_path)) {   /* no blocking connection on the loop: ids come asynchronously */
		if (a)
			pg_learn_ids(m, a);
		return -1;
	}
	if (!m->store) {
		/* Reading only, never creating or migrating: that is the writer thread's, so the loop
		 * never waits for another process's lock (a WAL reader is never blocked by a writer). */
		int rc = store_open_readonly(m->db_path, &m->store, &err);
		if (rc == -ENOENT || rc == -EAGAIN)
			return -1;   /* the writer creates or migrates it, maybe now: not an error */
		if (rc < 0) {
			storage_failed(m, err.msg);
			return -1;
		}
		store_set_busy_timeout(m->store, READ_BUSY_MS);
		m->learnt_keys = NULL;   /* a new connection learns every id */
	}
	/* Ids never change once stored: reading all targets (and sorting their names) again on every
	 * call cost 100 000 targets 0.1 s twice a second, on the loop. */
	if (ids_due(m) && learn_ids(m, &err) < 0) {
		storage_failed(m, err.msg);
		return -1;
	}
	return 0;
}

static int grow_pending(struct monitor *m)
{
	size_t cap = m->pending_cap ? m->pending_cap * 2 : 1024;
	struct pending *np;

	if (cap > STORE_WRITER_MAX_PENDING + 1)
		cap = STORE_WRITER_MAX_PENDING + 1;
	if (cap <= m->pending_cap || !(np = malloc(cap * sizeof(*np))))
		return -1;
	for (size_t i = 0; i < m->npending; i++)
		np[i] = m->pending[(m->phead + i) % m->pending_cap];
	free(m->pending);
	m->pending = np;
	m->pending_cap = cap;
	m->phead = 0;
	return 0;
}

/* Forgets the oldest n pending results: the writer has written or dropped them. */
static void trim_pending(struct monitor *m, uint64_t n)
{
	if (n > m->npending)
		n = m->npending;
	if (n == 0)
		return;
	m->phead = (m->phead + n) % m->pending_cap;
	m->npending -= n;
}

void queue_row(struct monitor *m, size_t idx, const struct observation *o)
{
	const struct target_key *k = m->keys[idx];
	struct store_writer_target t = { k->name, k->project ? k->project : "", k->url };

	if (m->npending == m->pending_cap && grow_pending(m) < 0)
		trim_pending(m, 1);   /* only the window's count of an unwritten result is lost */
	m->pending[(m->phead + m->npending++) % m->pending_cap] =
		(struct pending){ idx, (int8_t)o->verdict.cls, o->row.up, (float)o->latency_ms };
	if (!m->writer || store_writer_push(m->writer, &t, &o->row) < 0)
		drop_results(m, 1, "out of memory queueing a result for the database");
}

void pending_each(struct monitor *m, void (*fn)(struct monitor *m, const struct pending *p))
{
	for (size_t i = 0; i < m->npending; i++)
		fn(m, &m->pending[(m->phead + i) % m->pending_cap]);
}

static void open_history(struct monitor *m)
{
	struct ht_err err = { "" };

	if (ensure_store(m) < 0 && !m->pga)
		return;
	history_read(m, true, &err);
}

/* On the loop, after each batch the writer wrote or failed. */
void writer_event(void *user)
{
	struct monitor *m = user;
	struct store_writer_status st;
	char msg[512], when[40];

	store_writer_status(m->writer, &st);
	if (st.written > 0 && (m->pga ? m->pg_reread : !m->store)) {
		m->pg_reread = false;
		open_history(m);   /* the writer has created or upgraded the database */
	}
	trim_pending(m, st.written + st.dropped - m->confirmed);
	m->confirmed = st.written + st.dropped;
	if (st.dropped > m->writer_dropped) {
		uint64_t n = st.dropped - m->writer_dropped;
		m->writer_dropped = st.dropped;
		drop_results(m, n, "the oldest waiting results were given up: the database accepts no writes");
	}
	if (st.last_error[0]) {
		clock_iso8601(st.failing_since_ms, false, when, sizeof(when));
		/* the count of waiting results changes every second: monitor_pending() has it */
		snprintf(msg, sizeof(msg), "storage failing since %s: %s", when, st.last_error);
		storage_failed(m, msg);
		m->storage_since_ms = st.failing_since_ms;
	} else {
		storage_ok(m);
		m->storage_since_ms = 0;
	}
}

int monitor_drain(struct monitor *m, double wait_s)
{
	struct store_writer_status st;

	for (double waited = 0;; waited += 0.01) {
		store_writer_status(m->writer, &st);
		if (st.pending == 0 || waited >= wait_s)
			break;
		usleep(10000);
	}
	writer_event(m);
	return st.pending == 0 ? 0 : -1;
}

int monitor_flush(struct monitor *m)
{
	struct store_writer_status st;

	store_writer_status(m->writer, &st);
	return st.pending == 0 ? 0 : -1;
}

size_t monitor_pending(const struct monitor *m)
{
	struct store_writer_status st;

	store_writer_status(m->writer, &st);
	return st.pending;
}

int64_t monitor_storage_since(const struct monitor *m)
{
	/* as the last event said, with the error it shows: the writer's status changes meanwhile */
	return m->storage_error[0] ? m->storage_since_ms : 0;
}

uint64_t monitor_dropped(const struct monitor *m)
{
	return m->dropped;
}

const char *monitor_storage_error(const struct monitor *m)
{
	return m->storage_error[0] ? m->storage_error : NULL;
}

struct store *monitor_store(struct monitor *m)
{
	return ensure_store(m) == 0 ? m->store : NULL;
}

const char *monitor_db_path(const struct monitor *m)
{
	return m->db_path;
}

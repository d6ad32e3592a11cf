#include "autoconfig.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "healthtop/core/clock.h"
#include "healthtop/store/store_writer.h"
#include "store/writer_blob.h"
#include "store/writer_ids.h"

#define BATCH_MAX 512
/* A result waits this long for others to share its transaction (at 1 700 a second: a commit per
 * 400 rows, not per row); within the "about a second" a kill -9 may cost (docs/reliability.md). */
#define COALESCE_S 0.25
#define IDLE_WAIT_S 1.0
#define RETRY_WAIT_S 0.25
/* Each attempt waits this long for another process's lock, so a close can keep its deadline. */
#define ATTEMPT_BUSY_MS 200
#define PRUNE_EVERY_MS (600 * 1000)
#define PRUNE_STEP_ROWS 2000
#define TICK_EVERY_S 1.0

struct wr_item {
	struct store_row row;   /* its strings are the blob's: the caller's may be gone by the write */
	char *blob;             /* writer_blob.h */
	bool checked_url;       /* the row named the URL it checked (else the target's current one) */
};

struct wr_op {
	store_writer_op_fn fn;
	store_writer_free_fn free_fn;
	void *arg;
	struct wr_op *next;
};

struct store_writer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* guarded by mu */
	struct wr_item *ring;
	size_t cap, head, count, max_pending, in_batch;
	double oldest_s;              /* monotonic; when the ring last went from empty to one */
	bool closing, stop;
	double deadline;              /* monotonic seconds; valid while closing */
	struct store_retention retention;
	struct store_writer_status st;
	store_writer_tick_fn tick;
	void *tick_user;
	bool poked;
	double next_tick;             /* monotonic seconds */
	struct wr_op *ops, *ops_tail;   /* FIFO; the head stays queued until it has run */
	uint64_t ops_pushed, ops_done;
	/* the thread's own */
	struct store *store;
	struct writer_ids ids;
	struct wr_item batch[BATCH_MAX];
	struct store_row rows[BATCH_MAX];
	size_t nbatch;
	int64_t next_prune_ms;
	char db_path[1024];
	/* the loop's */
	struct ev_loop *loop;
	ev_async async;
	store_writer_event_fn fn;
	void *user;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void wait_for(struct store_writer *w, double seconds)
{
	struct timespec ts;
	double until;

	clock_gettime(CLOCK_REALTIME, &ts);
	until = (double)ts.tv_sec + ts.tv_nsec / 1e9 + seconds;
	ts.tv_sec = (time_t)until;
	ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
	pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

static void item_free(struct wr_item *it)
{
	free(it->blob);
	it->blob = NULL;
}

static int ring_grow(struct store_writer *w)
{
	size_t cap = w->cap ? w->cap * 2 : 1024;
	struct wr_item *n;

	/* Room for the bound plus a batch: the bound alone decides what is dropped. */
	if (cap > w->max_pending + BATCH_MAX)
		cap = w->max_pending + BATCH_MAX;
	if (cap <= w->cap || !(n = malloc(cap * sizeof(*n))))
		return -1;
	for (size_t i = 0; i < w->count; i++)
		n[i] = w->ring[(w->head + i) % w->cap];
	free(w->ring);
	w->ring = n;
	w->cap = cap;
	w->head = 0;
	return 0;
}

/* The oldest waiting result goes, so the newest (what an operator needs now) is kept. */
static void drop_oldest(struct store_writer *w)
{
	item_free(&w->ring[w->head]);
	w->head = (w->head + 1) % w->cap;
	w->count--;
	w->st.dropped++;
}

int store_writer_push(struct store_writer *w, const struct store_writer_target *t,
		      const struct store_row *row)
{
	struct wr_item it = { .row = *row, .blob = writer_blob_new(t, row), .checked_url = row->url != NULL };
	int rc = 0;

	/* The row's URL pointed into the caller's config, which a reload may free before the write. */
	it.row.url = it.row.reason = it.row.error = NULL;
	pthread_mutex_lock(&w->mu);
	if (!it.blob) {
		w->st.dropped++;
		rc = -1;
	} else {
		/* The batch being written (at most BATCH_MAX) stays whole; past the bound the oldest
		 * results waiting behind it go, one per new result. */
		if (w->count > 0 && w->count + w->in_batch >= w->max_pending)
			drop_oldest(w);
		else if (w->count == w->cap && ring_grow(w) < 0 && w->count > 0)
			drop_oldest(w);   /* out of memory growing the ring */
		if (w->count == w->cap) {   /* still full (no memory at all): this result is the one lost */
			item_free(&it);
			w->st.dropped++;
			pthread_mutex_unlock(&w->mu);
			return -1;
		}
		w->ring[(w->head + w->count) % w->cap] = it;
		w->count++;
		/* Only the first result starts the writer's wait and a full batch ends it: a wake-up
		 * per result would cost a context switch each. */
		if (w->count == 1)
			w->oldest_s = mono_s();
		if (w->count == 1 || w->count == BATCH_MAX)
			pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

/* Called with mu held: the batch leaves the ring but still counts as pending until written. */
static void take_batch(struct store_writer *w)
{
	while (w->nbatch < BATCH_MAX && w->count > 0) {
		w->batch[w->nbatch++] = w->ring[w->head];
		w->head = (w->head + 1) % w->cap;
		w->count--;
	}
	w->in_batch = w->nbatch;
}

static int open_store(struct store_writer *w, struct ht_err *err)
{
	if (w->store)
		return 0;
	if (store_open(w->db_path, &w->store, err) < 0)
		return -1;
	store_set_busy_timeout(w->store, ATTEMPT_BUSY_MS);
	return 0;
}

/* Outside mu: resolves target ids and commits the batch in one transaction. */
static int write_batch(struct store_writer *w, struct ht_err *err)
{
	if (open_store(w, err) < 0)
		return -1;
	for (size_t i = 0; i < w->nbatch; i++) {
		const char *b = w->batch[i].blob;
		struct store_writer_target t = { b, writer_blob_field(b, BLOB_PROJECT),
						 writer_blob_field(b, BLOB_TARGET_URL) };
		int64_t id;
		if (writer_ids_get(&w->ids, w->store, t.name, t.project, t.url, &id, err) < 0)
			return -1;
		w->rows[i] = w->batch[i].row;
		w->rows[i].target_id = id;
		w->rows[i].reason = writer_blob_field(b, BLOB_REASON);
		w->rows[i].error = writer_blob_field(b, BLOB_ERROR);
		w->rows[i].url = w->batch[i].checked_url ? writer_blob_field(b, BLOB_CHECKED_URL) : NULL;
	}
	return store_append_batch(w->store, w->rows, w->nbatch, err);
}

static void prune_if_due(struct store_writer *w, struct store_retention r)
{
	struct ht_err err = { "" };
	int64_t now = clock_wall_ms();
	int deleted = PRUNE_STEP_ROWS;

	if (!w->store || now < w->next_prune_ms)
		return;
	w->next_prune_ms = now + PRUNE_EVERY_MS;
	/* Small steps: a results batch never waits behind a long delete. */
	for (int steps = 0; deleted == PRUNE_STEP_ROWS && steps < 16; steps++)
		if (store_prune_step(w->store, &r, now, PRUNE_STEP_ROWS, &deleted, &err) < 0)
			break;
}

/* Called with mu held: the status after an attempt, a batch's or an op's. */
static void attempt_done(struct store_writer *w, int rc, const struct ht_err *err)
{
	if (rc == 0) {
		w->st.last_error[0] = '\0';
		w->st.failing_since_ms = 0;
		return;
	}
	w->st.errors++;
	snprintf(w->st.last_error, sizeof(w->st.last_error), "%s", err->msg);
	if (!w->st.failing_since_ms)
		w->st.failing_since_ms = clock_wall_ms();
}

static void batch_done(struct store_writer *w, int rc, const struct ht_err *err)
{
	w->st.connected = rc == 0;
	if (rc == 0) {
		w->st.written += w->nbatch;
		for (size_t i = 0; i < w->nbatch; i++)
			item_free(&w->batch[i]);
		w->nbatch = w->in_batch = 0;
	}
	attempt_done(w, rc, err);
}

/* Called with mu held; runs the tick outside it (it may wait for another process's lock). */
static void tick_if_due(struct store_writer *w)
{
	struct ht_err err = { "" };
	store_writer_tick_fn fn = w->tick;
	void *user = w->tick_user;

	if (!fn || (!w->poked && mono_s() < w->next_tick))
		return;
	w->poked = false;
	w->next_tick = mono_s() + TICK_EVERY_S;
	pthread_mutex_unlock(&w->mu);
	bool open = open_store(w, &err) == 0;
	fn(user, open ? w->store : NULL);
	pthread_mutex_lock(&w->mu);
	/* a failed batch or op says more; else whether the tick's queries left the connection up */
	if (!w->st.failing_since_ms)
		w->st.connected = open && store_usable(w->store);
}

static void op_free(struct wr_op *op)
{
	if (op->free_fn)
		op->free_fn(op->arg);
	free(op);
}

/* Called with mu held: runs the oldest op outside the lock; it leaves the queue only once it
 * has committed, so ops stay in order across failures. */
static void run_op(struct store_writer *w)
{
	struct wr_op *op = w->ops;
	struct ht_err err = { "" };

	pthread_mutex_unlock(&w->mu);
	int rc = open_store(w, &err) < 0 ? -1 : op->fn(w->store, op->arg, &err);
	pthread_mutex_lock(&w->mu);
	w->st.connected = rc == 0;
	if (rc == 0) {
		w->ops = op->next;
		if (!w->ops)
			w->ops_tail = NULL;
		w->ops_done++;
		op_free(op);
	}
	attempt_done(w, rc, &err);
	ev_async_send(w->loop, &w->async);
	if (rc < 0 && !(w->closing && mono_s() >= w->deadline))
		wait_for(w, RETRY_WAIT_S);
}

uint64_t store_writer_push_op(struct store_writer *w, store_writer_op_fn fn, store_writer_free_fn free_fn,
			      void *arg)
{
	struct wr_op *op = calloc(1, sizeof(*op));
	uint64_t seq;

	if (!op) {
		if (free_fn)
			free_fn(arg);
		return 0;
	}
	*op = (struct wr_op){ fn, free_fn, arg, NULL };
	pthread_mutex_lock(&w->mu);
	if (w->ops_tail)
		w->ops_tail->next = op;
	else
		w->ops = op;
	w->ops_tail = op;
	seq = ++w->ops_pushed;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return seq;
}

uint64_t store_writer_ops_done(struct store_writer *w)
{
	pthread_mutex_lock(&w->mu);
	uint64_t n = w->ops_done;
	pthread_mutex_unlock(&w->mu);
	return n;
}

/* Called with mu held: waits while a partial batch is younger than COALESCE_S (true: it waited). */
static bool coalescing(struct store_writer *w)
{
	double left = w->oldest_s + COALESCE_S - mono_s();

	if (w->count == 0 || w->count >= BATCH_MAX || w->closing || w->stop || left <= 0)
		return false;
	wait_for(w, left);
	return true;
}

static void *writer_main(void *arg)
{
	struct store_writer *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		tick_if_due(w);
		if (w->ops && !w->stop && !(w->closing && mono_s() >= w->deadline)) {
			run_op(w);
			continue;
		}
		if (w->nbatch == 0 && coalescing(w))
			continue;
		if (w->nbatch == 0)
			take_batch(w);
		if (w->nbatch == 0) {
			if (w->closing || w->stop)
				break;
			struct store_retention r = w->retention;
			pthread_mutex_unlock(&w->mu);
			prune_if_due(w, r);
			pthread_mutex_lock(&w->mu);
			if (w->count == 0 && !w->ops && !w->closing && !w->poked)
				wait_for(w, w->tick ? TICK_EVERY_S : IDLE_WAIT_S);
			continue;
		}
		if (w->stop || (w->closing && mono_s() >= w->deadline))
			break;
		pthread_mutex_unlock(&w->mu);
		struct ht_err err = { "" };
		int rc = write_batch(w, &err);
		pthread_mutex_lock(&w->mu);
		batch_done(w, rc, &err);
		ev_async_send(w->loop, &w->async);
		if (rc < 0 && !(w->closing && mono_s() >= w->deadline))
			wait_for(w, RETRY_WAIT_S);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void on_async(struct ev_loop *loop, ev_async *a, int revents)
{
	struct store_writer *w = a->data;

	if (w->fn)
		w->fn(w->user);
}

struct store_writer *store_writer_new(struct ev_loop *loop, const char *db_path, size_t max_pending,
				      const struct store_retention *retention, store_writer_event_fn fn,
				      void *user, struct ht_err *err)
{
	struct store_writer *w = calloc(1, sizeof(*w));

	if (!w) {
		ht_err_set(err, "out of memory starting the database writer");
		return NULL;
	}
	w->max_pending = max_pending ? max_pending : STORE_WRITER_MAX_PENDING;
	w->retention = *retention;
	w->loop = loop;
	w->fn = fn;
	w->user = user;
	w->next_prune_ms = clock_wall_ms() + 5000;
	snprintf(w->db_path, sizeof(w->db_path), "%s", db_path);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	ev_async_init(&w->async, on_async);
	w->async.data = w;
	ev_async_start(loop, &w->async);
	ev_unref(loop);   /* a writer with nothing to do must not keep the loop alive */
	int rc = pthread_create(&w->thread, NULL, writer_main, w);
	if (rc != 0) {
		ht_err_set(err, "cannot start the database writer: %s", strerror(rc));
		ev_ref(loop);
		ev_async_stop(loop, &w->async);
		free(w);
		return NULL;
	}
	return w;
}

void store_writer_set_retention(struct store_writer *w, const struct store_retention *r)
{
	pthread_mutex_lock(&w->mu);
	w->retention = *r;
	pthread_mutex_unlock(&w->mu);
}

void store_writer_set_tick(struct store_writer *w, store_writer_tick_fn fn, void *user)
{
	pthread_mutex_lock(&w->mu);
	w->tick = fn;
	w->tick_user = user;
	pthread_mutex_unlock(&w->mu);
	store_writer_poke(w);
}

void store_writer_poke(struct store_writer *w)
{
	pthread_mutex_lock(&w->mu);
	w->poked = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void store_writer_status(struct store_writer *w, struct store_writer_status *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->st;
	out->pending = w->count + w->in_batch;
	pthread_mutex_unlock(&w->mu);
}

size_t store_writer_close(struct store_writer *w, double wait_s)
{
	size_t left;

	if (!w)
		return 0;
	pthread_mutex_lock(&w->mu);
	w->closing = true;
	w->deadline = mono_s() + wait_s;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	if (w->tick)   /* the last word, on this thread now the writer's is gone */
		w->tick(w->tick_user, w->store);
	left = w->count + w->nbatch;
	for (size_t i = 0; i < w->count; i++)
		item_free(&w->ring[(w->head + i) % w->cap]);
	for (size_t i = 0; i < w->nbatch; i++)
		item_free(&w->batch[i]);
	while (w->ops) {   /* not written before the deadline: abandoned (not results: not counted) */
		struct wr_op *op = w->ops;
		w->ops = op->next;
		op_free(op);
	}
	free(w->ring);
	writer_ids_fini(&w->ids);
	if (w->store)
		store_close(w->store);
	ev_ref(w->loop);
	ev_async_stop(w->loop, &w->async);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
	return left;
}

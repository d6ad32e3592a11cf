/* The write path off the event loop: a thread with its own database connection, fed by one
 * bounded queue. A lock held by another process, a slow disk or a full one delays only this
 * thread; probes, timers and keystrokes never wait for storage. */
#ifndef HEALTHTOP_STORE_WRITER_H
#define HEALTHTOP_STORE_WRITER_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "healthtop/core/err.h"
#include "healthtop/store/store.h"

/* Results waiting to be written, at most; past it the oldest are dropped and counted. */
#define STORE_WRITER_MAX_PENDING 100000u

struct store_writer;

/* Whom a result belongs to: the writer resolves (and creates) the target's row itself, so the
 * loop never writes. */
struct store_writer_target {
	const char *name;
	const char *project;
	const char *url;
};

struct store_writer_status {
	uint64_t written;          /* results committed since start */
	uint64_t dropped;          /* oldest results given up because the queue was full */
	uint64_t errors;           /* failed write attempts (each retried) */
	size_t pending;            /* results not yet committed */
	int64_t failing_since_ms;  /* wall time of the first failure in the current run, 0 if none */
	char last_error[256];      /* empty when the last attempt succeeded */
	bool connected;            /* the thread's connection is open and its last attempt succeeded */
};

/* Called on the loop (through an ev_async) after each batch written or failed. */
typedef void (*store_writer_event_fn)(void *user);

/* Starts the writer thread on db_path (opened and migrated by the thread; a failure there is
 * reported through the status and retried). max_pending 0 means STORE_WRITER_MAX_PENDING. */
struct store_writer *store_writer_new(struct ev_loop *loop, const char *db_path, size_t max_pending,
				      const struct store_retention *retention, store_writer_event_fn fn,
				      void *user, struct ht_err *err);

/* Queues a copy of row (its target_id is ignored) for target t. Never blocks on storage; -1 only
 * when out of memory (the result is then counted as dropped). */
int store_writer_push(struct store_writer *w, const struct store_writer_target *t,
		      const struct store_row *row);

/* Any other write (a notification kept or forgotten, a mute) run on the writer's connection:
 * ops run one at a time in the order pushed, each retried until it succeeds, so the loop never
 * waits for a lock another process holds. free_fn(arg) runs once the op is done or abandoned. */
typedef int (*store_writer_op_fn)(struct store *s, void *arg, struct ht_err *err);
typedef void (*store_writer_free_fn)(void *arg);
/* Returns the op's sequence number (1, 2, ...), or 0 when out of memory (arg is then freed). */
uint64_t store_writer_push_op(struct store_writer *w, store_writer_op_fn fn, store_writer_free_fn free_fn,
			      void *arg);
/* Ops committed so far: every op whose sequence number is at most this is on disk. */
uint64_t store_writer_ops_done(struct store_writer *w);

/* A new retention takes effect at the next pruning step. */
void store_writer_set_retention(struct store_writer *w, const struct store_retention *r);

void store_writer_status(struct store_writer *w, struct store_writer_status *out);

/* Work the writer thread does about once a second besides results (the poller lease's
 * heartbeat), with its own connection: s is NULL while the database cannot be opened. Called
 * once more by store_writer_close, on the closing thread, after the writer thread stopped. */
typedef void (*store_writer_tick_fn)(void *user, struct store *s);
void store_writer_set_tick(struct store_writer *w, store_writer_tick_fn fn, void *user);
/* Runs the tick now rather than within the second. */
void store_writer_poke(struct store_writer *w);

/* Waits up to wait_s for every queued result to be committed, then stops the thread and frees
 * the writer. Returns how many results could not be written (0: everything is on disk). */
size_t store_writer_close(struct store_writer *w, double wait_s);

#endif

/* The reads the event loop makes on a PostgreSQL store, asynchronously: one connection driven by
 * libev (src/store/store_pg_async.c), queries answered in the order sent, each result handed to
 * the same row callbacks as the synchronous reads, then to done. SQLite keeps its synchronous
 * reads (a local file with a busy timeout): the monitor calls those and then done itself, so
 * both rooms end in the same callbacks. */
#ifndef HEALTHTOP_STORE_ASYNC_H
#define HEALTHTOP_STORE_ASYNC_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "healthtop/core/err.h"
#include "healthtop/store/store.h"
#include "healthtop/store/store_alert.h"
#include "healthtop/store/store_lease.h"

struct store_async;

/* Connects nothing yet: the first read connects (host names resolved off the loop). */
int store_async_new(struct ev_loop *loop, const char *conninfo, struct store_async **out, struct ht_err *err);
/* Reads still waiting get done(-ECANCELED). */
void store_async_free(struct store_async *a);

/* A read's end, on the loop, exactly once when the read was sent: rc 0 (or a count, below), -1
 * failed, -EAGAIN the schema is not there yet (a writer creates it: not an error), -ECANCELED
 * closing. The read functions return 0 when sent, else rc with err set, done not called (the
 * database failed a moment ago: asked again after a backoff, never waited for). */
typedef void (*store_done_fn)(void *user, int rc, const char *err);

/* store_results_since's rows, and those of ids in gaps (ids below *after not seen yet, because
 * their transaction had not committed), oldest id first; row->id says which. */
int store_async_results_since(struct store_async *a, int64_t after, const int64_t *gaps, size_t ngaps, int limit,
			      store_new_row_fn fn, store_done_fn done, void *user, struct ht_err *err);
/* The newest result's id, to fn. */
typedef void (*store_i64_fn)(void *user, int64_t v);
int store_async_results_last(struct store_async *a, store_i64_fn fn, store_done_fn done, void *user,
			     struct ht_err *err);
/* The newest `limit` results of each of ids, by target, newest first (rings). */
int store_async_recent(struct store_async *a, const int64_t *ids, size_t nids, int limit, store_row_fn fn,
		       store_done_fn done, void *user, struct ht_err *err);
/* store_window over every target (the one walker of raw, hourly and daily tables). */
int store_async_window(struct store_async *a, int64_t since_ms, store_window_fn fn, store_done_fn done, void *user,
		       struct ht_err *err);
/* store_window_between; done's rc is the count of grouped rows read. */
int store_async_window_between(struct store_async *a, int64_t since_ms, int64_t until_ms, store_window_fn fn,
			       store_done_fn done, void *user, struct ht_err *err);
/* store_targets_after. */
int store_async_targets_after(struct store_async *a, int64_t after_id, store_target_fn fn, store_done_fn done,
			      void *user, struct ht_err *err);
/* store_mute_each. */
int store_async_mutes(struct store_async *a, int64_t now_ms, store_mute_fn fn, store_done_fn done, void *user,
		      struct ht_err *err);
/* store_notify_each. */
int store_async_notify_each(struct store_async *a, store_notify_fn fn, store_done_fn done, void *user,
			    struct ht_err *err);

#endif

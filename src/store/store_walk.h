/* The one walker of windows and aggregates, shared by the synchronous reads (store_read.c, both
 * rooms) and the loop's asynchronous ones (store_pg_aread.c): which pieces of the raw, hourly and
 * daily tables cover a range, and the totals per target they add up to. Nothing outside
 * src/store/ includes this. */
#ifndef HEALTHTOP_STORE_WALK_H
#define HEALTHTOP_STORE_WALK_H

#include <stdbool.h>
#include <stdint.h>
#include "healthtop/store/store.h"

enum level { LEVEL_RAW, LEVEL_HOUR, LEVEL_DAY, LEVEL_COUNT };

struct store_level {
	const char *table, *name;
	int64_t period_ms;
};
extern const struct store_level store_levels[LEVEL_COUNT];

struct tally;
/* Reads one piece into the tally: raw results in [a, b) (ms), or level l's periods starting in
 * [a, b) (ms; b INT64_MAX for no end). */
typedef int (*store_piece_fn)(struct store *s, struct tally *t, enum level l, int64_t a, int64_t b,
			      struct ht_err *err);

/* Totals per target, found by id (sorted): the pieces of a range add up here. by_id: only these
 * targets, each read by its own seeks. */
struct tally {
	struct store_totals *t;
	size_t n, cap;
	int64_t complete[LEVEL_COUNT];
	bool by_id;
	store_piece_fn piece;   /* NULL: store_read_piece, at once */
	void *piece_user;
};

/* Ids in order; out of memory marks the tally with cap (size_t)-1. */
void tally_add(void *user, int64_t id);
struct store_totals *tally_find(struct tally *t, int64_t id);
void walk_add_latency(struct store_totals *t, double min_ms, double max_ms);
/* A raw group (target, class, bucket) and a rollup row, added into the tally (user). */
void walk_raw_group(void *user, int64_t target_id, int cls, int bucket, uint32_t n, double min_ms, double max_ms,
		    uint32_t up);
void walk_rollup_group(void *user, int64_t target_id, const uint32_t *counts, uint32_t up, const struct hist *h,
		       double min_ms, double max_ms);
/* The pieces covering [since, until) handed to t->piece; the level it starts from in *l. */
int walk_cover(struct store *s, struct tally *t, int64_t since_ms, int64_t until_ms, enum level *l,
	       struct ht_err *err);
/* The totals (targets with a check in them), as store_window hands them over; frees the tally. */
void walk_window_end(struct tally *t, store_window_fn fn, void *user);
/* A raw group as store_window_between hands it over (its count of rows in *rows). */
void walk_between_group(store_window_fn fn, void *user, int64_t *rows, int64_t id, int cls, int bucket,
			uint32_t n, uint32_t up);

/* store_read.c: the synchronous piece reader and the tally of every stored target. */
int store_read_piece(struct store *s, struct tally *t, enum level l, int64_t a, int64_t b, struct ht_err *err);
int store_tally_init(struct store *s, struct tally *t, struct ht_err *err);

#endif

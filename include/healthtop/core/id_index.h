/* Which place in an array holds a stored id (pure): the ids sorted once, then a binary search,
 * with the place after the last one found tried first (readers hand rows over target by target,
 * in id order). For the commands that gather rows by target id: `stats` walked its whole list
 * for each of 100 000 targets' rows (63 s). */
#ifndef HEALTHTOP_CORE_ID_INDEX_H
#define HEALTHTOP_CORE_ID_INDEX_H

#include <stddef.h>
#include <stdint.h>

/* The i-th id of the caller's array. */
typedef int64_t (*id_index_id_fn)(const void *ctx, size_t i);

struct id_index {
	struct id_place { int64_t id; size_t at; } *v;   /* by id */
	size_t n;
	size_t next;         /* where the search starts: after the last one found */
	uint64_t compares;   /* ids compared by lookups (tests count them) */
};

/* Indexes the n ids id(ctx, 0..n-1); with an id twice, either place. -1: out of memory. */
int id_index_init(struct id_index *ix, size_t n, id_index_id_fn id, const void *ctx);
/* The place of id, or SIZE_MAX when none has it. */
size_t id_index_find(struct id_index *ix, int64_t id);
void id_index_fini(struct id_index *ix);

#endif

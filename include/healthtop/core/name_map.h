/* Which place in an array of names holds a given name (pure): an open-addressing hash of the
 * places, built once, for matching two configs' targets by name (a reload of 100 000 targets
 * compared every name with every other: 5e9 string comparisons). The names stay the caller's. */
#ifndef HEALTHTOP_CORE_NAME_MAP_H
#define HEALTHTOP_CORE_NAME_MAP_H

#include <stddef.h>
#include <stdint.h>

/* The i-th name of the caller's array. */
typedef const char *(*name_map_name_fn)(const void *ctx, size_t i);

struct name_map {
	uint64_t *slot;      /* (hash high 32 bits << 32) | (place + 1); 0: empty */
	size_t mask;
	name_map_name_fn name;
	const void *ctx;
	uint64_t compares;   /* string comparisons made by lookups (tests count them) */
};

/* Maps the n names name(ctx, 0..n-1); with a name twice, the first place. -1: out of memory. */
int name_map_init(struct name_map *nm, size_t n, name_map_name_fn name, const void *ctx);
/* The place of name, or SIZE_MAX when none has it. */
size_t name_map_find(struct name_map *nm, const char *name);
void name_map_fini(struct name_map *nm);

#endif

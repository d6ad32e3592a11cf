#include "autoconfig.h"
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/name_map.h"

/* FNV-1a: names are short, and the table keeps the high half to skip most string compares. */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The slot holding name, or the empty slot where it would go. */
static size_t probe_slot(struct name_map *nm, const char *name, uint64_t h)
{
	uint64_t tag = h >> 32 << 32;
	size_t i = (size_t)h & nm->mask;

	while (nm->slot[i]) {
		if ((nm->slot[i] & ~0xFFFFFFFFULL) == tag) {
			nm->compares++;
			if (strcmp(nm->name(nm->ctx, (size_t)(nm->slot[i] & 0xFFFFFFFFULL) - 1), name) == 0)
				return i;
		}
		i = (i + 1) & nm->mask;
	}
	return i;
}

int name_map_init(struct name_map *nm, size_t n, name_map_name_fn name, const void *ctx)
{
	size_t cap = 16;

	memset(nm, 0, sizeof(*nm));
	if (n >= 0xFFFFFFFFu)
		return -1;
	while (cap < 2 * n)   /* at most half full: probes stay short */
		cap *= 2;
	if (!(nm->slot = calloc(cap, sizeof(*nm->slot))))
		return -1;
	nm->mask = cap - 1;
	nm->name = name;
	nm->ctx = ctx;
	for (size_t i = 0; i < n; i++) {
		const char *s = name(ctx, i);
		uint64_t h = name_hash(s);
		size_t at = probe_slot(nm, s, h);
		if (!nm->slot[at])
			nm->slot[at] = (h >> 32 << 32) | (uint64_t)(i + 1);
	}
	nm->compares = 0;
	return 0;
}

size_t name_map_find(struct name_map *nm, const char *name)
{
	size_t at = probe_slot(nm, name, name_hash(name));

	return nm->slot[at] ? (size_t)(nm->slot[at] & 0xFFFFFFFFULL) - 1 : SIZE_MAX;
}

void name_map_fini(struct name_map *nm)
{
	free(nm->slot);
	nm->slot = NULL;
}

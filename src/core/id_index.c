#include "autoconfig.h"
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/id_index.h"

static int cmp_place(const void *a, const void *b)
{
	int64_t x = ((const struct id_place *)a)->id, y = ((const struct id_place *)b)->id;
	return (x > y) - (x < y);
}

int id_index_init(struct id_index *ix, size_t n, id_index_id_fn id, const void *ctx)
{
	memset(ix, 0, sizeof(*ix));
	if (!(ix->v = malloc((n ? n : 1) * sizeof(*ix->v))))
		return -1;
	for (size_t i = 0; i < n; i++)
		ix->v[i] = (struct id_place){ id(ctx, i), i };
	qsort(ix->v, n, sizeof(*ix->v), cmp_place);
	ix->n = n;
	return 0;
}

size_t id_index_find(struct id_index *ix, int64_t id)
{
	size_t lo = 0, hi = ix->n;

	if (ix->n > 0) {   /* the same target again, or the next one */
		size_t k = ix->next > 0 ? ix->next - 1 : 0;
		for (size_t end = k + 2 < ix->n ? k + 2 : ix->n; k < end; k++) {
			ix->compares++;
			if (ix->v[k].id == id) {
				ix->next = k + 1;
				return ix->v[k].at;
			}
		}
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		ix->compares++;
		if (ix->v[mid].id == id) {
			ix->next = mid + 1;
			return ix->v[mid].at;
		}
		if (ix->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

void id_index_fini(struct id_index *ix)
{
	free(ix->v);
	ix->v = NULL;
	ix->n = 0;
}

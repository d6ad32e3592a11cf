/* The writer thread's map from target name to its row id, so a batch resolves ids without a
 * query per result; a target whose project or URL changed is written through again. */
#ifndef HEALTHTOP_STORE_WRITER_IDS_H
#define HEALTHTOP_STORE_WRITER_IDS_H

#include <stddef.h>
#include <stdint.h>
#include "healthtop/core/err.h"
#include "healthtop/store/store.h"

struct writer_id;

struct writer_ids {
	struct writer_id *slots;
	size_t cap, n;
};

int writer_ids_get(struct writer_ids *m, struct store *s, const char *name, const char *project,
		   const char *url, int64_t *id, struct ht_err *err);
void writer_ids_fini(struct writer_ids *m);

#endif

/* The importer shared by `healthtop import` (JSONL on standard input) and `healthtop migrate`
 * (another store): rows go into the store in batches, each target created on first sight, and a
 * row no newer than its target's newest stored result is skipped, so importing twice adds
 * nothing twice. Private to src/cmd/. */
#ifndef HEALTHTOP_CMD_IMPORT_ROWS_H
#define HEALTHTOP_CMD_IMPORT_ROWS_H

#include <stdbool.h>
#include <stdint.h>
#include "healthtop/core/err.h"
#include "healthtop/store/store.h"

#define IMPORT_BATCH 512
/* What a name, project, URL or reason read from a file is cut to, once sanitized. */
#define IMPORT_NAME_MAX 256
#define IMPORT_URL_MAX 2048
#define IMPORT_REASON_MAX 512

/* A target seen in the input: its store id and the newest result stored before the import. */
struct import_seen {
	char *name;
	int64_t id;
	int64_t newest_ms;
};

struct importer {
	struct store *s;
	struct import_seen *seen;
	size_t nseen, seen_cap;
	size_t *slots;              /* open addressing by name: index + 1 into seen, 0 empty */
	size_t nslots;
	struct store_row rows[IMPORT_BATCH];
	char *strings[IMPORT_BATCH * 2];   /* each row's reason and URL, freed with the batch */
	size_t n;
	uint64_t stored, skipped;
};

/* The target called name, created in the store on first sight (name, project and URL sanitized
 * and bounded first). NULL: out of memory or error. */
struct import_seen *importer_target(struct importer *im, const char *name, const char *project, const char *url,
				    struct ht_err *err);
/* Queues a result (stored with the batch, or skipped as already there; its reason and URL
 * sanitized and bounded): 0, or -1 with err. */
int importer_add(struct importer *im, const struct store_result *r, struct ht_err *err);
/* Stores what is queued. */
int importer_flush(struct importer *im, struct ht_err *err);
void importer_fini(struct importer *im);

#endif

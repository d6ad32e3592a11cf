/* What the writer keeps of a queued result's strings: one allocation, NUL-separated, so that
 * nothing the caller owns (its config, its buffers) is read after store_writer_push returns. */
#ifndef HEALTHTOP_WRITER_BLOB_H
#define HEALTHTOP_WRITER_BLOB_H

#include "healthtop/store/store_writer.h"

/* The fields, in order. */
enum writer_blob_field { BLOB_NAME, BLOB_PROJECT, BLOB_TARGET_URL, BLOB_REASON, BLOB_ERROR, BLOB_CHECKED_URL,
			 BLOB_FIELDS };

/* t's name, project and URL, r's reason, error and URL checked (NULL ones as ""); NULL when out
 * of memory. Free it with free(). */
char *writer_blob_new(const struct store_writer_target *t, const struct store_row *r);
const char *writer_blob_field(const char *blob, enum writer_blob_field k);

#endif

#include "autoconfig.h"
#include <stdlib.h>
#include <string.h>
#include "store/writer_blob.h"

const char *writer_blob_field(const char *blob, enum writer_blob_field k)
{
	for (int i = 0; i < (int)k; i++)
		blob += strlen(blob) + 1;
	return blob;
}

char *writer_blob_new(const struct store_writer_target *t, const struct store_row *r)
{
	const char *f[BLOB_FIELDS] = { t->name, t->project ? t->project : "", t->url ? t->url : "",
				       r->reason ? r->reason : "", r->error ? r->error : "", r->url ? r->url : "" };
	size_t len[BLOB_FIELDS], total = 0;
	char *blob, *p;

	for (int i = 0; i < BLOB_FIELDS; i++)
		total += (len[i] = strlen(f[i])) + 1;
	if (!(blob = p = malloc(total)))
		return NULL;
	for (int i = 0; i < BLOB_FIELDS; i++) {
		memcpy(p, f[i], len[i] + 1);
		p += len[i] + 1;
	}
	return blob;
}

#include "autoconfig.h"
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/sanitize.h"
#include "cmd/import_rows.h"

static void newest(void *user, const struct store_read_row *row)
{
	*(int64_t *)user = row->checked_at_ms;
}

static size_t hash(const char *s)
{
	size_t h = 14695981039346656037u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* The slot of name: where it is, or the empty one where it goes. */
static size_t *slot_of(struct importer *im, const char *name)
{
	size_t i = hash(name) & (im->nslots - 1);

	while (im->slots[i] && strcmp(im->seen[im->slots[i] - 1].name, name) != 0)
		i = (i + 1) & (im->nslots - 1);
	return &im->slots[i];
}

/* Room for one more target, the table kept at most half full. */
static int grow(struct importer *im)
{
	if (im->nseen == im->seen_cap) {
		size_t cap = im->seen_cap ? im->seen_cap * 2 : 64;
		struct import_seen *v = realloc(im->seen, cap * sizeof(*v));
		size_t *slots = calloc(cap * 2, sizeof(*slots));
		if (!v || !slots) {
			if (v)
				im->seen = v;
			free(slots);
			return -1;
		}
		im->seen = v;
		im->seen_cap = cap;
		free(im->slots);
		im->slots = slots;
		im->nslots = cap * 2;
		for (size_t i = 0; i < im->nseen; i++)
			*slot_of(im, im->seen[i].name) = i + 1;
	}
	return 0;
}

/* The target of a row, created in the store on first sight. NULL: out of memory or an error. */
struct import_seen *importer_target(struct importer *im, const char *raw_name, const char *raw_project,
				    const char *raw_url, struct ht_err *err)
{
	char name[IMPORT_NAME_MAX], project[IMPORT_NAME_MAX], url[IMPORT_URL_MAX];

	/* the input is a file: nothing from it reaches the database unsanitized or unbounded */
	sanitize_text(raw_name, strlen(raw_name), name, sizeof(name), false);
	sanitize_text(raw_project, strlen(raw_project), project, sizeof(project), false);
	sanitize_url(raw_url, url, sizeof(url));
	size_t *slot = im->nslots ? slot_of(im, name) : NULL;

	if (slot && *slot)
		return &im->seen[*slot - 1];
	if (grow(im) < 0)
		return NULL;
	struct import_seen *t = &im->seen[im->nseen];
	*t = (struct import_seen){ strdup(name), 0, INT64_MIN };
	if (!t->name || store_target_id(im->s, name, project, url, &t->id, err) < 0 ||
	    store_recent(im->s, t->id, 1, newest, &t->newest_ms, err) < 0) {
		free(t->name);
		return NULL;
	}
	im->nseen++;
	*slot_of(im, name) = im->nseen;
	return t;
}

int importer_flush(struct importer *im, struct ht_err *err)
{
	int rc = im->n ? store_append_batch(im->s, im->rows, im->n, err) : 0;

	if (rc == 0)
		im->stored += im->n;
	for (size_t i = 0; i < im->n * 2; i++)
		free(im->strings[i]);
	im->n = 0;
	return rc;
}

/* What the export leaves out, judged as the probe judged it: a check counts towards uptime when
 * it was not down and got a status below 500 other than 429, or (TCP, TLS) no status at all. */
static bool counted_up(enum ht_class cls, long code)
{
	return cls != HT_DOWN && (code == 0 || (code >= 100 && code < 500 && code != 429));
}

int importer_add(struct importer *im, const struct store_result *res, struct ht_err *err)
{
	struct store_row *r = &im->rows[im->n];
	struct import_seen *t = importer_target(im, res->name, res->project, res->url, err);

	if (!t) {
		ht_err_set(err, "%s", err->msg[0] ? err->msg : "out of memory");
		return -1;
	}
	if (res->checked_at_ms <= t->newest_ms) {
		im->skipped++;   /* already stored: imported before, or checked there */
		return 0;
	}
	*r = (struct store_row){ .target_id = t->id, .checked_at_ms = res->checked_at_ms, .cls = res->cls,
				 .http_code = res->http_code > 0 ? res->http_code : 0,
				 .response_ms = res->response_ms, .dns_ms = res->dns_ms,
				 .connect_ms = res->connect_ms, .tls_ms = res->tls_ms, .ttfb_ms = res->ttfb_ms };
	r->up = counted_up(res->cls, r->http_code);
	char reason[IMPORT_REASON_MAX], url[IMPORT_URL_MAX];
	sanitize_text(res->reason ? res->reason : "", res->reason ? strlen(res->reason) : 0, reason, sizeof(reason),
		      false);
	sanitize_url(res->url, url, sizeof(url));
	im->strings[im->n * 2] = strdup(reason);
	im->strings[im->n * 2 + 1] = strdup(url);
	r->reason = im->strings[im->n * 2];
	r->url = im->strings[im->n * 2 + 1];
	im->n++;
	if (!r->reason || !r->url) {
		ht_err_set(err, "out of memory");
		return -1;
	}
	return im->n == IMPORT_BATCH ? importer_flush(im, err) : 0;
}

void importer_fini(struct importer *im)
{
	for (size_t i = 0; i < im->n * 2; i++)
		free(im->strings[i]);
	im->n = 0;
	for (size_t i = 0; i < im->nseen; i++)
		free(im->seen[i].name);
	free(im->seen);
	free(im->slots);
	im->seen = NULL;
	im->slots = NULL;
	im->nseen = im->seen_cap = im->nslots = 0;
}

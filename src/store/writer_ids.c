#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "store/writer_ids.h"

/* One slot: the target's three texts in one block (name, project, url, each NUL-terminated)
 * and its id. A fleet has one per target: three copies and a 32-byte slot each were 200 bytes a
 * target (20 MB at 100 000) in the writer thread. */
struct writer_id {
	char *text;      /* NULL: empty slot */
	int64_t id;
};

static const char *project_of(const struct writer_id *e)
{
	return e->text + strlen(e->text) + 1;
}

static const char *url_of(const struct writer_id *e)
{
	const char *p = project_of(e);

	return p + strlen(p) + 1;
}

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

static struct writer_id *find(const struct writer_ids *m, const char *name)
{
	size_t i = hash(name) & (m->cap - 1);

	while (m->slots[i].text && strcmp(m->slots[i].text, name) != 0)
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

static int grow(struct writer_ids *m)
{
	struct writer_ids n = { calloc(m->cap ? m->cap * 2 : 256, sizeof(struct writer_id)),
				m->cap ? m->cap * 2 : 256, m->n };

	if (!n.slots)
		return -1;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].text)
			*find(&n, m->slots[i].text) = m->slots[i];
	free(m->slots);
	*m = n;
	return 0;
}

static char *texts(const char *name, const char *project, const char *url)
{
	size_t ln = strlen(name) + 1, lp = strlen(project) + 1, lu = strlen(url) + 1;
	char *t = malloc(ln + lp + lu);

	if (t) {
		memcpy(t, name, ln);
		memcpy(t + ln, project, lp);
		memcpy(t + ln + lp, url, lu);
	}
	return t;
}

int writer_ids_get(struct writer_ids *m, struct store *s, const char *name, const char *project,
		   const char *url, int64_t *id, struct ht_err *err)
{
	struct writer_id *e;
	char *t;

	if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
		goto oom;
	e = find(m, name);
	if (e->text && strcmp(project_of(e), project) == 0 && strcmp(url_of(e), url) == 0) {
		*id = e->id;
		return 0;
	}
	if (store_target_id(s, name, project, url, id, err) < 0)
		return -1;
	if (!(t = texts(name, project, url)))
		goto oom;
	if (!e->text)
		m->n++;
	free(e->text);
	e->text = t;
	e->id = *id;
	return 0;
oom:
	ht_err_set(err, "out of memory resolving target ids");
	return -1;
}

void writer_ids_fini(struct writer_ids *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].text);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

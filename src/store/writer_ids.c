#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "store/writer_ids.h"

struct writer_id {
	char *name;      /* NULL: empty slot */
	char *project;
	char *url;
	int64_t id;
};

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

	while (m->slots[i].name && strcmp(m->slots[i].name, name) != 0)
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
		if (m->slots[i].name)
			*find(&n, m->slots[i].name) = m->slots[i];
	free(m->slots);
	*m = n;
	return 0;
}

static int set(char **field, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

int writer_ids_get(struct writer_ids *m, struct store *s, const char *name, const char *project,
		   const char *url, int64_t *id, struct ht_err *err)
{
	struct writer_id *e;

	if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
		goto oom;
	e = find(m, name);
	if (e->name && strcmp(e->project, project) == 0 && strcmp(e->url, url) == 0) {
		*id = e->id;
		return 0;
	}
	if (store_target_id(s, name, project, url, id, err) < 0)
		return -1;
	if (set(&e->project, project) < 0 || set(&e->url, url) < 0)
		goto oom;
	if (!e->name) {
		if (set(&e->name, name) < 0)
			goto oom;
		m->n++;
	}
	e->id = *id;
	return 0;
oom:
	ht_err_set(err, "out of memory resolving target ids");
	return -1;
}

void writer_ids_fini(struct writer_ids *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		free(m->slots[i].name);
		free(m->slots[i].project);
		free(m->slots[i].url);
	}
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

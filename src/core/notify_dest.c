#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "healthtop/core/notify_dest.h"

static bool listed(char *const *list, const char *s)
{
	if (!list)
		return true;
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

bool notify_dest_wants(const struct notify_dest *d, const char *name, const char *project, int new_cls)
{
	if (d->states && (new_cls < 0 || !(d->states & (1u << new_cls))))
		return false;
	/* projects and targets widen each other: either list naming it is enough */
	if (d->projects && d->targets)
		return listed(d->projects, project) || listed(d->targets, name);
	return listed(d->projects, project) && listed(d->targets, name);
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void notify_dest_fini(struct notify_dest *d)
{
	free(d->key);
	strv_free(d->argv);
	free(d->url);
	for (size_t i = 0; i < d->nheaders; i++) {
		free(d->headers[i].name);
		free(d->headers[i].value);
	}
	free(d->headers);
	strv_free(d->projects);
	strv_free(d->targets);
	memset(d, 0, sizeof(*d));
}

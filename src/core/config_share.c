/* Strings many targets hold alike, held once: a project's name (100 000 targets in 50
 * projects were 100 000 copies of 50 names, 3 MB). */
#include "autoconfig.h"
#include <stdlib.h>
#include "healthtop/core/name_map.h"
#include "config_priv.h"

static const char *project_of(const void *cfg, size_t i)
{
	return ((const struct ht_config *)cfg)->targets[i].project;
}

void config_share_projects(struct ht_config *cfg)
{
	struct name_map first;

	if (name_map_init(&first, cfg->ntargets, project_of, cfg) < 0)
		return;
	for (size_t i = 0; i < cfg->ntargets; i++) {
		struct ht_target *t = &cfg->targets[i];
		size_t j = name_map_find(&first, t->project);
		if (j == i || j == SIZE_MAX || t->project_shared)
			continue;
		free(t->project);   /* target j, the first of the project, owns the string */
		t->project = cfg->targets[j].project;
		t->project_shared = true;
	}
	name_map_fini(&first);
}

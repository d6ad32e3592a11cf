#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "healthtop/core/err.h"
#include "monitor/monitor_priv.h"

/* "NAME" names one target, "project:NAME" every target of a project. */
static bool scope_covers(const char *scope, const struct ht_target *t)
{
	if (strncmp(scope, "project:", 8) == 0)
		return strcmp(scope + 8, t->project) == 0;
	return strcmp(scope, t->name) == 0;
}

int monitor_mute(struct monitor *m, const char *scope, int64_t until_ms, struct ht_err *err)
{
	size_t hits = 0;

	for (size_t i = 0; i < m->n; i++) {
		if (!scope_covers(scope, &m->cfg->targets[i]))
			continue;
		m->states[i].muted_until_ms = until_ms;
		hits++;
	}
	if (hits == 0) {
		ht_err_set(err, "no target %s \"%.100s\"", strncmp(scope, "project:", 8) == 0 ? "in project" : "named",
			   strncmp(scope, "project:", 8) == 0 ? scope + 8 : scope);
		return -1;
	}
	alerts_mute_saved(m, scope, until_ms);   /* survives a restart, reaches other pollers */
	if (m->hooks.on_result)
		for (size_t i = 0; i < m->n; i++)
			if (scope_covers(scope, &m->cfg->targets[i]))
				m->hooks.on_result(m->hooks.user, i, false, m->states[i].last.cls);
	return (int)hits;
}

bool monitor_muted(const struct monitor *m, size_t i, int64_t now_ms)
{
	return i < m->n && m->states[i].muted_until_ms > now_ms;
}

void mute_rows_add(void *user, const struct store_mute_row *r)
{
	struct mute_rows *mr = user;
	char *scope = mr->oom ? NULL : strdup(r->scope);

	if (scope && mr->n == mr->cap) {
		size_t cap = mr->cap ? mr->cap * 2 : 16;
		struct store_mute_row *nr = realloc(mr->rows, cap * sizeof(*nr));
		if (nr) {
			mr->rows = nr;
			mr->cap = cap;
		}
	}
	if (!scope || mr->n == mr->cap) {
		free(scope);
		mr->oom = true;
		return;
	}
	mr->rows[mr->n++] = (struct store_mute_row){ scope, r->until_ms, NULL, r->created_ms };
}

void mute_rows_fini(struct mute_rows *mr)
{
	for (size_t i = 0; i < mr->n; i++)
		free((char *)mr->rows[i].scope);
	free(mr->rows);
}

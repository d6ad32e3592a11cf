/* Where notifications go, as the config says: exec hooks and webhooks, each with the states,
 * projects and targets it wants. */
#ifndef HEALTHTOP_CORE_NOTIFY_DEST_H
#define HEALTHTOP_CORE_NOTIFY_DEST_H

#include <stdbool.h>
#include <stddef.h>
#include "healthtop/core/config.h"

enum notify_dest_kind { NOTIFY_DEST_EXEC, NOTIFY_DEST_WEBHOOK };
enum notify_dest_format { NOTIFY_FMT_JSON, NOTIFY_FMT_SLACK, NOTIFY_FMT_NTFY };

struct notify_dest {
	enum notify_dest_kind kind;
	char *key;                 /* stable name for the durable queue: "exec:/path" or the URL */
	char **argv;               /* exec: NULL-terminated */
	char *url;                 /* webhook */
	enum notify_dest_format format;
	struct ht_header *headers; /* webhook, ${VAR} expanded */
	size_t nheaders;
	unsigned states;           /* bit (1 << ht_class) per new state wanted; 0 = every change */
	char **projects;           /* NULL-terminated or NULL (all) */
	char **targets;            /* NULL-terminated or NULL (all) */
};

/* Does this destination want a change of target (name, project) to new_cls? */
bool notify_dest_wants(const struct notify_dest *d, const char *name, const char *project, int new_cls);
void notify_dest_fini(struct notify_dest *d);

#endif

/* What alerting keeps in the database: notifications not yet delivered (so a restart sends
 * them, once, in order) and mutes (so they outlive the process that set them and reach every
 * poller, the CLI's included). */
#ifndef HEALTHTOP_STORE_ALERT_H
#define HEALTHTOP_STORE_ALERT_H

#include <stdbool.h>
#include <stdint.h>
#include "healthtop/core/err.h"
#include "healthtop/store/store.h"

/* One notification waiting for its destination. Strings live until the next call. */
struct store_notify_row {
	int64_t id;            /* delivery order within a destination */
	const char *dest;      /* the destination's key */
	const char *name, *project, *url;
	int old_cls, new_cls;  /* -1: unknown */
	const char *reason;
	int64_t since_ms, at_ms, created_ms;
	int attempts;
};
typedef void (*store_notify_fn)(void *user, const struct store_notify_row *row);

/* Adds or updates (same id) one waiting notification. */
int store_notify_put(struct store *s, const struct store_notify_row *row, struct ht_err *err);
/* It was delivered or given up. */
int store_notify_delete(struct store *s, int64_t id, struct ht_err *err);
/* Every waiting notification, oldest id first. */
int store_notify_each(struct store *s, store_notify_fn fn, void *user, struct ht_err *err);

/* The class of target name's newest stored result (-1: none) and when its current state began
 * (its newest state change; 0 when unknown). */
int store_last_state(struct store *s, const char *name, int *cls, int64_t *since_ms, struct ht_err *err);

struct store_mute_row {
	const char *scope;     /* "NAME" or "project:NAME" */
	int64_t until_ms;
	const char *reason;
	int64_t created_ms;
};
typedef void (*store_mute_fn)(void *user, const struct store_mute_row *row);

/* Mutes scope until until_ms (replacing an earlier mute of the same scope). */
int store_mute_set(struct store *s, const struct store_mute_row *row, struct ht_err *err);
/* Unmutes scope; *removed says whether it was muted (expired mutes count as not muted). */
int store_mute_clear(struct store *s, const char *scope, int64_t now_ms, bool *removed, struct ht_err *err);
/* Mutes still in force at now_ms. */
int store_mute_each(struct store *s, int64_t now_ms, store_mute_fn fn, void *user, struct ht_err *err);

/* Changes whenever another connection commits: a cheap "did anything change?" (-1 on error). */
int64_t store_data_version(struct store *s);

#endif

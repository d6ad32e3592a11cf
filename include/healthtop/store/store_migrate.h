/* What `healthtop migrate` needs beyond the import: the history older than a target's raw
 * results (rollups and state changes outlive raw rows by retention) put into another store as
 * it was, on either room. */
#ifndef HEALTHTOP_STORE_MIGRATE_H
#define HEALTHTOP_STORE_MIGRATE_H

#include <stdint.h>
#include "healthtop/core/err.h"
#include "healthtop/store/store.h"

/* The target's oldest raw result (unix ms), INT64_MAX when it has none, -1 with err on error. */
int store_first_raw(struct store *s, int64_t target_id, int64_t *at_ms, struct ht_err *err);

/* Puts a whole hourly (period_s 3600) or daily (86400) rollup row in place of whatever the
 * store holds for that target and period: putting it twice leaves one. */
int store_rollup_put(struct store *s, int period_s, int64_t target_id, const struct store_rollup *r,
		     struct ht_err *err);

/* Adds a state change unless the target has one at that instant already: 1 added, 0 there, -1. */
int store_change_put(struct store *s, int64_t target_id, int64_t at_ms, int from, int to, struct ht_err *err);

/* Around many puts: one transaction (ok false rolls it back). */
int store_migrate_begin(struct store *s, struct ht_err *err);
int store_migrate_end(struct store *s, bool ok, struct ht_err *err);

#endif

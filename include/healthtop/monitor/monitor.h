/* The live monitor shared by the dashboard and the daemon: owns the config, schedules checks,
 * judges each result through observe(), keeps each target's state, and writes results to the
 * store in batches. Storage trouble is reported, never turned into a target's class; a result
 * that cannot be kept is counted and reported, never lost in silence. */
#ifndef HEALTHTOP_MONITOR_H
#define HEALTHTOP_MONITOR_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "healthtop/core/config.h"
#include "healthtop/core/err.h"
#include "healthtop/core/target_state.h"
#include "healthtop/store/store.h"

struct monitor;

struct monitor_hooks {
	/* A result was applied to target idx; changed: its class differs from the previous one. */
	void (*on_result)(void *user, size_t idx, bool changed, enum ht_class from);
	/* Storage failed (msg) or recovered (msg NULL). */
	void (*on_storage)(void *user, const char *msg);
	void *user;
};

/* count results were dropped (total: since start); why says what happened. */
typedef void (*monitor_drop_fn)(void *user, uint64_t count, uint64_t total, const char *why);

/* Takes ownership of cfg (also on failure). The database is opened now; if it cannot be, the
 * monitor still runs and keeps retrying. */
struct monitor *monitor_new(struct ev_loop *loop, struct ht_config *cfg, const char *db_path,
			    const struct monitor_hooks *hooks, struct ht_err *err);
void monitor_start(struct monitor *m);
/* Replaces the hooks (NULL: none). */
void monitor_set_hooks(struct monitor *m, const struct monitor_hooks *hooks);
/* Who hears of dropped results. Without one (fn NULL), a drop is told through on_storage (the
 * dashboard's status line), or else on stderr. */
void monitor_set_drop_hook(struct monitor *m, monitor_drop_fn fn, void *user);

size_t monitor_count(const struct monitor *m);
/* Transfers in flight at most: the config's, or less if the open-file limit says so. */
unsigned monitor_concurrency(const struct monitor *m);
const struct ht_target *monitor_target(const struct monitor *m, size_t i);
const struct target_state *monitor_state(const struct monitor *m, size_t i);
/* Results target i got from checks run by this process (history read back at start does not
 * count): 1 means its first result just arrived. */
uint64_t monitor_live_results(const struct monitor *m, size_t i);
int64_t monitor_last_result_ms(const struct monitor *m);
const char *monitor_storage_error(const struct monitor *m);
struct store *monitor_store(struct monitor *m);
const char *monitor_db_path(const struct monitor *m);

bool monitor_in_flight(const struct monitor *m, size_t i);
int monitor_force(struct monitor *m, size_t i);
void monitor_force_all(struct monitor *m);

/* Window for uptime and p95, in seconds; reread from the store. */
/* Reads the window back from the store: a large fleet in slices, one per loop turn (see
 * monitor_set_history_hook). */
int monitor_set_window(struct monitor *m, int64_t window_s, struct ht_err *err);
int64_t monitor_window(const struct monitor *m);
/* Told after each slice of history read (the rings at start, the window after a switch); done
 * after the last. */
typedef void (*monitor_history_fn)(void *user, bool done);
void monitor_set_history_hook(struct monitor *m, monitor_history_fn fn, void *user);
/* A read of the history is still under way; the slices read since start (a count for tests). */
bool monitor_history_reading(const struct monitor *m);
uint64_t monitor_history_slices(const struct monitor *m);
/* What the window timer does every minute (now_ms: the wall clock): takes the checks that left
 * the history window back, or reads the window again where that is not possible. */
void monitor_window_refresh(struct monitor *m, int64_t now_ms);
/* Grouped result rows the last refresh read: the aged minute's, not the whole window's. */
uint64_t monitor_window_rows(const struct monitor *m);
/* Target names the last reload compared to match old targets with new (tests count them). */
uint64_t monitor_reload_compares(const struct monitor *m);

/* Swaps in a new config (owned on success), keeping the state of targets that keep their name
 * and every pending result, even when the database cannot be written now. */
int monitor_reload(struct monitor *m, struct ht_config *cfg, struct ht_err *err);

/* Never waits: 0 when every result so far is in the database, -1 while some still wait for the
 * writer thread (another process's lock, a full disk). */
int monitor_flush(struct monitor *m);
/* Waits up to wait_s for the writer to commit what waits; 0 when all is written. Not for the
 * loop of a running poller: for tests and shutdown. */
int monitor_drain(struct monitor *m, double wait_s);
/* Results waiting for the database. */
size_t monitor_pending(const struct monitor *m);
/* Wall time (ms) since when the database has refused writes (unreachable, locked, full); 0
 * while writes succeed. */
int64_t monitor_storage_since(const struct monitor *m);
/* Results lost since start (storage failing far too long, target removed mid-check, exit with
 * the database locked). */
uint64_t monitor_dropped(const struct monitor *m);
/* Mutes "NAME" or "project:NAME" until until_ms (0 unmutes): still checked and stored, shown
 * as muted, notifying nobody. Returns how many targets it covers; -1 (err) when none. */
int monitor_mute(struct monitor *m, const char *scope, int64_t until_ms, struct ht_err *err);
bool monitor_muted(const struct monitor *m, size_t i, int64_t now_ms);
/* Times the mute rows were read after a database change, and times every target's mute was
 * computed again from them (only when the rows differ or one ran out). */
void monitor_mute_counts(const struct monitor *m, uint64_t *reads, uint64_t *scans);
/* Where notification trouble (retries, give-ups) and mutes picked up from the database are
 * told; without one they are not told. */
typedef void (*monitor_log_fn)(void *user, const char *line);
void monitor_set_alert_log(struct monitor *m, monitor_log_fn fn, void *user);
/* Notifications waiting for their destination (delivered ones are gone). */
size_t monitor_notify_pending(const struct monitor *m);
/* Stops checking, waits up to wait_s for the writer (another process may hold the lock), then
 * frees. Returns how many results could not be written (each also counted as dropped and told). */
size_t monitor_close(struct monitor *m, double wait_s);
/* monitor_close without waiting for a locked database beyond a moment. */
void monitor_free(struct monitor *m);

#endif

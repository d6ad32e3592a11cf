/* Several pollers, one fleet (issue 13): the targets fall into STORE_SHARDS shards by name, and
 * each shard is leased in the database to one live poller at a time, spread evenly over the
 * live pollers. PostgreSQL's transactions are the only coordination, and every time compared is
 * the database's clock, so pollers on hosts with skewed clocks agree. SQLite has one poller per
 * database (store_lease.h): there, a round holds every shard. */
#ifndef HEALTHTOP_STORE_SHARD_H
#define HEALTHTOP_STORE_SHARD_H

#include <stdbool.h>
#include <stdint.h>
#include "healthtop/core/err.h"
#include "healthtop/store/store.h"

#define STORE_SHARDS 64
#define STORE_SHARD_LEASE_MS 10000

/* The shard of the target called name: FNV-1a of the name, modulo STORE_SHARDS. */
unsigned store_shard_of(const char *name);

/* One round of the protocol; each poller runs it every lease_ms / 3 (on its writer thread):
 * marks poller `me` alive, renews the shards it holds, gives back those beyond its fair share
 * (ceil(STORE_SHARDS / live pollers)) and takes free or expired ones up to it. *held: the shards
 * held after the round, bit i for shard i. A poller alive is one whose round ran within two
 * lease periods; a shard held by a poller that stopped is free once its lease expired, so the
 * others take it over within two lease periods. Returns 0, or -1 (err): then nothing was
 * renewed; the caller keeps checking the shards it held (monitor_shard.c says why). */
int store_shard_round(struct store *s, const char *me, int64_t lease_ms, uint64_t *held, struct ht_err *err);

/* A clean exit: my shards and my liveness go at once, so the others need not wait. */
int store_shard_leave(struct store *s, const char *me, struct ht_err *err);

/* The location this store's pollers check from (--location; NULL: none): each location leases
 * its own 64 shards among its own pollers, so every location checks every target, and each
 * result stores its location. PostgreSQL only. */
void store_set_location(struct store *s, const char *location);

/* Pollers alive by shards (a round within two lease periods): a dashboard on PostgreSQL views
 * the fleet they poll rather than polling it too. SQLite: 0. */
int store_shard_live(struct store *s, int64_t lease_ms, struct ht_err *err);

/* Who this store's results say checked them (PostgreSQL's result.poller: host:pid, or the
 * --location name); kept across reconnects. SQLite has one poller: nothing is stored. */
void store_set_poller(struct store *s, const char *id);

/* Each target's newest stored result since since_ms: fn(user, name, checked_at_ms). A poller
 * that gains a shard continues its targets' cadence from there. SQLite: none (0). */
typedef void (*store_last_fn)(void *user, const char *name, int64_t at_ms);
int store_last_checked(struct store *s, int64_t since_ms, store_last_fn fn, void *user, struct ht_err *err);

#endif

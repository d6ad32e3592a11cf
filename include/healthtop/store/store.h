/* History in SQLite: open (creating 0600), migrate, append results in batches, read back.
 * Storage knows no output format: readers get the structs below and format them themselves. */
#ifndef HEALTHTOP_STORE_H
#define HEALTHTOP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "healthtop/core/health_class.h"
#include "healthtop/core/store_row.h"
#include "healthtop/core/err.h"
#include "healthtop/core/histogram.h"

#define STORE_SCHEMA_VERSION 6

struct store;

/* How long each table keeps rows; 0 days = forever. */
struct store_retention {
	int raw_days;
	int hourly_days;
	int daily_days;
};

/* Whether --db names a PostgreSQL database rather than a SQLite file: a URI starting
 * "postgresql://" or "postgres://", or a libpq key=value conninfo, i.e. text that starts with a
 * keyword (letters and '_', after optional spaces) followed by '=' ("host=db dbname=ht"). Any other
 * text is a SQLite path: "./a=b.db" or "/x/a=b.db" stay files. */
bool store_is_postgres(const char *db);
/* db as messages show it: a password in a URI's user info or a password= parameter is "***". */
size_t store_db_shown(const char *db, char *out, size_t size);

/* Opens (creating the directories 0700 and the file 0600) and migrates the database; a
 * PostgreSQL database (store_is_postgres) is connected to and its schema created or migrated. */
int store_open(const char *path, struct store **out, struct ht_err *err);
/* For readers (export, stats) beside a running writer: never creates or migrates. Reads a
 * database in a directory it cannot write to as well. -ENOENT when there is no such file,
 * -EAGAIN when its schema is older than this healthtop's (a writer would migrate it, and may be
 * doing so one version per transaction right now, starting from a new empty file), -1 otherwise. */
int store_open_readonly(const char *path, struct store **out, struct ht_err *err);
void store_close(struct store *s);
/* False once a PostgreSQL store's connection is lost. A read-only PostgreSQL store never
 * reconnects by itself (its owner may be the event loop, which must not wait for a connect):
 * close it and open another when the database is back. SQLite: always true. */
bool store_usable(const struct store *s);

/* The id of the target called name, creating or updating its row. */
int store_target_id(struct store *s, const char *name, const char *project, const char *url,
		    int64_t *id, struct ht_err *err);
/* Around many store_target_id calls (a `check` of the whole fleet): one commit for all of them
 * instead of one each. A failure in between leaves nothing: store_close rolls back. */
int store_targets_begin(struct store *s, struct ht_err *err);
int store_targets_end(struct store *s, struct ht_err *err);

/* All rows in one transaction: all stored or none. The hourly and daily rollups and the state
 * changes are updated in the same transaction, row by row: never by rescanning history. */
int store_append_batch(struct store *s, const struct store_row *rows, size_t n, struct ht_err *err);

/* Deletes at most `limit` rows past their retention, in one short transaction; *deleted says
 * how many. Call again while it deletes `limit`. */
int store_prune_step(struct store *s, const struct store_retention *r, int64_t now_ms, int limit,
		     int *deleted, struct ht_err *err);

/* A stored check read back; strings live until the next call. */
struct store_read_row {
	int64_t target_id;
	int64_t checked_at_ms;
	enum ht_class cls;
	long http_code;              /* 0 when absent */
	double response_ms, dns_ms, connect_ms, tls_ms, ttfb_ms;   /* < 0 when absent */
	int64_t cert_expiry;
	const char *reason;
	const char *poller;          /* who checked it (PostgreSQL, several pollers); NULL: unknown */
	int64_t id;                  /* the result's id, where the read says (new rows by id) */
	const char *location;        /* where from (daemon --location); NULL: none. New rows only */
};

typedef void (*store_row_fn)(void *user, const struct store_read_row *row);

/* The newest `limit` results of one target, newest first. */
int store_recent(struct store *s, int64_t target_id, int limit, store_row_fn fn, void *user,
		 struct ht_err *err);

/* One target's checks over a range: counts by class, and the latency of those that got an
 * HTTP answer (histogram, min, max; min/max < 0 when none). */
struct store_totals {
	int64_t target_id;
	uint32_t counts[HT_CLASS_COUNT];
	uint32_t up;                 /* of those, checks that count towards uptime */
	struct hist latency;
	double min_ms, max_ms;
};
typedef void (*store_totals_fn)(void *user, const struct store_totals *t);

/* The one reader of windows and aggregates (the dashboard's window and `stats` both): every
 * target's totals over [since, until) (until INT64_MAX: no end). Whole hours or days in the
 * middle come from the rollups, the edges from the finer table while it still holds them, so
 * the answer equals the raw rows' wherever they have not been pruned; where they have, the
 * start is rounded down to the hour or day. *source names the coarsest table read ("raw",
 * "hourly" or "daily"). */
int store_aggregate(struct store *s, int64_t since_ms, int64_t until_ms, store_totals_fn fn, void *user,
		    const char **source, struct ht_err *err);
/* The coarsest table a window of this span is read from: raw up to 6 h, hourly up to 8 d. */
const char *store_window_source(int64_t since_ms, int64_t now_ms);

/* store_aggregate since since_ms, handed over as (target, class, bucket -1, n) counts,
 * (target, STORE_WINDOW_UP, -1, n) checks that were up and (target, -1, bucket, n) latency
 * buckets: the shape the dashboard's window keeps. */
#define STORE_WINDOW_UP ((enum ht_class)HT_CLASS_COUNT)
typedef void (*store_window_fn)(void *user, int64_t target_id, enum ht_class cls, int bucket,
				uint32_t count);
int store_window(struct store *s, int64_t since_ms, int64_t now_ms, store_window_fn fn, void *user,
		 struct ht_err *err);
/* The same for the targets ids (sorted, unique) only, each read by its own index seeks: what a
 * slice of a large fleet costs is its own rows, however many other targets there are. */
int store_window_ids(struct store *s, int64_t since_ms, const int64_t *ids, size_t nids, store_window_fn fn,
		     void *user, struct ht_err *err);

/* Every target's raw results in [since, until), handed over as store_window does: what left a
 * window since it was read (monitor_window.c takes it back instead of reading the whole window
 * again). Returns the rows handed over, or -1. */
int64_t store_window_between(struct store *s, int64_t since_ms, int64_t until_ms, store_window_fn fn, void *user,
			     struct ht_err *err);

/* Which stored results an export reads; NULL lists mean "all". */
struct store_query {
	int64_t since_ms;            /* inclusive */
	int64_t until_ms;            /* exclusive; INT64_MAX for no end */
	const char *const *names;    /* NULL-terminated, or NULL */
	const char *const *projects; /* NULL-terminated, or NULL */
};

/* A stored result with its target, for readers that list results (export). */
struct store_result {
	int64_t checked_at_ms;
	const char *project;
	const char *name;
	const char *url;             /* the URL that was checked then, not the target's current one */
	enum ht_class cls;
	long http_code;              /* 0: absent */
	double response_ms;          /* < 0: absent */
	double dns_ms, connect_ms, tls_ms, ttfb_ms;
	const char *reason;
	const char *poller;          /* who checked it (PostgreSQL, several pollers); NULL: unknown */
	const char *location;        /* where from (--location); NULL: none */
};
typedef int (*store_result_fn)(void *user, const struct store_result *row);

/* A stored result list read a slice at a time, so a long-running loop stays responsive. */
struct store_cursor;
struct store_cursor *store_export_begin(struct store *s, const struct store_query *q, struct ht_err *err);
/* Up to max_rows rows to fn: 1 more to come, 0 done, -1 error (err), or what fn returned. */
int store_export_step(struct store_cursor *c, int max_rows, store_result_fn fn, void *user, struct ht_err *err);
void store_export_end(struct store_cursor *c);

/* How long a write waits for another process's lock before failing (and being retried later). */
void store_set_busy_timeout(struct store *s, int ms);

/* Streams matching results in time order (constant memory); stops early, returning what fn
 * returned, when fn returns non-zero. */
int store_export(struct store *s, const struct store_query *q, store_result_fn fn, void *user,
		 struct ht_err *err);

/* One hour or UTC day of one target, as rolled up. */
struct store_rollup {
	int64_t period_start_ms;
	const char *project;
	const char *name;
	const char *url;             /* the last URL checked in the period */
	uint32_t counts[HT_CLASS_COUNT];
	uint32_t n_up;               /* checks that count towards uptime (see docs/config.md) */
	uint32_t n_latency;          /* checks with an HTTP answer */
	double sum_ms, min_ms, max_ms;   /* of those; min/max < 0 when none */
	struct hist latency;
};
typedef int (*store_rollup_fn)(void *user, const struct store_rollup *row);

/* Streams hourly (period_s 3600) or daily (86400) rollup rows whose period starts in the query's
 * range, oldest first. */
int store_export_rollup(struct store *s, const struct store_query *q, int period_s, store_rollup_fn fn,
			void *user, struct ht_err *err);

struct store_target {
	int64_t id;
	const char *name;
	const char *project;
	const char *url;
};
typedef int (*store_target_fn)(void *user, const struct store_target *t);
int store_targets(struct store *s, store_target_fn fn, void *user, struct ht_err *err);
/* Only the targets stored after after_id (ids only grow), by id: what is new since a read. */
int store_targets_after(struct store *s, int64_t after_id, store_target_fn fn, void *user, struct ht_err *err);

typedef void (*store_change_fn)(void *user, int64_t target_id, int64_t at_ms, int from, int to);
/* Every state change before until_ms, by target then time. */
int store_changes(struct store *s, int64_t until_ms, store_change_fn fn, void *user, struct ht_err *err);
/* The first time a target was seen (raw or rollups), 0 if never. */
int64_t store_first_seen(struct store *s, int64_t target_id);

/* $XDG_STATE_HOME/healthtop/<file> (or ~/.local/state/...). Returns buf or NULL. */
char *store_default_path(const char *file, char *buf, size_t size);

#endif

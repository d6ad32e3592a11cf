/* The monitor's insides, shared by its two files: monitor.c (targets, results, reload) and
 * monitor_store.c (results waiting for the database, history read back). Nothing outside src/monitor/ includes it. */
#ifndef HEALTHTOP_MONITOR_PRIV_H
#define HEALTHTOP_MONITOR_PRIV_H

#include <stdint.h>
#include "healthtop/core/observe.h"
#include "healthtop/monitor/monitor.h"
#include "healthtop/probe/probe.h"
#include "healthtop/sched/sched.h"
#include "healthtop/serve/metrics_text.h"
#include "healthtop/store/store_alert.h"
#include "healthtop/store/store_async.h"
#include "healthtop/store/store_writer.h"

#define RETIRED_MAX 8

/* Who a result belongs to in the store, and the URL it checked. Never changed: a reload that
 * removes a target or changes its project or URL gives it a new key, and the old one lives on
 * until the results still waiting under it are written. */
struct target_key {
	char *name;
	char *project;
	char *url;
	int64_t id;              /* store id, 0 until known */
};

/* A result handed to the store writer and not yet confirmed written (or dropped), kept only so
 * that a window read from the database meanwhile still counts it. In writer order. */
struct pending {
	size_t idx;              /* the target's place in the current config; SIZE_MAX: removed */
	int8_t cls;
	bool up;                 /* counts as uptime (issue 10's honest uptime) */
	float ms;                /* < 0: no latency */
};

/* The read the history window's counts stand on (monitor_window.c). */
struct window_mark {
	bool valid;
	bool reading;              /* a full read of ours is under way */
	bool taking;               /* PostgreSQL: the aged minute's read is under way */
	struct target_key **keys;  /* the config it read for */
	int64_t window_s;
	int64_t since_ms;          /* the counts hold the checks since then */
	uint64_t slices;           /* monitor_history_slices after it: another read since changes it */
	uint64_t rows;             /* grouped rows the last refresh read from the store */
};

/* A config replaced by a reload, kept until the checks it started have reported. */
struct retired {
	struct monitor *m;
	struct sched *sched;
	struct ht_config *cfg;
	size_t *to;   /* by its target: the place in the current config (SIZE_MAX: removed) */
};

/* A viewer's view of the database: the newest result drawn, stored ids to targets. */
struct viewer_id {
	int64_t id;
	size_t idx;
};

/* PostgreSQL: an id below the newest read that was not there (its transaction had not
 * committed, or rolled back), asked for again until it comes or is old. */
struct viewer_gap {
	int64_t id;
	double since;            /* ev_now when found */
};

struct viewer {
	ev_timer timer;
	bool running;
	int64_t after;
	struct viewer_id *ids;   /* sorted by id */
	size_t nids;
	bool busy;               /* PostgreSQL: a read is under way */
	bool after_known;        /* PostgreSQL: the newest id at start was read */
	struct viewer_gap *gaps; /* sorted by id */
	size_t ngaps;
};

struct monitor {
	struct ev_loop *loop;
	struct probe *probe;
	struct ht_config *cfg;   /* owned */
	struct sched *sched;
	struct retired *retired[RETIRED_MAX];
	size_t nretired;
	struct target_state *states;
	struct target_key **keys;
	struct window_mark win_mark;
	uint64_t reload_compares;   /* names compared by the last reload (monitor_reload_compares) */
	double ids_tried_at;     /* ev_now of the last look for missing ids; 0: look now */
	uint64_t *live;          /* results this process received, per target */
	size_t n;
	struct store *store;     /* reads only: history, windows; the writer thread writes (SQLite) */
	struct store_async *pga; /* PostgreSQL: the loop's reads, asynchronous (monitor_store.c) */
	bool ids_in_flight;      /* PostgreSQL: a listing of targets is under way, for these keys: */
	struct target_key **ids_flight_keys;
	bool pg_closed;          /* closing: no new reader */
	bool pg_reread;          /* PostgreSQL: the schema was not there: read history once written */
	struct store_writer *writer;
	uint64_t confirmed;      /* results the writer has written or dropped, as last seen */
	uint64_t writer_dropped; /* of those, dropped: already told */
	char db_path[1024];
	char storage_error[512];
	int64_t storage_since_ms;  /* the writer's failing since, as its last event said (0: none) */
	struct pending *pending; /* a ring: head, count, cap */
	size_t phead, npending, pending_cap;
	uint64_t dropped;
	ev_timer window_timer;
	ev_timer reap_timer;
	struct store_retention retention;
	int64_t window_s;
	int64_t last_result_ms;
	struct monitor_hooks hooks;
	monitor_drop_fn on_dropped;
	void *drop_user;
	struct alerts *alerts;   /* monitor_notify.c: from the first monitor_start */
	monitor_log_fn alert_log;
	void *alert_log_user;
	struct lease_agent *lease;         /* NULL: always polls (check, tests) */
	struct shard_agent *shards;        /* non-NULL: polls only the shards it leases */
	struct quorum *quorum;             /* monitor_quorum.c: once a location is seen */
	struct viewer viewer;              /* drawing from the database while another polls */
	const char **poller_of;            /* by target: who checked it last (interned), NULL unknown */
	char **pollers;                    /* the poller names seen (few: one per poller) */
	size_t npoller_of, npollers;
	struct metrics_target *counters;   /* /metrics counters by target (monitor_metrics.c) */
	bool metrics_on;                   /* counters kept: someone serves /metrics */
	struct history *history;           /* monitor_history.c: the past, read in slices */
	/* Which stored ids are known (ensure_store): every key's after a reload, then only the
	 * targets stored since, while some key still has none. */
	struct target_key **learnt_keys;
	size_t unknown_ids;
	int64_t max_id;
	size_t ncounters;
	struct metrics_lag lag;            /* start lag of every check this process made */
};

/* monitor_store.c: between the monitor and the database */
struct target_key *key_new(const struct ht_target *t);
/* k names t as the store knows it (same name, project and URL). */
bool key_same(const struct target_key *k, const struct ht_target *t);
void key_free(struct target_key *k);
void storage_failed(struct monitor *m, const char *msg);
void storage_ok(struct monitor *m);
/* The store writer's ev_async callback: confirms pending results, tells drops and errors. */
void writer_event(void *user);
void pending_each(struct monitor *m, void (*fn)(struct monitor *m, const struct pending *p));
/* The reading connection, open, with the stored ids of the current keys learnt: all of them once
 * per config, then only targets stored since, while some key has none (100 000 targets: one
 * listing of the target table is 0.3 s, not to be paid every second). */
int ensure_store(struct monitor *m);
void queue_row(struct monitor *m, size_t idx, const struct observation *o);
void drop_results(struct monitor *m, uint64_t count, const char *why);
/* Reads target i's newest results back into its state (the screen shows the past at once). */
void load_history(struct monitor *m, size_t i);
/* The same from rows read elsewhere: collected newest first by replay_row, then applied. */
struct replay;
struct replay *replay_new(void);
void replay_row(void *rp, const struct store_read_row *row);
void replay_apply(struct monitor *m, size_t i, struct replay *rp);
size_t replay_count(const struct replay *rp);
/* The k-th newest sample collected into s, if older than before_ms. */
void replay_sample_add(const struct replay *rp, size_t k, struct target_state *s, int64_t before_ms);
void replay_clear(struct replay *rp);
/* Several locations in what was read back: target i shows their combined class at once. */
void replay_seed(struct monitor *m, size_t i, const struct replay *rp);
/* PostgreSQL: the loop's asynchronous reader (NULL on SQLite), made at the first call. */
struct store_async *pg_reader(struct monitor *m);
/* A read's failure told (the status line), unless the schema is not there yet or closing. */
void pg_read_failed(struct monitor *m, int rc, const char *err);

/* monitor_history.c: (re)reads every target's window since m->window_s ago, and with rings the
 * newest results of targets that show none, a slice of targets now and the rest a slice per
 * loop turn. */
int history_read(struct monitor *m, bool rings, struct ht_err *err);
/* Before target idx's first live result: its ring, if a read under way has not reached it yet
 * (the result must find the past in place, as notifications and anti-flap do). */
void history_ring_due(struct monitor *m, size_t idx);
void history_free(struct monitor *m);
/* A read was started for the current config (monitor_new's goes on through monitor_start). */
bool history_current(const struct monitor *m);

/* monitor_notify.c: notifications and durable mutes */
/* Starts notifications and mutes at the first call; later calls (a reload) hand what is waiting
 * to the new config's destinations. */
void alerts_start(struct monitor *m);
/* Announces o's change of displayed state, unless target idx is muted. */
void alerts_result(struct monitor *m, size_t idx, const struct ht_target *t, const struct observation *o,
		   int64_t since_ms);
/* The notifier of the current config's destinations (NULL: none yet, or out of memory). */
struct notifier *alerts_notifier(const struct monitor *m);
/* Keeps a dashboard mute (until_ms 0: unmute) in the database, through the writer thread. */
void alerts_mute_saved(struct monitor *m, const char *scope, int64_t until_ms);
void alerts_free(struct monitor *m);
/* A viewer became the poller: restore what the old poller could not deliver (and only that). */
void alerts_took_over(struct monitor *m);

/* monitor_mute.c: mute rows read from the store, copied (their texts live only during the read;
 * reason not kept) */
struct mute_rows {
	struct store_mute_row *rows;
	size_t n, cap;
	bool oom;
};
void mute_rows_add(void *user, const struct store_mute_row *r);
void mute_rows_fini(struct mute_rows *mr);

/* monitor_lease.c: the poller lease (monitor_viewer.h) */
struct lease_agent;
/* True when this monitor probes: no lease, or it holds it. */
bool lease_polling(const struct monitor *m);
/* A viewer's forced check of the target called name ("" all), queued for the poller: true. */
bool lease_forward_force(struct monitor *m, const char *name);
/* The config changed: the lease row says so at the next tick. */
void lease_publish(struct monitor *m);
/* Before the writer closes (its last tick gives the lease up), and after. */
void lease_end(struct monitor *m);
void lease_free(struct monitor *m);

/* monitor_shard.c: several pollers by shards (monitor_shard.h) */
struct shard_agent;
/* Starts the targets of the shards held on a new scheduler (start, reload). */
void shards_start(struct monitor *m);
/* Before the writer closes (its last tick gives the shards back), and after. */
void shards_end(struct monitor *m);
void shards_free(struct monitor *m);

/* Target idx's newest result was checked by poller (NULL: unknown); forgotten by a reload. */
void poller_seen(struct monitor *m, size_t idx, const char *poller);
void pollers_reset(struct monitor *m);
void pollers_fini(struct monitor *m);

/* monitor_quorum.c: the quorum across locations (monitor_quorum.h) */
struct quorum;
struct store_read_row;
/* A viewer's row from a location: steps that location's own anti-flap and sets *soft to the
 * combined class (*changed and *from as soft_state_step's). False when target idx has one
 * location so far: the caller steps *soft as ever. */
bool quorum_row(struct monitor *m, size_t idx, const struct store_read_row *row, struct soft_state *soft, int *from,
		bool *changed);
/* A location's newest result in the history read back at start (monitor_replay.c). */
struct quorum_seen {
	char loc[64];      /* "" for results without a location */
	char poller[128];
	int64_t at_ms;
	int cls;
};
#define QUORUM_SEEN_MAX 8
/* A viewer's start: target idx's locations as its history says, so it shows the combined class
 * at once instead of its newest row's location alone. The combined class, or -1 (fewer than two
 * locations, a daemon with --location, no memory, none recent enough). */
int quorum_seed(struct monitor *m, size_t idx, const struct quorum_seen *seen, size_t n);
/* A daemon with --location: its result for target idx goes to the database as its location's
 * class when that changed, and the database decides who notifies. False without a location. */
bool quorum_own_result(struct monitor *m, size_t idx, const struct ht_target *t, const struct observation *o);
/* The class a daemon with --location shows for target idx (shown: its own location's). */
int quorum_shown(const struct monitor *m, size_t idx, int shown);
/* On the writer's thread, after a good shard round: the other locations' changes, for the loop. */
void quorum_tick(struct monitor *m, struct store *s);
int quorum_enable(struct monitor *m, const char *location);
void quorum_reset(struct monitor *m);
void quorum_free(struct monitor *m);

/* monitor_viewer.c: drawing what the poller stores */
/* Starts drawing from the database; shows the poller's targets when its config (NULL: keep
 * ours) differs from ours, saying so in warning. */
void viewer_begin(struct monitor *m, const char *poller_config, char *warning, size_t size);
void viewer_stop(struct monitor *m);
/* The targets as published in the lease: JSON that config_parse reads, without headers. */
char *viewer_config_json(const struct ht_config *cfg);

/* monitor_metrics.c: counters since start for /metrics */
/* One result of target idx: its raw class, whether the displayed class changed, its latency
 * (< 0: none). A viewer counts what it draws from the database. */
void metrics_count(struct monitor *m, size_t idx, enum ht_class cls, bool changed, double latency_ms);
/* How late a scheduled check started (results without a plan, like a check's, are not counted). */
void metrics_lag(struct monitor *m, const struct probe_result *r);
/* After a reload: old target j's counters go to to[j] (SIZE_MAX: removed). */
void metrics_remap(struct monitor *m, const size_t *to, size_t old_n, size_t new_n);
void metrics_fini(struct monitor *m);

#endif

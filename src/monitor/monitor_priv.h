/* The monitor's insides, shared by its two files: monitor.c (targets, results, reload) and
 * monitor_store.c (results waiting for the database, history read back). Nothing outside src/monitor/ includes it. */
#ifndef HEALTHTOP_MONITOR_PRIV_H
#define HEALTHTOP_MONITOR_PRIV_H

#include <stdint.h>
#include "healthtop/core/observe.h"
#include "healthtop/monitor/monitor.h"
#include "healthtop/probe/probe.h"
#include "healthtop/sched/sched.h"
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

/* A config replaced by a reload, kept until the checks it started have reported. */
struct retired {
	struct monitor *m;
	struct sched *sched;
	struct ht_config *cfg;
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
	uint64_t *live;          /* results this process received, per target */
	size_t n;
	struct store *store;     /* reads only: history, windows; the writer thread writes */
	struct store_writer *writer;
	uint64_t confirmed;      /* results the writer has written or dropped, as last seen */
	uint64_t writer_dropped; /* of those, dropped: already told */
	char db_path[1024];
	char storage_error[512];
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
int ensure_store(struct monitor *m);
void queue_row(struct monitor *m, size_t idx, const struct observation *o);
void drop_results(struct monitor *m, uint64_t count, const char *why);
/* Reads target i's newest results back into its state (the screen shows the past at once). */
void load_history(struct monitor *m, size_t i);

/* monitor_notify.c: notifications and durable mutes */
/* Starts notifications and mutes at the first call; later calls (a reload) hand what is waiting
 * to the new config's destinations. */
void alerts_start(struct monitor *m);
/* When target s's displayed state began; read before a result is applied. */
int64_t alerts_since(const struct target_state *s);
/* Announces o's change of displayed state, unless target idx is muted. */
void alerts_result(struct monitor *m, size_t idx, const struct ht_target *t, const struct observation *o,
		   int64_t since_ms);
/* Keeps a dashboard mute (until_ms 0: unmute) in the database, through the writer thread. */
void alerts_mute_saved(struct monitor *m, const char *scope, int64_t until_ms);
void alerts_free(struct monitor *m);

#endif

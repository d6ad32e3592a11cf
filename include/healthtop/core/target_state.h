/* What is known of each target right now (pure): the last result, recent samples for the
 * sparkline, the last state changes, and the aggregate over the chosen history window. */
#ifndef HEALTHTOP_STATE_H
#define HEALTHTOP_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "healthtop/core/body.h"
#include "healthtop/core/health_class.h"
#include "healthtop/core/histogram.h"
#include "healthtop/core/soft_state.h"

#define STATE_RING 120
#define STATE_CHANGES 8

struct state_sample {
	int64_t at_ms;
	float ms;          /* < 0: no latency (nothing answered) */
	uint8_t cls;
};

/* Packed: 10 bytes, not 16 (eight per target). */
struct __attribute__((packed)) state_change {
	int64_t at_ms;
	uint8_t from;
	uint8_t to;
};

/* The latest check as observe() gives it (the input of state_set_last). */
struct state_last {
	int64_t at_ms;
	enum ht_class cls;
	long http_code;
	float total_ms, dns_ms, connect_ms, tls_ms, ttfb_ms;
	int64_t cert_expiry;
	char reason[192];
	struct body_component *comps;   /* owned, may be NULL */
	size_t ncomps;
};

/* The latest check as a target keeps it, for the detail view: the same fields, the reason in a
 * buffer of its own length (reused while the next one fits) instead of 192 bytes each. */
struct state_latest {
	int64_t at_ms;
	long http_code;
	int64_t cert_expiry;
	const char *reason;             /* "" or reason_buf */
	struct body_component *comps;   /* owned, may be NULL */
	float total_ms, dns_ms, connect_ms, tls_ms, ttfb_ms;
	enum ht_class cls;
	size_t ncomps;
};

/* The sample ring, packed: 4 bytes and 2 bits a sample instead of 16 bytes (sample_pack.h).
 * The newest sample is kept exactly. Older ones: latencies within 0.025 % (to the microsecond
 * below 2 ms); times from the gaps between checks, each within half the gap's unit of the true
 * time (to the ms for checks less than 16 s apart, within 0.5 s up to 4.5 h apart, 30 s up to
 * 11 days, 30 min beyond), never adding up: each gap is taken from the time the ring holds for
 * the sample before. Classes exactly. */
struct state_ring {
	int64_t newest_gap_ms;            /* the newest sample's time, as the gaps give it */
	int64_t newest_ms;                /* the newest sample's time, exact */
	float newest_lat;                 /* the newest sample's latency, exact */
	uint16_t gap[STATE_RING];         /* from the sample before (older) to this one */
	uint16_t lat[STATE_RING];
	uint8_t cls[(STATE_RING + 3) / 4];
};

struct target_state {
	bool checked;
	uint8_t ring_head;                /* next slot to write */
	uint8_t ring_n;
	uint8_t changes_head;
	uint8_t changes_n;
	uint8_t reason_cap;               /* bytes at last.reason's buffer (0: none) */
	uint8_t comps_cap;                /* components room at last.comps */
	struct state_latest last;
	char *reason_buf;
	struct state_ring ring;
	struct state_change changes[STATE_CHANGES];
	uint32_t win_counts[HT_CLASS_COUNT];
	uint32_t win_up;                  /* checks in the window that count towards uptime */
	struct hist_span win_hist;
	struct soft_state soft;           /* the displayed class and a change not yet confirmed */
	int64_t shown_since_ms;           /* when the displayed class began (0: unknown) */
	int64_t muted_until_ms;           /* muted while now < this; 0 when not muted */
};

void state_init(struct target_state *s);
void state_fini(struct target_state *s);

/* Adds one sample (a new result, or history read back at start). Records a state change when
 * the class differs from the previous sample's. Returns true when it did. */
bool state_add_sample(struct target_state *s, int64_t at_ms, double ms, enum ht_class cls);

/* Replaces the latest-check details (copies reason and comps into buffers kept for the next). With no displayed class yet (history read
 * back at start), last->cls becomes the displayed one: the screen shows it at once. */
int state_set_last(struct target_state *s, const struct state_last *last,
		   const struct body_component *comps, size_t ncomps);

/* The i-th most recent sample (0 = newest) into *out; false past the end. */
bool state_sample_get(const struct target_state *s, unsigned i, struct state_sample *out);
const struct state_change *state_change_at(const struct target_state *s, unsigned i);

void state_window_reset(struct target_state *s);
/* Adds count checks of class cls (none when cls is out of range) with latency bucket (none when
 * < 0): rollups give the two apart. cls STATE_WINDOW_UP says that count of the checks already
 * added were up (the store's STORE_WINDOW_UP). */
#define STATE_WINDOW_UP ((enum ht_class)HT_CLASS_COUNT)
void state_window_add(struct target_state *s, enum ht_class cls, int bucket, uint32_t count);
/* Takes back what state_window_add added (checks that left the window); false when the window
 * held fewer, which is left at 0. */
bool state_window_sub(struct target_state *s, enum ht_class cls, int bucket, uint32_t count);
/* One new check: its class, latency bucket (-1: none) and whether it was up. */
void state_window_add_check(struct target_state *s, enum ht_class cls, int bucket, bool up);
/* Share of checks in the window that were up (classify_is_up: answered in time with an
 * accepted status, not down), in percent; -1 with no checks. */
double state_uptime(const struct target_state *s);
/* Records the displayed state after a result at at_ms: shown_since_ms moves when the displayed
 * class changes (or was never set). */
void state_show(struct target_state *s, const struct soft_state *next, int64_t at_ms);
/* A change of the displayed class is under way but not confirmed (soft_state_pending). */
bool state_change_pending(const struct target_state *s, const struct soft_rules *r);
double state_p95(const struct target_state *s);

#endif

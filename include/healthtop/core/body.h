/* Health-body formats: plain status, IETF health+json, Spring Boot actuator, HiveSync-style
 * component keys and workers[] heartbeats (pure). */
#ifndef HEALTHTOP_BODY_H
#define HEALTHTOP_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "healthtop/core/health_class.h"

#define BODY_MAX_COMPONENTS 32
#define BODY_MAX_DEPTH 16

struct body_component {
	char name[64];      /* sanitized */
	char state[32];     /* sanitized word as the body said it, or "stale" */
	enum ht_class cls;
};

struct body_report {
	bool parsed;            /* the body was a JSON object */
	bool has_status;        /* it had a recognised top-level status word */
	enum ht_class cls;      /* worst class the body rules give */
	char reason[160];       /* why, when cls is not healthy */
	struct body_component comps[BODY_MAX_COMPONENTS];
	size_t ncomps;          /* kept */
	size_t ncomps_seen;     /* found (may exceed what is kept) */
};

enum body_word { BODY_WORD_NONE = -1, BODY_WORD_OK = HT_HEALTHY,
		 BODY_WORD_DEGRADED = HT_DEGRADED, BODY_WORD_DOWN = HT_DOWN };

/* Which class a status word stands for, any case; BODY_WORD_NONE if it is not one. */
enum body_word body_status_word(const char *word);

void body_assess(const char *body, size_t len, int heartbeat_stale_s, int64_t now_s,
		 struct body_report *out);

/* A body cut at the size we keep cannot be parsed: its top-level "status" is read from the part
 * that was kept when it is there whole (`{"status":"fail", ...` is down); otherwise the body is
 * degraded, "body too large to judge": never healthy by default. */
void body_assess_cut(const char *body, size_t len, struct body_report *out);

#endif

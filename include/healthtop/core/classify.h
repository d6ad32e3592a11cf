/* (observation, rules) → healthy / degraded / down and a short reason (pure). */
#ifndef HEALTHTOP_CLASSIFY_H
#define HEALTHTOP_CLASSIFY_H

#include <stdbool.h>
#include <stdint.h>
#include "healthtop/core/body.h"
#include "healthtop/core/health_class.h"
#include "healthtop/core/config.h"
#include "healthtop/core/probe_result.h"

struct ht_verdict {
	enum ht_class cls;
	char reason[192];
	struct body_report body;
};

/* Worst rule wins; the reason lists the worst findings first. timeout_ms is the probe's own
 * timeout, quoted in a timeout's reason; now_s is the wall clock used for heartbeat and
 * certificate ages. Callers go through observe(): it is the one place results are judged. */
void classify_result(const struct probe_result *r, const struct ht_rules *rules, int timeout_ms,
		     int64_t now_s, struct ht_verdict *v);

/* Whether the check counts towards uptime: the target answered within its timeout with a status
 * it accepts. Timeouts, 5xx and 429 are downtime whatever their class, and so is a check whose
 * class is down (its body said so, say): uptime never counts a down check as up. */
bool classify_is_up(const struct probe_result *r, const struct ht_rules *rules, enum ht_class cls);

#endif

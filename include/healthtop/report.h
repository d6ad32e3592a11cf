/* Printing one sweep's outcome: a table for people, JSON for programs. */
#ifndef HEALTHTOP_REPORT_H
#define HEALTHTOP_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "healthtop/classify.h"
#include "healthtop/config.h"
#include "healthtop/result.h"

struct report_item {
	const struct ht_target *target;
	struct probe_result result;   /* body not kept */
	struct ht_verdict verdict;
	bool done;
};

void report_table(FILE *out, const struct report_item *items, size_t n, double elapsed_s, bool color);
int report_json(FILE *out, const struct report_item *items, size_t n);

/* 0 all healthy, 1 worst is degraded, 2 some down (Nagios' OK/WARNING/CRITICAL). */
int report_exit_code(const struct report_item *items, size_t n);

/* ISO 8601 UTC ("2026-11-23T10:00:00Z", or with milliseconds when ms is true). */
void report_iso8601(int64_t unix_ms, bool ms, char *buf, size_t size);

#endif

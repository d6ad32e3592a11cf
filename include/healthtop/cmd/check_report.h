/* Printing one sweep's outcome: a table for people, JSON for programs. */
#ifndef HEALTHTOP_REPORT_H
#define HEALTHTOP_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "healthtop/core/classify.h"
#include "healthtop/core/config.h"
#include "healthtop/core/probe_result.h"

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

#endif

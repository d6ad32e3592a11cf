/* Printing one sweep's outcome: a table for people, JSON for programs. The report keeps of each
 * result only what it prints and stores (about 80 bytes and its texts, not the whole probe
 * result and verdict), so a sweep of 100 000 targets holds a few MiB. */
#ifndef HEALTHTOP_REPORT_H
#define HEALTHTOP_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "healthtop/core/config.h"
#include "healthtop/core/observe.h"
#include "healthtop/core/store_row.h"

/* One target's result. Absent numbers as in the store row: http_code 0, phases < 0. */
struct report_item {
	int64_t checked_at_ms;
	int64_t cert_expiry;
	double total_ms, dns_ms, connect_ms, tls_ms, ttfb_ms;
	uint32_t reason;   /* offsets of NUL-terminated texts in the report's text */
	uint32_t error;
	int32_t http_code;
	uint8_t cls;
	bool up;
};

struct check_report {
	const struct ht_config *cfg;   /* item i is cfg->targets[i]'s */
	struct report_item *items;
	size_t n;
	char *text;                    /* every item's reason and error, each once in a row */
	size_t text_len, text_cap;
	uint32_t last;                 /* the text added last: a repeat is not stored again */
};

int report_init(struct check_report *rep, const struct ht_config *cfg);
void report_fini(struct check_report *rep);
/* Keeps what target i's observation says; -1 when out of memory. */
int report_set(struct check_report *rep, size_t i, const struct observation *o);
const char *report_reason(const struct check_report *rep, size_t i);
/* The row observe() made for target i (target_id 0): byte for byte what it stored. */
void report_row(const struct check_report *rep, size_t i, struct store_row *row);

void report_table(FILE *out, const struct check_report *rep, double elapsed_s, bool color);
int report_json(FILE *out, const struct check_report *rep);

/* 0 all healthy, 1 worst is degraded, 2 some down (Nagios' OK/WARNING/CRITICAL). */
int report_exit_code(const struct check_report *rep);

#endif

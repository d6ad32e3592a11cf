/* CSV (RFC 4180, safe for spreadsheets) and JSONL writers over stored results. Cell and line
 * formatting is pure; the writers only append to a FILE. */
#ifndef HEALTHTOP_EXPORT_H
#define HEALTHTOP_EXPORT_H

#include <stdio.h>
#include <stdint.h>
#include "healthtop/core/health_class.h"

struct export_row {
	int64_t checked_at_ms;
	const char *project;
	const char *name;
	const char *url;
	enum ht_class cls;
	long http_code;          /* 0: absent */
	double response_ms;      /* < 0: absent */
	double dns_ms, connect_ms, tls_ms, ttfb_ms;
	const char *reason;
};

enum export_format { EXPORT_CSV, EXPORT_JSONL };

/* One rollup row: an hour or a UTC day of one target. */
struct export_rollup {
	int64_t period_start_ms;
	const char *project;
	const char *name;
	const char *url;
	uint32_t counts[HT_CLASS_COUNT];
	double min_ms, avg_ms, max_ms;            /* < 0: no latency in the period */
	double p50_ms, p95_ms, p99_ms;            /* from the histogram: within 4.9 % */
};

/* One CSV cell: control characters replaced, a leading = + - @ TAB or CR prefixed with ',
 * quoted when it holds a comma, quote or space at either end. Returns bytes written. */
size_t export_csv_cell(const char *in, char *out, size_t size);

void export_header(FILE *f, enum export_format fmt);
/* Returns -1 when the write failed (disk full, closed pipe). */
int export_row(FILE *f, enum export_format fmt, const struct export_row *r);

void export_rollup_header(FILE *f, enum export_format fmt);
int export_rollup_row(FILE *f, enum export_format fmt, const struct export_rollup *r);

#endif

/* CSV (RFC 4180, safe for spreadsheets) and JSONL writers over stored results: the store hands
 * rows over as they are kept, this room turns them into columns (and rollups' histograms into
 * percentiles). Cell and line formatting is pure; the writers only append to a FILE. */
#ifndef HEALTHTOP_EXPORT_H
#define HEALTHTOP_EXPORT_H

#include <stdio.h>
#include <stdint.h>
#include "healthtop/store/store.h"

enum export_format { EXPORT_CSV, EXPORT_JSONL };

/* One CSV cell: control characters replaced, a leading = + - @ TAB or CR prefixed with ',
 * quoted when it holds a comma, quote or space at either end. Returns bytes written. */
size_t export_csv_cell(const char *in, char *out, size_t size);

void export_header(FILE *f, enum export_format fmt);
/* Returns -1 when the write failed (disk full, closed pipe). */
int export_row(FILE *f, enum export_format fmt, const struct store_result *r);

void export_rollup_header(FILE *f, enum export_format fmt);
/* Uptime, avg and p50/p95/p99 (from the histogram, within 4.9 % and never outside the period's
 * [min, max]) are computed here. */
int export_rollup_row(FILE *f, enum export_format fmt, const struct store_rollup *r);

#endif

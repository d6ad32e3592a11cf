#include "autoconfig.h"
#include <math.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include "healthtop/core/clock.h"
#include "healthtop/export/export_format.h"
#include "healthtop/core/history_stats.h"
#include "healthtop/core/sanitize.h"

#define CELL_MAX 1024

static const char *const columns[] = {
	"checked_at", "project", "name", "url", "status", "http_code", "response_ms", "dns_ms",
	"connect_ms", "tls_ms", "ttfb_ms", "reason",
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

size_t export_csv_cell(const char *in, char *out, size_t size)
{
	char clean[CELL_MAX];
	size_t n = strlen(in), o = 0;
	/* OWASP: a spreadsheet would run these as formulas. */
	bool formula = n > 0 && strchr("=+-@\t\r", in[0]);
	bool quote;

	/* Leading TAB/CR must be seen before sanitizing turns them into spaces. */
	sanitize_text(in, n, clean, sizeof(clean), false);
	quote = formula || strpbrk(clean, ",\"") || (clean[0] == ' ') ||
		(clean[0] && clean[strlen(clean) - 1] == ' ');
	if (size < 4)
		return 0;
	if (quote)
		out[o++] = '"';
	if (formula)
		out[o++] = '\'';
	for (const char *p = clean; *p && o + 3 < size; p++) {
		if (*p == '"')
			out[o++] = '"';
		out[o++] = *p;
	}
	if (quote)
		out[o++] = '"';
	out[o] = '\0';
	return o;
}

/* A line assembled in memory, written with one fwrite. */
struct line {
	char buf[8192];
	size_t n;
};

static void put(struct line *l, const char *s, size_t n)
{
	if (l->n + n >= sizeof(l->buf))
		n = sizeof(l->buf) - 1 - l->n;
	memcpy(l->buf + l->n, s, n);
	l->n += n;
}

static void put_char(struct line *l, char c)
{
	put(l, &c, 1);
}

static void put_uint(struct line *l, uint64_t v)
{
	char d[24];
	int i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(l, d + i, sizeof(d) - (size_t)i);
}

/* A latency worth writing: absent values are negative, and anything not finite or beyond 1e12 ms
 * (31 years) cannot be a measurement. CSV and JSONL share this, so both call the same value
 * absent: an empty cell in one, null in the other, never "inf", "nan" or 300 digits. */
static bool ms_known(double v)
{
	return isfinite(v) && v >= 0 && v <= 1e12;
}

/* "%.3f" without printf's float machinery; nothing for an absent value. */
static void put_ms(struct line *l, double v)
{
	if (!ms_known(v))
		return;
	uint64_t t = (uint64_t)llround(v * 1000.0);
	char frac[3] = { (char)('0' + t / 100 % 10), (char)('0' + t / 10 % 10), (char)('0' + t % 10) };
	put_uint(l, t / 1000);
	put_char(l, '.');
	put(l, frac, 3);
}

static void number_cell(double v, char *buf, size_t size)
{
	struct line l = { .n = 0 };

	put_ms(&l, v);
	snprintf(buf, size, "%.*s", (int)l.n, l.buf);
}

static void put_2(struct line *l, unsigned v)
{
	char d[2] = { (char)('0' + v / 10 % 10), (char)('0' + v % 10) };
	put(l, d, 2);
}

/* ISO 8601 UTC with milliseconds, by arithmetic (Howard Hinnant's civil_from_days). */
static void put_time(struct line *l, int64_t ms)
{
	if (ms < 0)
		ms = 0;   /* a damaged database: print the epoch, not garbage */
	int64_t secs = ms / 1000, days = secs / 86400, rem = secs % 86400;
	int64_t z = days + 719468, era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = (int64_t)yoe + era * 400 + (m <= 2);

	put_uint(l, (uint64_t)y);
	put_char(l, '-');
	put_2(l, m);
	put_char(l, '-');
	put_2(l, d);
	put_char(l, 'T');
	put_2(l, (unsigned)(rem / 3600));
	put_char(l, ':');
	put_2(l, (unsigned)(rem / 60 % 60));
	put_char(l, ':');
	put_2(l, (unsigned)(rem % 60));
	put_char(l, '.');
	put_char(l, (char)('0' + ms % 1000 / 100));
	put_2(l, (unsigned)(ms % 100));
	put_char(l, 'Z');
}

static void put_cell(struct line *l, const char *text)
{
	char cell[CELL_MAX * 2 + 4];

	put(l, cell, export_csv_cell(text, cell, sizeof(cell)));
}

void export_header(FILE *f, enum export_format fmt)
{
	if (fmt != EXPORT_CSV)
		return;
	for (size_t i = 0; i < NCOLUMNS; i++)
		fprintf(f, "%s%s", i ? "," : "", columns[i]);
	fputs("\r\n", f);
}

/* A JSON string: sanitized text with quotes and backslashes escaped. */
static void json_string(FILE *f, const char *s)
{
	char clean[CELL_MAX];

	sanitize_text(s, strlen(s), clean, sizeof(clean), false);
	fputc('"', f);
	for (const char *p = clean; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	fputc('"', f);
}

static void json_number(FILE *f, double v)
{
	if (!ms_known(v))
		fputs("null", f);
	else
		fprintf(f, "%.3f", v);
}

static int write_jsonl(FILE *f, const struct store_result *r, const char *when)
{
	const char *keys[] = { "project", "name", "url" };
	const char *vals[] = { r->project, r->name, r->url };
	const double nums[] = { r->response_ms, r->dns_ms, r->connect_ms, r->tls_ms, r->ttfb_ms };

	fprintf(f, "{\"checked_at\":\"%s\"", when);
	for (size_t i = 0; i < 3; i++) {
		fprintf(f, ",\"%s\":", keys[i]);
		json_string(f, vals[i]);
	}
	fprintf(f, ",\"status\":\"%s\",\"http_code\":", ht_class_name(r->cls));
	if (r->http_code > 0)
		fprintf(f, "%ld", r->http_code);
	else
		fputs("null", f);
	for (size_t i = 0; i < 5; i++) {
		fprintf(f, ",\"%s\":", columns[6 + i]);
		json_number(f, nums[i]);
	}
	fputs(",\"reason\":", f);
	json_string(f, r->reason);
	if (r->poller) {   /* several pollers (PostgreSQL): which one checked it; CSV keeps its columns */
		fputs(",\"poller\":", f);
		json_string(f, r->poller);
	}
	if (r->location) {
		fputs(",\"location\":", f);
		json_string(f, r->location);
	}
	return fputs("}\n", f) < 0 ? -1 : 0;
}

int export_row(FILE *f, enum export_format fmt, const struct store_result *r)
{
	const double v[5] = { r->response_ms, r->dns_ms, r->connect_ms, r->tls_ms, r->ttfb_ms };
	struct line l = { .n = 0 };

	if (fmt == EXPORT_JSONL) {
		char when[40];
		clock_iso8601(r->checked_at_ms, true, when, sizeof(when));
		return write_jsonl(f, r, when);
	}
	/* Export is a hot loop: no printf in it. */
	put_time(&l, r->checked_at_ms);
	put_char(&l, ',');
	put_cell(&l, r->project);
	put_char(&l, ',');
	put_cell(&l, r->name);
	put_char(&l, ',');
	put_cell(&l, r->url);
	put_char(&l, ',');
	put(&l, ht_class_name(r->cls), strlen(ht_class_name(r->cls)));
	put_char(&l, ',');
	if (r->http_code > 0)
		put_uint(&l, (uint64_t)r->http_code);
	for (size_t i = 0; i < 5; i++) {
		put_char(&l, ',');
		put_ms(&l, v[i]);
	}
	put_char(&l, ',');
	put_cell(&l, r->reason);
	put(&l, "\r\n", 2);
	return fwrite(l.buf, 1, l.n, f) == l.n ? 0 : -1;
}

static const char *const rollup_columns[] = {
	"period_start", "project", "name", "url", "healthy", "degraded", "down", "uptime_pct",
	"min_ms", "avg_ms", "max_ms", "p50_ms", "p95_ms", "p99_ms",
};

void export_rollup_header(FILE *f, enum export_format fmt)
{
	if (fmt != EXPORT_CSV)
		return;
	for (size_t i = 0; i < sizeof(rollup_columns) / sizeof(rollup_columns[0]); i++)
		fprintf(f, "%s%s", i ? "," : "", rollup_columns[i]);
	fputs("\r\n", f);
}

int export_rollup_row(FILE *f, enum export_format fmt, const struct store_rollup *r)
{
	char when[40], cells[3][CELL_MAX * 2 + 4], nums[7][32];
	uint32_t total = r->counts[0] + r->counts[1] + r->counts[2];
	double up = total ? 100.0 * (double)r->n_up / total : -1;   /* honest uptime: see docs/config.md */
	double avg = r->n_latency ? r->sum_ms / r->n_latency : -1;
	const double v[7] = { up, r->min_ms, avg, r->max_ms,
			      stats_quantile(&r->latency, 0.50, r->min_ms, r->max_ms),
			      stats_quantile(&r->latency, 0.95, r->min_ms, r->max_ms),
			      stats_quantile(&r->latency, 0.99, r->min_ms, r->max_ms) };

	clock_iso8601(r->period_start_ms, false, when, sizeof(when));
	if (fmt == EXPORT_JSONL) {
		const char *keys[] = { "project", "name", "url" };
		const char *vals[] = { r->project, r->name, r->url };
		fprintf(f, "{\"period_start\":\"%s\"", when);
		for (size_t i = 0; i < 3; i++) {
			fprintf(f, ",\"%s\":", keys[i]);
			json_string(f, vals[i]);
		}
		fprintf(f, ",\"healthy\":%u,\"degraded\":%u,\"down\":%u", r->counts[0], r->counts[1], r->counts[2]);
		for (size_t i = 0; i < 7; i++) {
			fprintf(f, ",\"%s\":", rollup_columns[7 + i]);
			json_number(f, v[i]);
		}
		return fputs("}\n", f) < 0 ? -1 : 0;
	}
	for (size_t i = 0; i < 7; i++)
		number_cell(v[i], nums[i], sizeof(nums[i]));
	export_csv_cell(r->project, cells[0], sizeof(cells[0]));
	export_csv_cell(r->name, cells[1], sizeof(cells[1]));
	export_csv_cell(r->url, cells[2], sizeof(cells[2]));
	int n = fprintf(f, "%s,%s,%s,%s,%u,%u,%u,%s,%s,%s,%s,%s,%s,%s\r\n", when, cells[0], cells[1], cells[2],
			r->counts[0], r->counts[1], r->counts[2], nums[0], nums[1], nums[2], nums[3], nums[4],
			nums[5], nums[6]);
	return n < 0 ? -1 : 0;
}

/* Insert rate into a store: N results for T targets, one UTC day's worth of timestamps, written
 * with store_append_batch in batches of 512 (the writer thread's batch), rollups and state
 * changes included. Prints "rows seconds". With --dump FILE it also writes the same raw rows as
 * COPY text (bench/pg_insert.py's psql \copy reference) and inserts nothing.
 *   bench/pg_insert --db postgresql://... --rows 200000 --targets 1000 [--dump FILE] */
#include "autoconfig.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "healthtop/core/histogram.h"
#include "healthtop/store/store.h"

#define BATCH 512

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Row i: targets in turn, one check per target per 10 s, mostly healthy, some down. */
static void make_row(struct store_row *r, size_t i, size_t targets, const int64_t *ids, char (*urls)[64], int64_t t0)
{
	size_t t = i % targets;

	memset(r, 0, sizeof(*r));
	r->target_id = ids ? ids[t] : (int64_t)t + 1;
	r->checked_at_ms = t0 + (int64_t)(i / targets) * 10000 + (int64_t)t % 10000;
	r->cls = (i * 7919) % 97 == 0 ? HT_DOWN : HT_HEALTHY;
	r->up = r->cls == HT_HEALTHY;
	r->http_code = r->cls == HT_HEALTHY ? 200 : 503;
	r->response_ms = 5 + (double)((i * 31) % 400) / 4;
	r->dns_ms = 0.2;
	r->connect_ms = 0.5;
	r->tls_ms = -1;
	r->ttfb_ms = r->response_ms - 1;
	r->reason = r->cls == HT_HEALTHY ? "HTTP 200" : "HTTP 503";
	r->url = urls ? urls[t] : NULL;
}

static int dump(const char *path, size_t rows, size_t targets, int64_t t0)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return 1;
	for (size_t i = 0; i < rows; i++) {
		struct store_row r;
		make_row(&r, i, targets, NULL, NULL, t0);
		fprintf(f, "%lld\t%lld\t%d\t%ld\t%.17g\t%.17g\t%.17g\t\\N\t%.17g\t\\N\t%s\t\\N\t1\t%s\t%d\n",
			(long long)r.target_id, (long long)r.checked_at_ms, (int)r.cls, r.http_code, r.response_ms,
			r.dns_ms, r.connect_ms, r.ttfb_ms, r.reason, r.up ? "t" : "f", hist_bucket(r.response_ms));
	}
	return fclose(f) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *db = NULL, *dump_to = NULL;
	size_t rows = 100000, targets = 1000;
	struct ht_err err = { "" };
	struct store *s;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--db"))
			db = argv[i + 1];
		else if (!strcmp(argv[i], "--rows"))
			rows = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--targets"))
			targets = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--dump"))
			dump_to = argv[i + 1];
	}
	int64_t t0 = (int64_t)time(NULL) / 86400 * 86400000;   /* today, UTC: one partition */
	if (dump_to)
		return dump(dump_to, rows, targets, t0);
	if (!db || !targets || store_open(db, &s, &err) < 0) {
		fprintf(stderr, "pg_insert: %s\n", db ? err.msg : "--db needed");
		return 1;
	}
	int64_t *ids = malloc(targets * sizeof(*ids));
	struct store_row *batch = malloc(BATCH * sizeof(*batch));
	char (*urls)[64] = malloc(targets * sizeof(*urls));
	for (size_t t = 0; ids && urls && t < targets; t++) {
		char name[32];
		snprintf(name, sizeof(name), "bench-%zu", t);
		snprintf(urls[t], sizeof(urls[t]), "http://127.0.0.1:8080/t/%zu", t);
		if (store_target_id(s, name, "bench", urls[t], &ids[t], &err) < 0) {
			fprintf(stderr, "pg_insert: %s\n", err.msg);
			return 1;
		}
	}
	double start = now_s();
	for (size_t i = 0; ids && urls && batch && i < rows; i += BATCH) {
		size_t n = rows - i < BATCH ? rows - i : BATCH;
		for (size_t k = 0; k < n; k++)
			make_row(&batch[k], i + k, targets, ids, urls, t0);
		if (store_append_batch(s, batch, n, &err) < 0) {
			fprintf(stderr, "pg_insert: %s\n", err.msg);
			return 1;
		}
	}
	printf("%zu %.3f\n", rows, now_s() - start);
	free(ids);
	free(urls);
	free(batch);
	store_close(s);
	return 0;
}

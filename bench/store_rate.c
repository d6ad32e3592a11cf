/* bench/store_rate: results per second through healthtop's real write path (issue 12, goal 5).
 * Built only by `make bench`; bench/store_rate.py runs it next to the sqlite3 CLI.
 *
 *   store_rate DB [--rows N] [--targets T] [--direct] [--csv FILE]
 *
 * A daemon's stream of results: T targets checked in turn (one sweep every 60 s of simulated
 * time), mostly healthy answers with some slow and some refused ones. One sweep is written
 * first and not timed (each target's row and its first rollups exist then, as in steady state);
 * then N results are timed. Default: through the writer thread (store_writer_push, batches as
 * the daemon's); --direct: store_append_batch in batches of 512 from this thread. --csv writes
 * the timed rows as the result table's columns, for the reference. Prints one JSON line. */
#include "autoconfig.h"
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "healthtop/core/clock.h"
#include "healthtop/store/store.h"
#include "healthtop/store/store_writer.h"

#define BATCH 512
#define CHUNK 20000   /* results pushed before looking at the queue again */

struct opts {
	const char *db, *csv;
	long rows, targets;
	int direct;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Result k of the stream: target k % T, at sweep k / T. Deterministic (no rand state). */
static void make_row(long k, long targets, int64_t t0_ms, struct store_row *r)
{
	long i = k % targets, sweep = k / targets;
	unsigned h = (unsigned)(k * 2654435761u);
	double ms = 0.1 + (h % 1000) / 500.0;

	memset(r, 0, sizeof(*r));
	r->target_id = i + 1;
	r->checked_at_ms = t0_ms + sweep * 60000 + i * 60000 / targets;
	r->cls = HT_HEALTHY;
	r->up = true;
	r->http_code = 200;
	r->response_ms = ms;
	r->dns_ms = 0.01;
	r->connect_ms = ms / 3;
	r->tls_ms = -1;
	r->ttfb_ms = ms / 2;
	r->reason = "HTTP 200";
	if (h % 1000 < 20) {   /* 2 %: slow */
		r->cls = HT_DEGRADED;
		r->response_ms = 1200 + h % 400;
		r->reason = "slow: 1.2 s (degraded_ms 1000)";
	} else if (h % 1000 < 25) {   /* 0.5 %: refused */
		r->cls = HT_DOWN;
		r->up = false;
		r->http_code = 0;
		r->response_ms = r->ttfb_ms = -1;
		r->reason = "connection refused";
		r->error = "Failed to connect to 127.0.0.1 port 9: Connection refused";
	}
}

static void csv_num(FILE *f, double v, int last)
{
	if (v >= 0)
		fprintf(f, "%.3f", v);
	fputc(last ? '\n' : ',', f);
}

static int write_csv(const struct opts *o, int64_t t0_ms)
{
	FILE *f = fopen(o->csv, "w");
	struct store_row r;

	if (!f)
		return -1;
	fputs("target_id,checked_at,status,http_code,response_ms,dns_ms,connect_ms,tls_ms,ttfb_ms,"
	      "cert_expiry,reason,error,url_id,up\n", f);
	for (long k = o->targets; k < o->targets + o->rows; k++) {
		make_row(k, o->targets, t0_ms, &r);
		fprintf(f, "%lld,%lld,%d,", (long long)r.target_id, (long long)r.checked_at_ms, (int)r.cls);
		if (r.http_code)
			fprintf(f, "%ld", r.http_code);
		fputc(',', f);
		csv_num(f, r.response_ms, 0);
		csv_num(f, r.dns_ms, 0);
		csv_num(f, r.connect_ms, 0);
		csv_num(f, r.tls_ms, 0);
		csv_num(f, r.ttfb_ms, 0);
		fprintf(f, ",\"%s\",%s%s%s,%lld,%d\n", r.reason, r.error ? "\"" : "", r.error ? r.error : "",
			r.error ? "\"" : "", (long long)r.target_id, r.up);
	}
	return fclose(f) == 0 ? 0 : -1;
}

static const char *name_of(long i, char *buf, size_t size)
{
	snprintf(buf, size, "svc-%06ld", i);
	return buf;
}

static const char *url_of(long i, char *buf, size_t size)
{
	snprintf(buf, size, "http://127.0.0.1:8080/health?i=%ld", i);
	return buf;
}

/* Waits until the writer has committed `want` results in all. */
static int writer_wait(struct store_writer *w, uint64_t want, size_t below)
{
	struct store_writer_status st;

	for (;;) {
		store_writer_status(w, &st);
		if (st.dropped || st.errors) {
			fprintf(stderr, "store_rate: %llu dropped, %llu errors: %s\n", (unsigned long long)st.dropped,
				(unsigned long long)st.errors, st.last_error);
			return -1;
		}
		if (st.written >= want && st.pending <= below)
			return 0;
		usleep(500);
	}
}

static int push_range(struct store_writer *w, const struct opts *o, long from, long to, int64_t t0_ms)
{
	char name[32], url[64];
	struct store_row r;

	for (long k = from; k < to; k++) {
		long i = k % o->targets;
		struct store_writer_target t = { name_of(i, name, sizeof(name)), "team", url_of(i, url, sizeof(url)) };
		make_row(k, o->targets, t0_ms, &r);
		r.url = url;   /* the URL checked, as the daemon's rows carry it */
		if (store_writer_push(w, &t, &r) < 0)
			return -1;
		/* keep the queue under its bound (a daemon never has 100 000 waiting in steady state) */
		if ((k - from) % CHUNK == CHUNK - 1 && writer_wait(w, 0, STORE_WRITER_MAX_PENDING / 2) < 0)
			return -1;
	}
	return 0;
}

static double run_writer(const struct opts *o, int64_t t0_ms)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct store_retention ret = { 14, 400, 0 };
	struct ht_err err = { "" };
	struct store_writer *w = store_writer_new(loop, o->db, 0, &ret, NULL, NULL, &err);
	double t;

	if (!w) {
		fprintf(stderr, "store_rate: %s\n", err.msg);
		return -1;
	}
	if (push_range(w, o, 0, o->targets, t0_ms) < 0 || writer_wait(w, (uint64_t)o->targets, 0) < 0)
		return -1;
	t = now_s();
	if (push_range(w, o, o->targets, o->targets + o->rows, t0_ms) < 0 ||
	    writer_wait(w, (uint64_t)(o->targets + o->rows), 0) < 0)
		return -1;
	t = now_s() - t;
	if (store_writer_close(w, 10) != 0)
		return -1;
	ev_loop_destroy(loop);
	return t;
}

static int append_range(struct store *s, const struct opts *o, long from, long to, int64_t t0_ms)
{
	static struct store_row rows[BATCH];
	static char urls[BATCH][64];
	struct ht_err err = { "" };
	size_t n = 0;

	for (long k = from; k < to; k++) {
		make_row(k, o->targets, t0_ms, &rows[n]);
		rows[n].url = url_of(k % o->targets, urls[n], sizeof(urls[n]));   /* as the daemon's rows */
		n++;
		if ((n == BATCH || k == to - 1) && store_append_batch(s, rows, n, &err) < 0) {
			fprintf(stderr, "store_rate: %s\n", err.msg);
			return -1;
		}
		if (n == BATCH)
			n = 0;
	}
	return 0;
}

static double run_direct(const struct opts *o, int64_t t0_ms)
{
	struct ht_err err = { "" };
	struct store *s;
	char name[32], url[64];
	int64_t id;
	double t;

	if (store_open(o->db, &s, &err) < 0) {
		fprintf(stderr, "store_rate: %s\n", err.msg);
		return -1;
	}
	for (long i = 0; i < o->targets; i++)
		if (store_target_id(s, name_of(i, name, sizeof(name)), "team", url_of(i, url, sizeof(url)), &id, &err) < 0)
			return -1;
	if (append_range(s, o, 0, o->targets, t0_ms) < 0)
		return -1;
	t = now_s();
	if (append_range(s, o, o->targets, o->targets + o->rows, t0_ms) < 0)
		return -1;
	t = now_s() - t;
	store_close(s);
	return t;
}

static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ NULL, NULL, 1000000, 100000, 0 };
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rows") && i + 1 < argc)
			o->rows = atol(argv[++i]);
		else if (!strcmp(argv[i], "--targets") && i + 1 < argc)
			o->targets = atol(argv[++i]);
		else if (!strcmp(argv[i], "--csv") && i + 1 < argc)
			o->csv = argv[++i];
		else if (!strcmp(argv[i], "--direct"))
			o->direct = 1;
		else if (argv[i][0] != '-' && !o->db)
			o->db = argv[i];
		else
			return -1;
	}
	return o->db && o->rows > 0 && o->targets > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct opts o;

	if (parse(argc, argv, &o) < 0) {
		fputs("usage: store_rate DB [--rows N] [--targets T] [--direct] [--csv FILE]\n", stderr);
		return 2;
	}
	/* the stream ends now: every row is inside any retention */
	int64_t t0_ms = clock_wall_ms() - (o.rows / o.targets + 2) * 60000;
	if (o.csv && write_csv(&o, t0_ms) < 0) {
		perror(o.csv);
		return 1;
	}
	double t = o.direct ? run_direct(&o, t0_ms) : run_writer(&o, t0_ms);
	if (t < 0)
		return 1;
	printf("{\"path\": \"%s\", \"rows\": %ld, \"targets\": %ld, \"seconds\": %.3f, \"rate\": %.0f}\n",
	       o.direct ? "store_append_batch" : "store_writer", o.rows, o.targets, t, o.rows / t);
	return 0;
}

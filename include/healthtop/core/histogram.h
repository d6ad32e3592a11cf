/* Log-bucket latency histogram (pure): small enough to keep per target and per rollup row,
 * exact enough for p50/p95/p99 (every quantile within 4.9 % of the true value, for latencies
 * from 0.1 ms to 10 minutes). */
#ifndef HEALTHTOP_HIST_H
#define HEALTHTOP_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bucket 0 holds < 0.1 ms; bucket b >= 1 holds [0.1 * 1.1^(b-1), 0.1 * 1.1^b); the last one
 * also everything above. */
#define HIST_BUCKETS 166
#define HIST_RATIO 1.1
#define HIST_BASE_MS 0.1

struct hist {
	uint32_t counts[HIST_BUCKETS];
	uint32_t total;
};

int hist_bucket(double ms);
/* The value reported for a bucket: the geometric middle of its bounds. */
double hist_bucket_value(int bucket);

void hist_add(struct hist *h, double ms);
void hist_add_bucket(struct hist *h, int bucket, uint32_t count);
void hist_merge(struct hist *into, const struct hist *from);
/* Sparse encoding for rollup rows: 5 bytes ([bucket u8][count u32 little-endian]) per non-empty
 * bucket. Returns the bytes written, or 0 when size is too small (HIST_BLOB_MAX always fits). */
#define HIST_BLOB_MAX (HIST_BUCKETS * 5)
size_t hist_encode(const struct hist *h, unsigned char *out, size_t size);
/* Adds a blob's counts to h; -1 (h unchanged) when the blob is malformed. */
int hist_decode_add(struct hist *h, const unsigned char *blob, size_t len);

/* q in [0, 1]; returns -1 when the histogram is empty. */
double hist_quantile(const struct hist *h, double q);

/* The same histogram holding only the run of buckets between the lowest and the highest it has
 * seen (a target's latencies fill a few dozen of the 166): about 16 bytes and 4 per bucket in
 * that run instead of 668. Quantiles are those of struct hist, exactly. */
struct hist_span {
	uint32_t *counts;   /* counts[i] is bucket lo + i; NULL while nothing was added */
	uint32_t total;
	uint8_t lo;
	uint8_t n;          /* buckets in the run (and in counts) */
};

/* Adds count to bucket (ignored out of range); -1 when out of memory (nothing added). */
int hist_span_add(struct hist_span *h, int bucket, uint32_t count);
/* Takes count back from bucket (what left a window); false when the bucket held fewer (it is
 * left at 0: the counts had drifted from what the store holds). */
bool hist_span_sub(struct hist_span *h, int bucket, uint32_t count);
/* Empties it, keeping its room for the next counts. */
void hist_span_clear(struct hist_span *h);
void hist_span_fini(struct hist_span *h);
double hist_span_quantile(const struct hist_span *h, double q);

#endif

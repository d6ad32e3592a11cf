#include "autoconfig.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/histogram.h"

int hist_bucket(double ms)
{
	if (!(ms >= HIST_BASE_MS))   /* also NaN */
		return 0;
	double b = floor(log(ms / HIST_BASE_MS) / log(HIST_RATIO)) + 1;
	return b >= HIST_BUCKETS - 1 ? HIST_BUCKETS - 1 : (int)b;
}

double hist_bucket_value(int bucket)
{
	if (bucket <= 0)
		return HIST_BASE_MS / 2;
	return HIST_BASE_MS * pow(HIST_RATIO, bucket - 1) * sqrt(HIST_RATIO);
}

void hist_add_bucket(struct hist *h, int bucket, uint32_t count)
{
	if (bucket < 0 || bucket >= HIST_BUCKETS)
		return;
	h->counts[bucket] += count;
	h->total += count;
}

void hist_add(struct hist *h, double ms)
{
	if (ms < 0 || isnan(ms))
		return;
	hist_add_bucket(h, hist_bucket(ms), 1);
}

void hist_merge(struct hist *into, const struct hist *from)
{
	for (int b = 0; b < HIST_BUCKETS; b++)
		into->counts[b] += from->counts[b];
	into->total += from->total;
}

/* The rank of quantile q among total counts (1-based). */
static uint64_t quantile_rank(uint32_t total, double q)
{
	uint64_t rank;

	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = (uint64_t)ceil(q * total);
	return rank == 0 ? 1 : rank;
}

/* The bucket where the running sum of counts[0..n) (bucket lo + i) reaches rank. */
static double walk_to_rank(const uint32_t *counts, int lo, int n, uint64_t rank)
{
	uint64_t seen = 0;

	for (int i = 0; i < n; i++) {
		seen += counts[i];
		if (seen >= rank)
			return hist_bucket_value(lo + i);
	}
	return hist_bucket_value(HIST_BUCKETS - 1);
}

double hist_quantile(const struct hist *h, double q)
{
	if (h->total == 0)
		return -1;
	return walk_to_rank(h->counts, 0, HIST_BUCKETS, quantile_rank(h->total, q));
}

double hist_span_quantile(const struct hist_span *h, double q)
{
	if (h->total == 0)
		return -1;
	return walk_to_rank(h->counts, h->lo, h->n, quantile_rank(h->total, q));
}

/* Widens the run to take bucket b: one realloc, only when b is a new low or high. */
static int span_widen(struct hist_span *h, int b)
{
	int lo = h->n == 0 || b < h->lo ? b : h->lo;
	int hi = h->n == 0 || b >= h->lo + h->n ? b + 1 : h->lo + h->n;
	uint32_t *c = malloc((size_t)(hi - lo) * sizeof(*c));

	if (!c)
		return -1;
	memset(c, 0, (size_t)(hi - lo) * sizeof(*c));
	if (h->n)
		memcpy(c + (h->lo - lo), h->counts, h->n * sizeof(*c));
	free(h->counts);
	h->counts = c;
	h->lo = (uint8_t)lo;
	h->n = (uint8_t)(hi - lo);
	return 0;
}

int hist_span_add(struct hist_span *h, int bucket, uint32_t count)
{
	if (bucket < 0 || bucket >= HIST_BUCKETS)
		return 0;
	if ((h->n == 0 || bucket < h->lo || bucket >= h->lo + h->n) && span_widen(h, bucket) < 0)
		return -1;
	h->counts[bucket - h->lo] += count;
	h->total += count;
	return 0;
}

bool hist_span_sub(struct hist_span *h, int bucket, uint32_t count)
{
	uint32_t *c;

	if (bucket < 0 || bucket >= HIST_BUCKETS || count == 0)
		return true;
	if (h->n == 0 || bucket < h->lo || bucket >= h->lo + h->n)
		return false;
	c = &h->counts[bucket - h->lo];
	if (*c < count || h->total < count) {
		h->total -= *c < h->total ? *c : h->total;
		*c = 0;
		return false;
	}
	*c -= count;
	h->total -= count;
	return true;
}

void hist_span_clear(struct hist_span *h)
{
	if (h->n)
		memset(h->counts, 0, h->n * sizeof(*h->counts));
	h->total = 0;
}

void hist_span_fini(struct hist_span *h)
{
	free(h->counts);
	memset(h, 0, sizeof(*h));
}

size_t hist_encode(const struct hist *h, unsigned char *out, size_t size)
{
	size_t o = 0;

	for (int b = 0; b < HIST_BUCKETS; b++) {
		uint32_t c = h->counts[b];
		if (c == 0)
			continue;
		if (o + 5 > size)
			return 0;
		out[o++] = (unsigned char)b;
		for (int k = 0; k < 4; k++)
			out[o++] = (unsigned char)(c >> (8 * k));
	}
	return o;
}

int hist_decode_add(struct hist *h, const unsigned char *blob, size_t len)
{
	struct hist add;

	if (len % 5 != 0 || len > HIST_BLOB_MAX)
		return -1;
	memset(&add, 0, sizeof(add));
	for (size_t i = 0; i < len; i += 5) {
		uint32_t c = 0;
		if (blob[i] >= HIST_BUCKETS)
			return -1;
		for (int k = 0; k < 4; k++)
			c |= (uint32_t)blob[i + 1 + k] << (8 * k);
		add.counts[blob[i]] += c;
		add.total += c;
	}
	hist_merge(h, &add);
	return 0;
}

#include "autoconfig.h"
#include <math.h>
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

double hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->total == 0)
		return -1;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = (uint64_t)ceil(q * h->total);
	if (rank == 0)
		rank = 1;
	for (int b = 0; b < HIST_BUCKETS; b++) {
		seen += h->counts[b];
		if (seen >= rank)
			return hist_bucket_value(b);
	}
	return hist_bucket_value(HIST_BUCKETS - 1);
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

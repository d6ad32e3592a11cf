/* Names and projects as ranks (pure): the view sorts 100 000 targets on every change of class,
 * and a comparison of two small integers costs a fraction of a strcmp. The ranks are computed
 * once per set of items (the config), not per sort. */
#include "autoconfig.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/ui/ui_view.h"

struct by_text {
	const char *const *text;   /* text[i]: item i's name or project */
};

static int cmp_text(const void *x, const void *y, void *arg)
{
	const struct by_text *b = arg;
	return strcmp(b->text[*(const uint32_t *)x], b->text[*(const uint32_t *)y]);
}

/* rank[i]: the place of text[i] among the distinct texts, in strcmp order; the distinct texts in
 * order into *distinct (when wanted). */
static int rank_texts(const char *const *text, size_t n, uint32_t *rank, const char ***distinct, size_t *ndistinct)
{
	uint32_t *order = malloc((n ? n : 1) * sizeof(*order));
	const char **d = distinct ? malloc((n ? n : 1) * sizeof(*d)) : NULL;
	struct by_text b = { text };
	uint32_t r = 0;

	if (!order || (distinct && !d)) {
		free(order);
		free(d);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = (uint32_t)i;
	qsort_r(order, n, sizeof(*order), cmp_text, &b);
	for (size_t k = 0; k < n; k++) {
		if (k > 0 && strcmp(text[order[k]], text[order[k - 1]]) != 0)
			r++;
		rank[order[k]] = r;
		if (d && (k == 0 || r != rank[order[k - 1]]))
			d[r] = text[order[k]];
	}
	free(order);
	if (distinct) {
		*distinct = d;
		*ndistinct = n ? (size_t)r + 1 : 0;
	}
	return 0;
}

/* The items' texts as they are now: a reload may point them elsewhere. */
static uintptr_t fingerprint(const struct view_item *items, size_t n)
{
	uintptr_t sum = (uintptr_t)items ^ n;

	for (size_t i = 0; i < n; i++)
		sum = sum * 31 + ((uintptr_t)items[i].name ^ ((uintptr_t)items[i].project << 1));
	return sum;
}

void ranks_fini(struct view_ranks *r)
{
	free(r->name);
	free(r->project);
	free(r->projects);
	memset(r, 0, sizeof(*r));
}

int ranks_update(struct view_ranks *r, const struct view_item *items, size_t n)
{
	uintptr_t sum = fingerprint(items, n);
	const char **names = NULL, **projects = NULL;
	struct view_ranks next = { .n = n, .sum = sum, .valid = true };
	int rc = -1;

	if (r->valid && r->n == n && r->sum == sum)
		return 0;
	next.name = malloc((n ? n : 1) * sizeof(*next.name));
	next.project = malloc((n ? n : 1) * sizeof(*next.project));
	names = malloc((n ? n : 1) * sizeof(*names));
	projects = malloc((n ? n : 1) * sizeof(*projects));
	if (next.name && next.project && names && projects) {
		for (size_t i = 0; i < n; i++) {
			names[i] = items[i].name;
			projects[i] = items[i].project;
		}
		if (rank_texts(names, n, next.name, NULL, NULL) == 0 &&
		    rank_texts(projects, n, next.project, &next.projects, &next.nprojects) == 0)
			rc = 1;
	}
	free(names);
	free(projects);
	if (rc < 0) {
		ranks_fini(&next);
		return -1;
	}
	next.computed = r->computed + 1;
	ranks_fini(r);
	*r = next;
	return 1;
}

#define DIGIT_BITS 11
#define DIGITS (1u << DIGIT_BITS)

/* One stable pass on bits [shift, shift + DIGIT_BITS) of word w, from *src into *dst; skipped
 * (false) when every entry has the same digit there. */
static bool radix_pass(struct view_key **src, struct view_key **dst, size_t n, int w, unsigned shift, size_t *count)
{
	memset(count, 0, DIGITS * sizeof(*count));
	for (size_t i = 0; i < n; i++)
		count[((*src)[i].word[w] >> shift) & (DIGITS - 1)]++;
	for (size_t d = 0; d < DIGITS; d++)
		if (count[d] == n)
			return false;
	for (size_t d = 0, sum = 0; d < DIGITS; d++) {
		size_t c = count[d];
		count[d] = sum;
		sum += c;
	}
	for (size_t i = 0; i < n; i++)
		(*dst)[count[((*src)[i].word[w] >> shift) & (DIGITS - 1)]++] = (*src)[i];
	struct view_key *t = *src;
	*src = *dst;
	*dst = t;
	return true;
}

unsigned view_keys_sort(struct view_key *keys, struct view_key *tmp, size_t n)
{
	size_t count[DIGITS];
	struct view_key *src = keys, *dst = tmp;
	uint64_t differ[VIEW_KEY_WORDS] = { 0 };
	unsigned passes = 0;

	/* One look at every key first: the bits some keys differ in. A digit where none do costs
	 * nothing (a status sort of 100 000 targets varies in 5 of its 24 digits). */
	for (size_t i = 1; i < n; i++)
		for (int w = 0; w < VIEW_KEY_WORDS; w++)
			differ[w] |= keys[i].word[w] ^ keys[0].word[w];
	for (int w = VIEW_KEY_WORDS - 1; w >= 0 && n > 1; w--)   /* least significant word first */
		for (unsigned shift = 0; shift < 64; shift += DIGIT_BITS)
			if ((differ[w] >> shift) & (DIGITS - 1))
				passes += radix_pass(&src, &dst, n, w, shift, count);
	if (src != keys)
		memcpy(keys, src, n * sizeof(*keys));
	return passes;
}

/* Which keys an object of the config may hold: an unknown key or one given twice is an error,
 * with a "did you mean" for a near miss (a few typos, or the key without its unit suffix). */
#include "autoconfig.h"
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "healthtop/core/sanitize.h"
#include "config_priv.h"

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			size_t best = diag + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Near misses: a few typos, or the key without its unit suffix ("timeout" for "timeout_ms"). */
static size_t key_distance(const char *given, const char *known)
{
	size_t lg = strlen(given), lk = strlen(known);
	size_t shorter = lg < lk ? lg : lk;

	if (lg != lk && shorter >= 4 && strncasecmp(given, known, shorter) == 0)
		return 1;
	return edit_distance(given, known);
}

static bool key_allowed(const char *key, const char *const *allowed)
{
	for (size_t i = 0; allowed[i]; i++)
		if (strcmp(key, allowed[i]) == 0)
			return true;
	return false;
}

/* Only for a key that is not allowed: the edit distances are worth it for a message, not for
 * each of a large fleet's keys (they were a tenth of a 10 000-target check's time). */
static int unknown_key(struct pctx *c, const char *key, const char *sub, const char *const *allowed)
{
	const char *best = NULL;
	size_t best_d = 3;
	char shown[80];

	for (size_t i = 0; allowed[i]; i++) {
		size_t d = key_distance(key, allowed[i]);
		if (d < best_d) {
			best_d = d;
			best = allowed[i];
		}
	}
	sanitize_text(key, strlen(key), shown, sizeof(shown), false);
	if (best)
		return config_fail(c, sub, "unknown key \"%s\" (did you mean \"%s\"?)", shown, best);
	return config_fail(c, sub, "unknown key \"%s\"", shown);
}

int config_check_keys(struct pctx *c, const cJSON *obj, const char *path, const char *const *allowed)
{
	char sub[256];

	for (const cJSON *it = obj->child; it; it = it->next) {
		bool twice = false, known = key_allowed(it->string, allowed);

		for (const cJSON *prev = obj->child; prev != it && !twice; prev = prev->next)
			twice = strcmp(prev->string, it->string) == 0;
		if (known && !twice)
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", it->string);
		if (twice)
			return config_fail(c, sub, "key appears twice");
		return unknown_key(c, it->string, sub, allowed);
	}
	return 0;
}

/* The quorum across locations (quorum.h). */
#include "autoconfig.h"
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "healthtop/core/quorum.h"

static bool counts(const struct quorum_vote *v, int64_t max_age_ms)
{
	return v->cls >= HT_HEALTHY && v->cls <= HT_DOWN && v->age_ms <= max_age_ms;
}

/* "eu-west, us-east": the counted locations in class cls, cut to fit (never mid-name). */
static void names_in(const struct quorum_vote *v, size_t n, int cls, int64_t max_age_ms, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!counts(&v[i], max_age_ms) || v[i].cls != cls)
			continue;
		const char *name = v[i].location && v[i].location[0] ? v[i].location : "(no location)";
		int w = snprintf(out + o, size - o, "%s%s", o ? ", " : "", name);
		if (w < 0 || (size_t)w >= size - o) {
			snprintf(out + o, size - o, "%s", o + 5 < size ? ", ..." : "");
			return;
		}
		o += (size_t)w;
	}
}

/* Why the class is what it is, with the count that decided it: an on-call engineer reads
 * "down from eu-west (1 of 3 locations, quorum 2)" and knows it is one location's trouble. */
static void explain(const struct quorum_vote *v, size_t n, int quorum, int64_t max_age_ms,
		    struct quorum_verdict *out)
{
	char names[120];
	int cls = out->down ? HT_DOWN : (int)out->cls;
	int in_cls = 0;

	if (out->cls == HT_HEALTHY) {
		out->reason[0] = '\0';
		return;
	}
	for (size_t i = 0; i < n; i++)
		in_cls += counts(&v[i], max_age_ms) && v[i].cls == cls;
	names_in(v, n, cls, max_age_ms, names, sizeof(names));
	if (out->needed < quorum)   /* the other locations' pollers are gone: say the quorum fell */
		snprintf(out->reason, sizeof(out->reason),
			 "%s from %s (%d of %d locations still reporting, quorum %d lowered to %d)",
			 ht_class_name((enum ht_class)cls), names, in_cls, out->counted, quorum, out->needed);
	else
		snprintf(out->reason, sizeof(out->reason), "%s from %s (%d of %d locations, quorum %d)",
			 ht_class_name((enum ht_class)cls), names, in_cls, out->counted, quorum);
}

int quorum_combine(const struct quorum_vote *v, size_t n, int quorum, int64_t max_age_ms,
		   struct quorum_verdict *out)
{
	bool degraded = false;

	memset(out, 0, sizeof(*out));
	if (quorum < 1)
		quorum = 1;
	for (size_t i = 0; i < n; i++) {
		if (!counts(&v[i], max_age_ms))
			continue;
		out->counted++;
		out->down += v[i].cls == HT_DOWN;
		degraded |= v[i].cls == HT_DEGRADED;
	}
	if (out->counted == 0)
		return -1;
	out->needed = quorum < out->counted ? quorum : out->counted;
	if (out->down >= out->needed)
		out->cls = HT_DOWN;
	else
		out->cls = out->down || degraded ? HT_DEGRADED : HT_HEALTHY;
	explain(v, n, quorum, max_age_ms, out);
	return 0;
}

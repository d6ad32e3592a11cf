#include "autoconfig.h"
#include <stdio.h>
#include "healthtop/core/health_class.h"
#include "healthtop/ui/ui_cells.h"
#include "healthtop/ui/ui_layout.h"

static const char *const glyphs_utf8[] = { "\xE2\x97\x8F", "\xE2\x96\xB2", "\xE2\x9C\x96", "\xE2\x97\x8B" };
static const char *const glyphs_ascii[] = { "+", "!", "X", "?" };
static const char *const class_words[] = { "healthy", "degraded", "down", "pending" };

static int cls_slot(int cls)
{
	return (cls < 0 || cls >= HT_CLASS_COUNT) ? 3 : cls;
}

const char *cells_glyph(int cls, bool utf8)
{
	return (utf8 ? glyphs_utf8 : glyphs_ascii)[cls_slot(cls)];
}

const char *cells_word(int cls)
{
	return class_words[cls_slot(cls)];
}

/* The per-target counts (failures_before_down, successes_before_healthy) come with the alerts
 * config; until then every change is confirmed by one result, as soft_state's default. */
struct soft_rules cells_soft_rules(const struct ht_target *t)
{
	return t->soft;
}

int cells_shown_class(const struct target_state *s)
{
	if (!s->checked)
		return -1;
	return s->soft.shown != SOFT_STATE_UNKNOWN ? s->soft.shown : (int)s->last.cls;
}

int64_t cells_shown_since(const struct target_state *s)
{
	const struct state_change *c = state_change_at(s, 0);
	struct state_sample oldest;

	if (s->shown_since_ms > 0)
		return s->shown_since_ms;
	if (c)
		return c->at_ms;
	return s->ring_n && state_sample_get(s, s->ring_n - 1u, &oldest) ? oldest.at_ms : 0;
}

void cells_for(const struct target_state *s, int64_t now_ms, char *buf, size_t size)
{
	int64_t since = cells_shown_since(s);
	int cls = cells_shown_class(s);
	char span[32];

	if (cls < 0 || since <= 0) {
		snprintf(buf, size, "%s", "");
		return;
	}
	int64_t spent = now_ms - since;
	if (spent < 60000)   /* 5 s steps, like "checked": not every row repainted every second */
		spent -= spent % 5000;
	layout_span(spent, false, span, sizeof(span));
	snprintf(buf, size, "%s %s", cells_word(cls), span);
}

bool cells_pending(const struct target_state *s, const struct ht_target *t, bool utf8, int width,
		   int *toward, char *buf, size_t size)
{
	struct soft_rules rules = cells_soft_rules(t);
	enum ht_class to;
	int count, needed;

	if (!soft_state_pending(&s->soft, &rules, &to, &count, &needed))
		return false;
	*toward = (int)to;
	layout_pending(cells_glyph((int)to, utf8), cells_word((int)to), count, needed, width, buf, size);
	return true;
}

bool cells_muted(const struct target_state *s, int64_t now_ms, char *buf, size_t size)
{
	char span[32];

	if (s->muted_until_ms <= now_ms)
		return false;
	layout_span(s->muted_until_ms - now_ms, true, span, sizeof(span));
	snprintf(buf, size, "muted %s", span);
	return true;
}

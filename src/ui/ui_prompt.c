/* What is typed at the bottom line (pure): the filter and its words, the mute prompt and the
 * durations it accepts. */
#include "autoconfig.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "healthtop/ui/ui_keys.h"
#include "healthtop/ui/ui_view.h"

/* The class a filter word names (-1: pending, not checked yet), or -2 when it names none. */
static int word_class(const char *word)
{
	static const char *const words[] = { "healthy", "degraded", "down" };

	for (int c = 0; c < (int)(sizeof(words) / sizeof(words[0])); c++)
		if (strcasecmp(word, words[c]) == 0)
			return c;
	return strcasecmp(word, "pending") == 0 ? -1 : -2;
}

void view_filter_parse(const struct view *v, struct view_filter *f)
{
	char *save = NULL;

	memset(f, 0, sizeof(*f));
	f->hide_healthy = v->hide_healthy;
	memcpy(f->text, v->filter, sizeof(f->text));
	for (char *w = strtok_r(f->text, " ", &save); w && f->n < VIEW_FILTER_WORDS; w = strtok_r(NULL, " ", &save)) {
		f->negated[f->n] = w[0] == '!';
		f->word[f->n] = w + f->negated[f->n];
		f->cls[f->n] = word_class(f->word[f->n]);
		f->n++;
	}
}

/* Word k against the item; project_hit: whether the project matched it, when already known (-1:
 * not known: look). */
static bool word_matches(const struct view_filter *f, int k, const struct view_item *it, int project_hit)
{
	if (f->cls[k] != -2)
		return ((it->cls < 0 ? -1 : it->cls) == f->cls[k]) != f->negated[k];
	bool hit = project_hit >= 0 ? project_hit : strcasestr(it->project, f->word[k]) != NULL;
	return (hit || strcasestr(it->name, f->word[k])) != f->negated[k];
}

bool view_filter_match(const struct view_filter *f, const struct view_item *it, const unsigned *project_hits)
{
	if (f->hide_healthy && it->cls == 0)
		return false;
	for (int k = 0; k < f->n; k++)
		if (!word_matches(f, k, it, project_hits ? (int)((*project_hits >> k) & 1) : -1))
			return false;
	return true;
}

unsigned view_project_hits(const struct view_filter *f, const char *project)
{
	unsigned hits = 0;

	for (int k = 0; k < f->n; k++)
		if (f->cls[k] == -2 && strcasestr(project, f->word[k]))
			hits |= 1u << k;
	return hits;
}

bool view_matches(const struct view *v, const struct view_item *it)
{
	struct view_filter f;

	view_filter_parse(v, &f);
	return view_filter_match(&f, it, NULL);
}

int view_parse_duration(const char *text, int64_t *ms)
{
	static const struct { char unit; int64_t ms; } units[] = {
		{ 's', 1000 }, { 'm', 60000 }, { 'h', 3600000 }, { 'd', 86400000 }, { 'w', 7 * 86400000LL },
	};
	char *end;

	while (*text == ' ')
		text++;
	if (*text == '\0') {
		*ms = VIEW_MUTE_DEFAULT_MS;
		return 0;
	}
	if (strcasecmp(text, "off") == 0 || strcmp(text, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (*text < '0' || *text > '9' || strspn(text, "0123456789") > 6)
		return -1;   /* digits first, and few enough that no product overflows */
	long n = strtol(text, &end, 10);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (end[0] == units[i].unit && strspn(end + 1, " ") == strlen(end + 1)) {
			*ms = n * units[i].ms;
			return 0;
		}
	}
	return -1;
}

/* A printable ASCII key appended to buf (of size bytes); false when it is not one or no room. */
static bool type_key(char *buf, size_t size, int key)
{
	size_t len = strlen(buf);

	if (key < 0x20 || key >= 0x7f || len + 1 >= size)
		return false;
	buf[len] = (char)key;
	buf[len + 1] = '\0';
	return true;
}

enum view_action view_filter_key(struct view *v, int key)
{
	size_t len = strlen(v->filter);

	switch (keys_lookup(KEYS_FILTER, key)) {
	case CMD_FILTER_CANCEL:
		memcpy(v->filter, v->filter_before, sizeof(v->filter));
		v->mode = VIEW_LIST;
		return ACT_REBUILD;
	case CMD_FILTER_KEEP:
		v->mode = VIEW_LIST;
		return ACT_REDRAW;
	case CMD_FILTER_ERASE:
		if (len > 0)
			v->filter[len - 1] = '\0';
		return ACT_REBUILD;
	default:
		break;
	}
	return type_key(v->filter, sizeof(v->filter), key) ? ACT_REBUILD : ACT_NONE;
}

enum view_action view_prompt_key(struct view *v, int key)
{
	size_t len = strlen(v->prompt);

	switch (keys_lookup(KEYS_PROMPT, key)) {
	case CMD_PROMPT_CANCEL:
		v->mode = v->before_prompt;
		return ACT_REDRAW;
	case CMD_PROMPT_OK:
		v->mode = v->before_prompt;
		return ACT_MUTE;
	case CMD_FILTER_ERASE:
		if (len > 0)
			v->prompt[len - 1] = '\0';
		return ACT_REDRAW;
	default:
		return type_key(v->prompt, sizeof(v->prompt), key) ? ACT_REDRAW : ACT_NONE;
	}
}

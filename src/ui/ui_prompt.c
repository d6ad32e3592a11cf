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

static bool word_matches(const char *word, const struct view_item *it)
{
	bool negated = word[0] == '!';
	int cls;

	if (negated)
		word++;
	if ((cls = word_class(word)) != -2)
		return ((it->cls < 0 ? -1 : it->cls) == cls) != negated;
	return (strcasestr(it->name, word) || strcasestr(it->project, word)) != negated;
}

bool view_matches(const struct view *v, const struct view_item *it)
{
	char words[sizeof(v->filter)], *save = NULL;

	if (v->hide_healthy && it->cls == 0)
		return false;
	memcpy(words, v->filter, sizeof(words));
	for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (!word_matches(w, it))
			return false;
	return true;
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

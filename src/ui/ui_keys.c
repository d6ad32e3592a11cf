#include "autoconfig.h"
#include <curses.h>
#include <stdio.h>
#include <string.h>
#include "healthtop/ui/ui_keys.h"
#include "healthtop/ui/ui_layout.h"

#define KEY_ESC 27
#define KEY_DEL 127
#define KEY_CTRL_H 8
#define NAV (KEYS_LIST | KEYS_DETAIL)

/* Order matters: the help screen and the hint line follow it. */
const struct ui_key ui_keys[] = {
	{ KEYS_LIST | KEYS_DETAIL, '?', CMD_HELP, "?", "this help (any key closes it)", "help", "help" },
	{ KEYS_LIST | KEYS_DETAIL, 'h', CMD_HELP, "h", NULL, NULL, NULL },
	{ NAV, 'j', CMD_DOWN, "j", "move down", NULL, NULL },
	{ NAV, KEY_DOWN, CMD_DOWN, "Down", NULL, NULL, NULL },
	{ NAV, 'k', CMD_UP, "k", "move up", NULL, NULL },
	{ NAV, KEY_UP, CMD_UP, "Up", NULL, NULL, NULL },
	{ NAV, 'g', CMD_FIRST, "g", "first target", NULL, NULL },
	{ NAV, KEY_HOME, CMD_FIRST, "Home", NULL, NULL, NULL },
	{ NAV, 'G', CMD_LAST, "G", "last target", NULL, NULL },
	{ NAV, KEY_END, CMD_LAST, "End", NULL, NULL, NULL },
	{ NAV, KEY_NPAGE, CMD_PAGE_DOWN, "PgDn", "page down", NULL, NULL },
	{ NAV, ' ', CMD_PAGE_DOWN, "Space", NULL, NULL, NULL },
	{ NAV, KEY_PPAGE, CMD_PAGE_UP, "PgUp", "page up", NULL, NULL },
	{ KEYS_LIST, '\n', CMD_OPEN, "Enter", "details of the selected target", NULL, NULL },
	{ KEYS_LIST, '\r', CMD_OPEN, NULL, NULL, NULL, NULL },
	{ KEYS_LIST, KEY_ENTER, CMD_OPEN, NULL, NULL, NULL, NULL },
	{ KEYS_LIST, KEY_RIGHT, CMD_OPEN, "Right", NULL, NULL, NULL },
	{ KEYS_DETAIL, KEY_ESC, CMD_BACK, "Esc", "back to the list", "back", "back" },
	{ KEYS_DETAIL, KEY_LEFT, CMD_BACK, "Left", NULL, NULL, NULL },
	{ KEYS_DETAIL, '\n', CMD_BACK, "Enter", NULL, NULL, NULL },
	{ KEYS_DETAIL, '\r', CMD_BACK, NULL, NULL, NULL, NULL },
	{ KEYS_DETAIL, KEY_ENTER, CMD_BACK, NULL, NULL, NULL, NULL },
	{ KEYS_DETAIL, KEY_BACKSPACE, CMD_BACK, "Bksp", NULL, NULL, NULL },
	{ KEYS_DETAIL, KEY_DEL, CMD_BACK, NULL, NULL, NULL, NULL },
	{ KEYS_LIST, '/', CMD_FILTER, "/", "filter: name, project, down, !healthy", "filter", "find" },
	{ KEYS_LIST, KEY_ESC, CMD_CLEAR_FILTER, "Esc", "clear the filter", NULL, NULL },
	{ KEYS_LIST, 's', CMD_SORT, "s", "sort: status, name, latency", "sort", "" },
	{ KEYS_LIST, 'S', CMD_REVERSE, "S", "reverse the sort order", NULL, NULL },
	{ KEYS_LIST, 'H', CMD_HIDE_HEALTHY, "H", "hide or show healthy targets", "healthy", "ok" },
	{ NAV, 't', CMD_WINDOW, "t", "history window: 1h, 24h, 7d, 30d", "window", "" },
	{ NAV, 'r', CMD_FORCE, "r", "check the selected target now", "check", "check" },
	{ NAV, 'R', CMD_FORCE_ALL, "R", "check every target now", "check all", "all" },
	{ NAV, 'e', CMD_EXPORT, "e", "export the view to CSV", "export", "csv" },
	{ NAV, 'm', CMD_MUTE, "m", "mute the selected target for a time", "mute", "mute" },
	{ NAV, 'M', CMD_MUTE_PROJECT, "M", "mute its whole project for a time", NULL, NULL },
	{ KEYS_LIST, KEY_MOUSE, CMD_MOUSE, "mouse", "click selects, double-click opens", NULL, NULL },
	{ NAV, 'q', CMD_QUIT, "q", "quit", "quit", "quit" },
	{ KEYS_FILTER, '\n', CMD_FILTER_KEEP, "Enter", "keep the filter", "keeps", "keeps" },
	{ KEYS_FILTER, '\r', CMD_FILTER_KEEP, NULL, NULL, NULL, NULL },
	{ KEYS_FILTER, KEY_ENTER, CMD_FILTER_KEEP, NULL, NULL, NULL, NULL },
	{ KEYS_FILTER, KEY_ESC, CMD_FILTER_CANCEL, "Esc", "cancel the filter", "cancels", "cancels" },
	{ KEYS_PROMPT, '\n', CMD_PROMPT_OK, "Enter", "mute for that time", "mutes", "ok" },
	{ KEYS_PROMPT, '\r', CMD_PROMPT_OK, NULL, NULL, NULL, NULL },
	{ KEYS_PROMPT, KEY_ENTER, CMD_PROMPT_OK, NULL, NULL, NULL, NULL },
	{ KEYS_PROMPT, KEY_ESC, CMD_PROMPT_CANCEL, "Esc", "cancel", "cancels", "cancels" },
	{ KEYS_FILTER | KEYS_PROMPT, KEY_BACKSPACE, CMD_FILTER_ERASE, "Bksp", "erase a character", NULL, NULL },
	{ KEYS_FILTER | KEYS_PROMPT, KEY_DEL, CMD_FILTER_ERASE, NULL, NULL, NULL, NULL },
	{ KEYS_FILTER | KEYS_PROMPT, KEY_CTRL_H, CMD_FILTER_ERASE, NULL, NULL, NULL, NULL },
};
const size_t ui_nkeys = sizeof(ui_keys) / sizeof(ui_keys[0]);

enum key_cmd keys_lookup(unsigned mode, int key)
{
	for (size_t i = 0; i < ui_nkeys; i++)
		if ((ui_keys[i].modes & mode) && ui_keys[i].key == key)
			return ui_keys[i].cmd;
	return CMD_NONE;
}

static void append(char *buf, size_t size, const char *s)
{
	size_t len = strlen(buf);

	if (len + 1 < size)
		snprintf(buf + len, size - len, "%s", s);
}

bool keys_help_line(unsigned mode, size_t want, char *buf, size_t size)
{
	size_t line = 0;

	for (size_t i = 0; i < ui_nkeys; i++) {
		const struct ui_key *k = &ui_keys[i];
		if (!(k->modes & mode) || !k->help || line++ != want)
			continue;
		char names[64] = "";
		for (size_t j = i; j < ui_nkeys && ui_keys[j].cmd == k->cmd; j++) {
			if (!(ui_keys[j].modes & mode) || !ui_keys[j].name)
				continue;
			append(names, sizeof(names), names[0] ? " " : "");
			append(names, sizeof(names), ui_keys[j].name);
		}
		snprintf(buf, size, "%-16s %s", names, k->help);
		return true;
	}
	return false;
}

/* "s:sort=status"; brief: "s:status". */
static void hint_text(const struct ui_key *k, const struct keys_state *st, bool brief, char *buf, size_t size)
{
	const char *word = brief ? k->brief : k->hint;
	const char *value = k->cmd == CMD_SORT ? st->sort : k->cmd == CMD_WINDOW ? st->window : NULL;

	if (k->cmd == CMD_HIDE_HEALTHY)
		value = st->healthy ? st->healthy : "shown";

	if (value)
		snprintf(buf, size, "%s:%s%s%s", k->name, word, word[0] ? "=" : "", value);
	else if (k->cmd == CMD_FILTER && st->filter[0])
		snprintf(buf, size, "%s:%s (\"%s\")", k->name, word, st->filter);
	else
		snprintf(buf, size, "%s:%s", k->name, word);
}

/* The hints joined by `sep`, leaving out the `skip` hints just before the last. Returns the width. */
static int build(unsigned mode, const struct keys_state *st, bool brief, const char *sep, size_t skip,
		 char *buf, size_t size)
{
	size_t n = 0, shown = 0;

	for (size_t i = 0; i < ui_nkeys; i++)
		n += (ui_keys[i].modes & mode) && ui_keys[i].hint;
	buf[0] = '\0';
	for (size_t i = 0, at = 0; i < ui_nkeys; i++) {
		const struct ui_key *k = &ui_keys[i];
		char one[128];
		if (!(k->modes & mode) || !k->hint)
			continue;
		at++;
		if (at + skip >= n && at < n)   /* dropped from the end, quit excepted */
			continue;
		hint_text(k, st, brief, one, sizeof(one));
		append(buf, size, shown++ ? sep : "");
		append(buf, size, one);
	}
	return layout_width(buf);
}

void keys_hint_line(unsigned mode, const struct keys_state *st, int width, char *buf, size_t size)
{
	if (build(mode, st, false, "  ", 0, buf, size) <= width || build(mode, st, false, " ", 0, buf, size) <= width ||
	    build(mode, st, true, "  ", 0, buf, size) <= width || build(mode, st, true, " ", 0, buf, size) <= width)
		return;
	for (size_t skip = 1; skip < ui_nkeys; skip++)
		if (build(mode, st, true, " ", skip, buf, size) <= width)
			return;
}

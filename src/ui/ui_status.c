#include "autoconfig.h"
#include <stdio.h>
#include "healthtop/core/sanitize.h"
#include "healthtop/ui/ui_keys.h"
#include "ui/ui_priv.h"

/* "/down_   Enter:keeps  Esc:cancels": what is typed, then that mode's keys in what is left. */
static void typing_line(struct ui *ui, unsigned keys, const char *typed, const struct keys_state *st,
			char *text, size_t size)
{
	char hints[384];

	keys_hint_line(keys, st, ui->cols - layout_width(typed) - 4, hints, sizeof(hints));
	if (snprintf(text, size, "%s_   %s", typed, hints) >= (int)size)
		sanitize_trim_cut(text);   /* the hints cut short: no half character at the end */
}

/* The question the mute prompt asks, with what was typed so far. */
static void mute_question(const struct ui *ui, char *buf, size_t size)
{
	const struct view *v = &ui->view;
	const struct view_item *it = &ui->items[v->prompt_target];

	snprintf(buf, size, "mute %s%s for (30m, 2h, 1d; 0 unmutes) [1h]: %s", v->prompt_project ? "project " : "",
		 v->prompt_project ? it->project : it->name, v->prompt);
}

/* The bottom line: the filter or mute prompt being typed, else a message, else a storage error,
 * else the keys of the mode from the key table. */
void ui_draw_statusline(struct ui *ui)
{
	const struct view *v = &ui->view;
	const char *storage = monitor_storage_error(ui->m);
	char sort[32], text[512], typed[400];
	struct keys_state st = { sort, view_windows[v->window].label, v->filter, v->hide_healthy ? "hidden" : "shown" };
	attr_t attr = ui->role_attr[ROLE_STATUSLINE];

	view_sort_label(v, sort, sizeof(sort));
	if (v->mode == VIEW_FILTER) {
		snprintf(typed, sizeof(typed), "/%s", v->filter);
		typing_line(ui, KEYS_FILTER, typed, &st, text, sizeof(text));
	} else if (v->mode == VIEW_PROMPT) {
		mute_question(ui, typed, sizeof(typed));
		typing_line(ui, KEYS_PROMPT, typed, &st, text, sizeof(text));
	} else if (ui->message[0]) {
		snprintf(text, sizeof(text), "%s", ui->message);
	} else if (storage) {
		snprintf(text, sizeof(text), "storage error (results kept, retrying): %s", storage);
		attr = ui->role_attr[ROLE_DOWN];
	} else {
		keys_hint_line(v->mode == VIEW_DETAIL ? KEYS_DETAIL : KEYS_LIST, &st, ui->cols, text, sizeof(text));
	}
	ui_put(ui, ui->rows - 1, 0, ui->cols, text, attr);
}

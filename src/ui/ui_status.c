#include "autoconfig.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
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

/* 4213 as "4 213": a count read at a glance, as the issue words it. */
static void grouped(size_t n, char *out, size_t size)
{
	char digits[32];
	size_t len = (size_t)snprintf(digits, sizeof(digits), "%zu", n), o = 0;

	for (size_t i = 0; i < len && o + 2 < size; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = ' ';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

void ui_storage_text(int64_t since_ms, size_t waiting, const char *why, char *out, size_t size)
{
	time_t t = (time_t)(since_ms / 1000);
	struct tm tm;
	char when[16] = "-", count[48];

	if (since_ms > 0 && localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%H:%M", &tm);
	grouped(waiting, count, sizeof(count));
	snprintf(out, size, "store unreachable since %s, %s result%s waiting%s%s", when, count, waiting == 1 ? "" : "s",
		 why ? ": " : "", why ? why : "");
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
		int64_t since = monitor_storage_since(ui->m);
		const char *why = strstr(storage, "Z: ");   /* the cause, after "storage failing since <time>" */
		if (since)
			ui_storage_text(since, monitor_pending(ui->m), why ? why + 3 : storage, text, sizeof(text));
		else   /* a read failed, not the writer */
			snprintf(text, sizeof(text), "storage error (results kept, retrying): %s", storage);
		attr = ui->role_attr[ROLE_DOWN];
	} else {
		keys_hint_line(v->mode == VIEW_DETAIL ? KEYS_DETAIL : KEYS_LIST, &st, ui->cols, text, sizeof(text));
	}
	ui_put(ui, ui->rows - 1, 0, ui->cols, text, attr);
}

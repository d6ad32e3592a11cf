#include "autoconfig.h"
#include <stdio.h>
#include "healthtop/ui/ui_keys.h"
#include "ui/ui_priv.h"

/* The bottom line: the filter being typed, else a message, else a storage error, else the
 * keys of the mode from the key table. */
void ui_draw_statusline(struct ui *ui)
{
	const struct view *v = &ui->view;
	const char *storage = monitor_storage_error(ui->m);
	struct keys_state st = { view_sort_names[v->sort], view_windows[v->window].label, v->filter };
	char text[512], hints[384];
	attr_t attr = ui->role_attr[ROLE_STATUSLINE];

	if (v->mode == VIEW_FILTER) {
		snprintf(text, sizeof(text), "/%s_", v->filter);
		keys_hint_line(KEYS_FILTER, &st, ui->cols - layout_width(text) - 3, hints, sizeof(hints));
		snprintf(text, sizeof(text), "/%s_   %s", v->filter, hints);
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

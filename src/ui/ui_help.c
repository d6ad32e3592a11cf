#include "autoconfig.h"
#include "healthtop/ui/ui_keys.h"
#include "ui/ui_priv.h"

#define HELP_W 60

/* A box over the screen with the keys of the mode help was opened from, read from the table.
 * With room, a blank line above and below the closing words; on a short screen (80x24 holds
 * every list key only so) the box drops them rather than a key. */
void ui_draw_help(struct ui *ui)
{
	unsigned mode = ui->view.before_help == VIEW_DETAIL ? KEYS_DETAIL : KEYS_LIST;
	attr_t a = ui->role_attr[ROLE_SELECTED];
	char text[160];
	size_t n = 0;

	while (keys_help_line(mode, n, text, sizeof(text)))
		n++;
	int w = HELP_W < ui->cols - 2 ? HELP_W : ui->cols - 2;
	bool roomy = (int)n + 4 <= ui->rows - 2;
	int h = roomy ? (int)n + 4 : (int)n + 2 < ui->rows ? (int)n + 2 : ui->rows;
	int lines = h - (roomy ? 4 : 2);
	int y0 = (ui->rows - h) / 2, x0 = (ui->cols - w) / 2;

	for (int r = 0; r < h; r++)
		ui_put(ui, y0 + r, x0, w, "", a);
	ui_put(ui, y0, x0 + 2, w - 4, "healthtop keys", a | A_BOLD);
	for (int i = 0; i < lines && keys_help_line(mode, (size_t)i, text, sizeof(text)); i++)
		ui_put(ui, y0 + 1 + i, x0 + 2, w - 4, text, a);
	ui_put(ui, y0 + h - (roomy ? 2 : 1), x0 + 2, w - 4, "any key closes this help", a | A_BOLD);
}

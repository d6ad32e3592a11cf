#include "autoconfig.h"
#include <string.h>
#include "healthtop/core/health_class.h"
#include "healthtop/ui/ui_cells.h"
#include "ui/ui_priv.h"

static int cls_slot(int cls)
{
	return (cls < 0 || cls >= HT_CLASS_COUNT) ? 3 : cls;
}

const char *ui_glyph(const struct ui *ui, int cls)
{
	return cells_glyph(cls, ui->utf8);
}

const char *ui_class_word(int cls)
{
	return cells_word(cls);
}

attr_t ui_class_attr(const struct ui *ui, int cls)
{
	static const enum theme_role roles[] = { ROLE_HEALTHY, ROLE_DEGRADED, ROLE_DOWN, ROLE_PENDING };
	return ui->role_attr[roles[cls_slot(cls)]];
}

/* Plain ASCII (most cells) goes in as characters with their attributes: no multibyte decoding
 * and width lookup per character, which was the idle dashboard's largest cost (issue 12). */
static bool put_ascii(int y, int x, const char *fit, attr_t attr)
{
	chtype line[512];
	size_t n = 0;

	for (; fit[n]; n++) {
		unsigned char c = (unsigned char)fit[n];
		if (c < 0x20 || c >= 0x7f || n == sizeof(line) / sizeof(line[0]))
			return false;
		line[n] = (chtype)c | attr;
	}
	return mvaddchnstr(y, x, line, (int)n) == OK;
}

void ui_put(struct ui *ui, int y, int x, int width, const char *text, attr_t attr)
{
	char fit[2048];

	if (width <= 0 || y < 0 || y >= ui->rows || x >= ui->cols)
		return;
	if (x + width > ui->cols)
		width = ui->cols - x;
	layout_cell(text, width, ui->utf8, fit, sizeof(fit));
	if (put_ascii(y, x, fit, attr))
		return;
	attrset(attr);
	mvaddstr(y, x, fit);
	attrset(A_NORMAL);
}

static attr_t style_attr(const struct theme_style *st, short pair, bool color)
{
	attr_t a = A_NORMAL;

	if (st->attrs & THEME_BOLD)
		a |= A_BOLD;
	if (st->attrs & THEME_DIM)
		a |= A_DIM;
	if (st->attrs & THEME_UNDERLINE)
		a |= A_UNDERLINE;
	if (st->attrs & THEME_REVERSE)
		a |= A_REVERSE;
	return color ? a | COLOR_PAIR(pair) : a;
}

static short fit_colour(short c)
{
	if (c < 0)
		return -1;
	return c < COLORS ? c : (short)(c % 8);   /* a 256-colour theme on an 8-colour terminal */
}

void ui_apply_theme(struct ui *ui, const struct theme *t, bool color)
{
	for (int r = 0; r < ROLE_COUNT; r++) {
		if (color)
			init_pair((short)(r + 1), fit_colour(t->roles[r].fg), fit_colour(t->roles[r].bg));
		ui->role_attr[r] = style_attr(&t->roles[r], (short)(r + 1), color);
	}
}

#include "autoconfig.h"
#include <stdio.h>
#include <string.h>
#include "healthtop/core/health_class.h"
#include "healthtop/ui/ui_cells.h"
#include "healthtop/ui/ui_spark.h"
#include "ui/ui_priv.h"

static void draw_titles(struct ui *ui)
{
	const struct layout *l = &ui->layout;

	ui_put(ui, 1, 0, ui->cols, "", ui->role_attr[ROLE_TITLE]);
	for (int c = 0; c < COL_COUNT; c++) {
		if (l->shown[c])
			ui_put(ui, 1, l->x[c], l->w[c], layout_titles[c], ui->role_attr[ROLE_TITLE]);
	}
}

static void ago_text(const struct ui *ui, size_t t, char *buf, size_t size)
{
	const struct target_state *s = monitor_state(ui->m, t);

	if (monitor_in_flight(ui->m, t))
		snprintf(buf, size, "checking");
	else
		layout_ago(s->checked ? s->last.at_ms : 0, ui->now_ms, buf, size);
}

/* On the selected row the cells keep their class colours and take the selected role's
 * attributes (bold, reverse...): two colour pairs cannot be combined. */
static void draw_spark(struct ui *ui, int y, const struct target_state *s, attr_t extra)
{
	const struct layout *l = &ui->layout;
	float ms[STATE_RING];
	uint8_t cls[STATE_RING];
	struct spark_cell cells[128];
	int w = l->w[COL_SPARK] < 128 ? l->w[COL_SPARK] : 128;
	unsigned n = s->ring_n;

	for (unsigned i = 0; i < n; i++) {
		struct state_sample smp;
		state_sample_get(s, n - 1 - i, &smp);   /* i < ring_n: always there */
		ms[i] = smp.ms;
		cls[i] = smp.cls;
	}
	spark_render(ms, cls, n, w, cells);
	move(y, l->x[COL_SPARK]);
	for (int c = 0; c < w; c++) {
		/* Wide cells directly: no multibyte conversion per cell on every frame. */
		wchar_t wc[2] = { L' ', L'\0' };
		attr_t a = extra ? extra : ui->role_attr[ROLE_DIM];
		cchar_t cc;
		if (!cells[c].empty) {
			wc[0] = ui->utf8 ? (wchar_t)(0x2581 + cells[c].level) : (wchar_t)spark_glyphs_ascii[cells[c].level];
			a = ui_class_attr(ui, cells[c].cls) | (extra & ~A_COLOR);
		}
		setcchar(&cc, wc, a & ~A_COLOR, (short)PAIR_NUMBER(a), NULL);
		add_wch(&cc);
	}
	attrset(A_NORMAL);
}

/* The shown class ("✖ down"), or a displayed change under way ("▲ degraded 2/3") in the colour
 * of the class it moves toward. */
static void draw_status(struct ui *ui, int y, size_t t, attr_t sel)
{
	const struct layout *l = &ui->layout;
	int cls = ui->items[t].cls;
	char buf[64];

	if (!cells_pending(monitor_state(ui->m, t), monitor_target(ui->m, t), ui->utf8, l->w[COL_STATUS], &cls, buf,
			   sizeof(buf)))
		snprintf(buf, sizeof(buf), "%s %s", ui_glyph(ui, cls), ui_class_word(cls));
	ui_put(ui, y, l->x[COL_STATUS], l->w[COL_STATUS], buf, sel != A_NORMAL ? sel : ui_class_attr(ui, cls));
}

/* The name, and "muted 45m" at the cell's right end while the target is muted. */
static void draw_name(struct ui *ui, int y, size_t t, attr_t sel)
{
	const struct layout *l = &ui->layout;
	char mark[48], cell[1024];
	int w = l->w[COL_NAME];

	if (!cells_muted(monitor_state(ui->m, t), ui->now_ms, mark, sizeof(mark))) {
		ui_put(ui, y, l->x[COL_NAME], w, ui->items[t].name, sel);
		return;
	}
	int at = layout_name_mark(ui->items[t].name, mark, w, ui->utf8, cell, sizeof(cell));
	ui_put(ui, y, l->x[COL_NAME], w, cell, sel);
	if (sel == A_NORMAL && at < w)   /* the marker again over its own cells, in the muted role */
		ui_put(ui, y, l->x[COL_NAME] + at, w - at, mark, ui->role_attr[ROLE_MUTED]);
}

static void draw_target(struct ui *ui, int y, size_t t, bool selected)
{
	const struct layout *l = &ui->layout;
	const struct target_state *s = monitor_state(ui->m, t);
	const struct view_item *it = &ui->items[t];
	/* The theme's selected role paints the whole row; the status word still says the class. */
	attr_t sel = selected ? ui->role_attr[ROLE_SELECTED] : A_NORMAL;
	char buf[64];

	if (selected)   /* erase() already blanked the others */
		ui_put(ui, y, 0, ui->cols, "", sel);
	draw_status(ui, y, t, sel);
	draw_name(ui, y, t, sel);
	if (l->shown[COL_FOR]) {
		cells_for(s, ui->now_ms, buf, sizeof(buf));
		ui_put(ui, y, l->x[COL_FOR], l->w[COL_FOR], buf, sel);
	}
	layout_latency(it->latency_ms, buf, sizeof(buf));
	ui_put(ui, y, l->x[COL_LAST], l->w[COL_LAST], buf, sel);
	if (l->shown[COL_P95]) {
		layout_latency(state_p95(s), buf, sizeof(buf));
		ui_put(ui, y, l->x[COL_P95], l->w[COL_P95], buf, sel);
	}
	if (l->shown[COL_UPTIME]) {
		double up = state_uptime(s);
		if (up < 0)
			snprintf(buf, sizeof(buf), "-");
		else
			snprintf(buf, sizeof(buf), up >= 99.995 ? "%.0f%%" : "%.2f%%", up);
		ui_put(ui, y, l->x[COL_UPTIME], l->w[COL_UPTIME], buf, sel);
	}
	if (l->shown[COL_AGO]) {
		ago_text(ui, t, buf, sizeof(buf));
		ui_put(ui, y, l->x[COL_AGO], l->w[COL_AGO], buf, selected ? sel : ui->role_attr[ROLE_DIM]);
	}
	if (l->shown[COL_SPARK])
		draw_spark(ui, y, s, sel);
	if (l->shown[COL_REASON] && s->checked)   /* sanitized and cut by ui_put */
		ui_put(ui, y, l->x[COL_REASON], l->w[COL_REASON], s->last.reason,
		       selected ? sel : it->cls == HT_HEALTHY ? ui->role_attr[ROLE_DIM] : A_NORMAL);
}

static void draw_group(struct ui *ui, int y, const struct view_row *r)
{
	char text[256];
	int x;

	snprintf(text, sizeof(text), "%s (%zu)", ui->items[r->target].project, r->count);
	x = layout_width(text) + 1;
	ui_put(ui, y, 0, x, text, ui->role_attr[ROLE_PROJECT]);
	if (x < ui->cols)
		mvhline(y, x, (ui->utf8 ? ACS_HLINE : '-') | ui->role_attr[ROLE_DIM], ui->cols - x);
}

void ui_draw_list(struct ui *ui)
{
	const struct view *v = &ui->view;
	int y = ui->list_y;

	draw_titles(ui);
	if (v->nrows == 0) {
		char text[160];
		if (v->filter[0])
			snprintf(text, sizeof(text), "no target matches \"%s\" (Esc clears the filter)%s", v->filter,
				 v->hide_healthy ? "; healthy ones are hidden (H shows them)" : "");
		else if (v->hide_healthy)
			snprintf(text, sizeof(text), "every target is healthy, and hidden (H shows them)");
		else
			snprintf(text, sizeof(text), "no targets");
		ui_put(ui, y, 1, ui->cols - 1, text, ui->role_attr[ROLE_DIM]);
		return;
	}
	for (size_t r = v->top; r < v->nrows && y < ui->rows - 1; r++, y++) {
		if (v->rows[r].header)
			draw_group(ui, y, &v->rows[r]);
		else
			draw_target(ui, y, v->rows[r].target, r == v->sel);
	}
}

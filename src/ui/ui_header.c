#include "autoconfig.h"
#include <stdio.h>
#include <time.h>
#include "healthtop/core/health_class.h"
#include "healthtop/monitor/monitor_viewer.h"
#include "ui/ui_priv.h"

static void clock_text(int64_t ms, bool seconds, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!localtime_r(&t, &tm) || strftime(buf, size, seconds ? "%H:%M:%S" : "%H:%M", &tm) == 0)
		snprintf(buf, size, "-");
}

/* At the right, always shown: a viewer says whose results it draws, and that its config is
 * not the one shown. */
static void right_text(struct ui *ui, char *out, size_t size)
{
	struct monitor_role r;
	char clock[16];

	clock_text(ui->now_ms, false, clock, sizeof(clock));
	monitor_role(ui->m, &r);
	if (r.kind == MONITOR_VIEWER && !r.lost && !r.pid)   /* daemons polling by shards */
		snprintf(out, size, "viewer of %.64s%s  %s", r.host, r.warning ? " (its config differs)" : "", clock);
	else if (r.kind == MONITOR_VIEWER && !r.lost)
		snprintf(out, size, "viewer of pid %lld on %.64s%s  %s", (long long)r.pid, r.host,
			 r.warning ? " (its config differs)" : "", clock);
	else if (r.warning)
		snprintf(out, size, "%.120s  %s", r.warning, clock);
	else
		snprintf(out, size, "%s", clock);
}

/* Counts are of the whole fleet, whatever the filter: the truth at a glance. */
void ui_draw_header(struct ui *ui)
{
	struct layout_header_info h = { .window = view_windows[ui->view.window].label };
	char text[1024], sweep[16] = "-", clock[256];
	int64_t last = monitor_last_result_ms(ui->m);

	for (size_t i = 0; i < ui->nitems; i++)
		h.n[ui->items[i].cls < 0 ? 3 : ui->items[i].cls]++;
	for (int c = 0; c < 4; c++)
		h.glyph[c] = ui_glyph(ui, c < 3 ? c : -1);
	if (last > 0)
		clock_text(last, true, sweep, sizeof(sweep));
	right_text(ui, clock, sizeof(clock));
	h.last = sweep;
	h.clock = clock;
	layout_header(&h, ui->cols, ui->utf8, text, sizeof(text));
	ui_put(ui, 0, 0, ui->cols, text, ui->role_attr[ROLE_HEADER]);
}

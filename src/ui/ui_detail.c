#include "autoconfig.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "healthtop/core/health_class.h"
#include "healthtop/monitor/monitor_shard.h"
#include "healthtop/ui/ui_cells.h"
#include "healthtop/ui/ui_spark.h"
#include "ui/ui_priv.h"

#define LABEL_W 11
#define GRAPH_MAX_H 8

struct cursor {
	struct ui *ui;
	int y;
	int bottom;   /* first row not to draw on */
};

static bool line(struct cursor *c, const char *label, const char *text, attr_t attr)
{
	if (c->y >= c->bottom)
		return false;
	ui_put(c->ui, c->y, 1, LABEL_W, label, c->ui->role_attr[ROLE_DIM]);
	ui_put(c->ui, c->y, 1 + LABEL_W, c->ui->cols - 1 - LABEL_W, text, attr);
	c->y++;
	return true;
}

static void phases(struct cursor *c, const struct state_latest *l)
{
	const float v[4] = { l->dns_ms, l->connect_ms, l->tls_ms, l->ttfb_ms };
	const char *names[4] = { "dns", "connect", "tls", "ttfb" };
	const char marks[5] = { 'd', 'c', 't', 'w', 'r' };
	char text[256] = "", one[48], bar[512];
	float known = 0;
	size_t o = 0;

	for (int i = 0; i < 4; i++) {
		char ms[16];
		layout_latency(v[i], ms, sizeof(ms));
		snprintf(one, sizeof(one), "%s%s %s (%c)", i ? "  " : "", names[i], ms, marks[i]);
		strncat(text, one, sizeof(text) - strlen(text) - 1);
		known += v[i] > 0 ? v[i] : 0;
	}
	/* What is left after the first byte is reading the body: the bar's r, named here too. */
	layout_latency(l->total_ms > known ? l->total_ms - known : 0, one, sizeof(one));
	snprintf(text + strlen(text), sizeof(text) - strlen(text), "  read %s (%c)", one, marks[4]);
	layout_latency(l->total_ms, one, sizeof(one));
	snprintf(text + strlen(text), sizeof(text) - strlen(text), "  total %s", one);
	line(c, "Phases", text, A_NORMAL);
	int width = c->ui->cols - 2 - LABEL_W;
	if (l->total_ms <= 0 || width < 10 || width >= (int)sizeof(bar))
		return;
	/* Each phase's share of the total as a run of its letter; what is left is reading the body. */
	for (int i = 0; i < 5; i++) {
		float part = i < 4 ? (v[i] > 0 ? v[i] : 0) : l->total_ms - known;
		int n = (int)(part / l->total_ms * (float)width + 0.5f);
		for (int k = 0; k < n && o + 1 < (size_t)width; k++)
			bar[o++] = marks[i];
	}
	bar[o] = '\0';
	line(c, "", bar, c->ui->role_attr[ROLE_PROJECT]);
}

/* Warned like the check itself warns: the target's tls_expiry_warn_days. */
static void cert(struct cursor *c, const struct state_latest *l, int warn_days)
{
	char text[96], day[16];
	time_t t = (time_t)l->cert_expiry;
	struct tm tm;

	if (l->cert_expiry <= 0) {
		line(c, "Cert", "none seen (plain HTTP, or no handshake)", c->ui->role_attr[ROLE_DIM]);
		return;
	}
	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	long long days = (long long)((l->cert_expiry * 1000 - c->ui->now_ms) / 86400000);
	snprintf(text, sizeof(text), "expires %s (%lld d)", day, days);
	line(c, "Cert", text, days < warn_days ? c->ui->role_attr[ROLE_DEGRADED] : A_NORMAL);
}

static void components(struct cursor *c, const struct state_latest *l)
{
	char text[128];

	if (l->ncomps == 0)
		return;
	snprintf(text, sizeof(text), "%zu reported by the body", l->ncomps);
	line(c, "Components", text, A_NORMAL);
	for (size_t i = 0; i < l->ncomps && c->y < c->bottom; i++) {
		const struct body_component *bc = &l->comps[i];
		snprintf(text, sizeof(text), "%s %-24s %s", ui_glyph(c->ui, bc->cls), bc->name, bc->state);
		line(c, "", text, ui_class_attr(c->ui, bc->cls));
	}
}

static void changes(struct cursor *c, const struct target_state *s)
{
	const char *arrow = c->ui->utf8 ? "\xE2\x86\x92" : "->";

	if (s->changes_n == 0)
		return;
	for (unsigned i = 0; i < s->changes_n && c->y < c->bottom; i++) {
		const struct state_change *ch = state_change_at(s, i);
		char when[32], text[96];
		time_t t = (time_t)(ch->at_ms / 1000);
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%m-%d %H:%M:%S", &tm);
		snprintf(text, sizeof(text), "%s  %s %s %s", when, ui_class_word(ch->from), arrow, ui_class_word(ch->to));
		line(c, i == 0 ? "Changes" : "", text, ui_class_attr(c->ui, ch->to));   /* label beside the first */
	}
}

/* Bars `height` rows tall: full blocks below, an eighth-step block on top. */
/* The i-th newest sample's latency (i < ring_n). */
static float sample_ms(const struct target_state *s, unsigned i)
{
	struct state_sample smp;

	return state_sample_get(s, i, &smp) ? smp.ms : -1;
}

static void graph(struct cursor *c, const struct target_state *s)
{
	struct ui *ui = c->ui;
	int width = ui->cols - 2 - LABEL_W, height = c->bottom - c->y - 1;
	float max = 0;
	char title[96], top[16];

	if (height > GRAPH_MAX_H)
		height = GRAPH_MAX_H;
	if (height < 1 || width < 8 || s->ring_n == 0)
		return;
	int n = (int)s->ring_n < width ? (int)s->ring_n : width, unanswered = 0;
	for (int i = 0; i < n; i++) {
		float ms = sample_ms(s, (unsigned)i);
		unanswered += ms < 0;
		max = ms > max ? ms : max;
	}
	/* A check that got no answer has no latency but did take time: the last one's is known. */
	if (s->checked && sample_ms(s, 0) < 0 && s->last.total_ms > max)
		max = s->last.total_ms;
	layout_latency(max, top, sizeof(top));
	if (unanswered == n && max <= 0)
		snprintf(title, sizeof(title), "last %d checks, newest right: no answer (full bars)", n);
	else
		snprintf(title, sizeof(title), "last %d checks, newest right, top = %s%s", n, top,
			 unanswered ? ", full bar = no answer" : "");
	line(c, "Latency", title, A_NORMAL);
	for (int row = 0; row < height; row++) {
		int y = c->y + row, level_base = (height - 1 - row) * 8;
		move(y, 1 + LABEL_W + (width - n));
		for (int i = n - 1; i >= 0; i--) {
			struct state_sample smp;
			state_sample_get(s, (unsigned)i, &smp);   /* i < ring_n */
			int levels = smp.ms < 0 ? height * 8 : max > 0 ? (int)(smp.ms / max * (float)(height * 8) + 0.5f) : 0;
			int fill = levels - level_base;
			attrset(ui_class_attr(ui, smp.cls));
			if (fill <= 0)
				addch(' ');
			else if (ui->utf8)
				addstr(spark_glyphs_utf8[fill >= 8 ? 7 : fill - 1]);
			else
				addch(fill >= 8 ? '#' : (chtype)spark_glyphs_ascii[fill - 1]);
		}
	}
	attrset(A_NORMAL);
	c->y += height;
}

/* "down 12m   changing: ▲ degraded 2/3   muted 45m": the shown state, how long, what may come. */
static void shown_state(struct cursor *c, const struct ht_target *tg, const struct target_state *s)
{
	char text[192], more[64];
	size_t len;
	int to;

	cells_for(s, c->ui->now_ms, text, sizeof(text));
	if (!text[0])
		return;
	len = strlen(text);
	if (cells_pending(s, tg, c->ui->utf8, 40, &to, more, sizeof(more)))
		len += (size_t)snprintf(text + len, sizeof(text) - len, "   changing: %s", more);
	if (len < sizeof(text) && cells_muted(s, c->ui->now_ms, more, sizeof(more)))
		snprintf(text + len, sizeof(text) - len, "   %s, notifying nobody", more);
	line(c, "State", text, A_NORMAL);
}

/* A line per location: where, its class, how old its newest result is, who checked it. An
 * on-call engineer sees at once whether one location or all of them see the target down. */
static void locations(struct cursor *c)
{
	struct ui *ui = c->ui;
	char text[512], ago[32];

	for (size_t i = 0; i < ui->detail_nlocs; i++) {
		const struct monitor_location *l = &ui->detail_locs[i];
		int cls = l->cls >= 0 ? l->cls : -1;
		if (l->at_ms > 0)
			layout_ago(l->at_ms, ui->now_ms, ago, sizeof(ago));
		snprintf(text, sizeof(text), "%-12s %s %-9s %s   %s", l->location[0] ? l->location : "(none)",
			 cls >= 0 ? ui_glyph(ui, cls) : "?", cls >= 0 ? ui_class_word(cls) : "unknown",
			 l->at_ms > 0 ? ago : "-", l->poller ? l->poller : "");
		if (!line(c, i ? "" : "Locations", text, cls >= 0 ? ui_class_attr(ui, cls) : A_NORMAL))
			return;
	}
	if (ui->detail_quorum[0])
		line(c, "Quorum", ui->detail_quorum, A_NORMAL);
}

void ui_draw_detail(struct ui *ui)
{
	size_t t;

	if (!view_selected(&ui->view, &t))
		return;
	ui->detail_poller = monitor_poller(ui->m, t);
	ui->detail_nlocs = monitor_locations(ui->m, t, ui->detail_locs, UI_LOCATIONS_MAX, ui->detail_quorum,
					     sizeof(ui->detail_quorum));
	ui_detail_draw(ui, monitor_target(ui->m, t), monitor_state(ui->m, t), monitor_in_flight(ui->m, t));
}

void ui_detail_draw(struct ui *ui, const struct ht_target *tg, const struct target_state *s, bool in_flight)
{
	struct cursor c = { ui, ui->list_y, ui->rows - 1 };
	char text[512], ms[16], ago[32];
	const struct state_latest *l = &s->last;
	int cls = cells_shown_class(s);

	snprintf(text, sizeof(text), "%s %s   %s   (%s)", ui_glyph(ui, cls), ui_class_word(cls), tg->name, tg->project);
	ui_put(ui, c.y++, 1, ui->cols - 2, text, ui_class_attr(ui, cls) | A_BOLD);
	line(&c, "URL", tg->display_url, A_NORMAL);
	shown_state(&c, tg, s);
	line(&c, "Reason", s->checked ? l->reason : "not checked yet", A_NORMAL);
	layout_ago(s->checked ? l->at_ms : 0, ui->now_ms, ago, sizeof(ago));
	const char *busy = in_flight ? " (checking now)" : "";
	if (l->http_code)
		snprintf(text, sizeof(text), "%ld   checked %s%s", l->http_code, ago, busy);
	else
		snprintf(text, sizeof(text), "no response   checked %s%s", ago, busy);
	line(&c, "HTTP", text, A_NORMAL);
	if (ui->detail_nlocs > 1)   /* checked from several locations: each one's say */
		locations(&c);
	else if (ui->detail_poller && s->checked)   /* several pollers share the fleet: which one it was */
		line(&c, "Poller", ui->detail_poller, A_NORMAL);
	if (s->checked)
		phases(&c, l);
	cert(&c, l, tg->rules.tls_expiry_warn_days);
	double up = state_uptime(s);
	layout_latency(state_p95(s), ms, sizeof(ms));
	if (up < 0)
		snprintf(text, sizeof(text), "no checks in this window");
	else
		snprintf(text, sizeof(text), "uptime %.2f%%   p95 %s   %u checks", up, ms,
			 s->win_counts[0] + s->win_counts[1] + s->win_counts[2]);
	char label[32];
	snprintf(label, sizeof(label), "Window %s", view_windows[ui->view.window].label);
	line(&c, label, text, A_NORMAL);
	components(&c, l);
	changes(&c, s);
	graph(&c, s);
}

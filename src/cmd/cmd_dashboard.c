#include "autoconfig.h"
#include <ev.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "healthtop/cmd/cli.h"
#include "healthtop/cmd/cmd.h"
#include "healthtop/monitor/monitor.h"
#include "healthtop/monitor/monitor_metrics.h"
#include "healthtop/monitor/monitor_viewer.h"
#include "healthtop/serve/metrics_http.h"
#include "healthtop/ui/theme.h"
#include "healthtop/ui/ui.h"

struct dash_opts {
	struct cli_common common;
	const char *theme;
	const char *metrics_listen;
};

/* The first decision comes from the writer thread's first tick: moments, unless another
 * process holds the database locked (then the screen starts and polling waits). */
#define LEASE_WAIT_S 5.0

static const char usage[] =
	"usage: healthtop [-c FILE] [--db PATH] [--theme NAME] [--demo] [--metrics-listen ADDR:PORT]\n";

static int parse_opts(int argc, char **argv, struct dash_opts *o)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "theme", required_argument, NULL, 't' },
		CLI_METRICS_LONGOPT,
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:", longopts, NULL)) != -1) {
		if (cli_common_opt(ch, optarg, &o->common))
			continue;
		if (ch == CLI_METRICS_OPT)
			o->metrics_listen = optarg;
		else if (ch == 't')
			o->theme = optarg;
		else
			return cli_opt_error("healthtop", ch, argv, usage);
	}
	if (optind < argc) {
		fprintf(stderr, "healthtop: unknown command \"%s\" (see healthtop --help)\n", argv[optind]);
		return -1;
	}
	return 0;
}

static int pick_theme(const struct dash_opts *o, struct theme *t, bool *color)
{
	struct ht_err err = { "" };
	const char *no_color = getenv("NO_COLOR");

	*color = !(no_color && no_color[0]);   /* https://no-color.org */
	if (theme_load(o->theme ? o->theme : "default", t, &err) < 0) {
		fprintf(stderr, "healthtop: %s\n", err.msg);
		return -1;
	}
	if (!*color)
		theme_mono(t);
	return 0;
}

/* /metrics while this dashboard polls (a viewer's numbers would be the poller's again). */
struct dash_metrics {
	const char *listen;
	struct ev_loop *loop;
	struct monitor *m;
	struct metrics_http *http;
};

/* A viewer that takes over starts serving; the address was proven at start. */
static void on_role(void *user)
{
	struct dash_metrics *dm = user;
	struct ht_err err = { "" };
	struct monitor_role r;

	monitor_role(dm->m, &r);
	if (dm->listen && !dm->http && r.kind == MONITOR_POLLER)
		dm->http = metrics_http_start(dm->loop, dm->listen, monitor_metrics_text, dm->m, &err);
}

/* A bad address fails at start, viewer or not. */
static int start_metrics(struct dash_metrics *dm)
{
	struct ht_err err = { "" };
	struct monitor_role r;

	if (!dm->listen || dm->http)
		return 0;   /* none asked, or already serving: it became the poller while deciding */
	if (!(dm->http = metrics_http_start(dm->loop, dm->listen, monitor_metrics_text, dm->m, &err))) {
		fprintf(stderr, "healthtop: %s\n", err.msg);
		return -1;
	}
	monitor_role(dm->m, &r);
	if (r.kind != MONITOR_POLLER) {
		metrics_http_stop(dm->http);
		dm->http = NULL;
	}
	return 0;
}

int cmd_dashboard(int argc, char **argv)
{
	struct dash_opts o = { .theme = NULL };
	struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
	struct ht_config *cfg = calloc(1, sizeof(*cfg));
	struct demo *demo = NULL;
	struct monitor *m = NULL;
	struct dash_metrics dm = { .loop = loop };
	struct ht_err err = { "" };
	struct monitor_hooks none = { NULL, NULL, NULL };
	struct theme theme;
	bool color;
	char dbbuf[1024];
	const char *db;
	int rc = HT_EXIT_USAGE;

	signal(SIGPIPE, SIG_IGN);
	if (!cfg || parse_opts(argc, argv, &o) < 0 || pick_theme(&o, &theme, &color) < 0 ||
	    cli_load_config(&o.common, loop, &demo, cfg) < 0 || !(db = cli_db_path(&o.common, dbbuf, sizeof(dbbuf)))) {
		if (cfg)
			config_free(cfg);
		free(cfg);
		goto out;
	}
	if (ui_check_terminal(&err) < 0) {
		/* Every input checked, nothing created yet: no database for a screen that cannot be. */
		fprintf(stderr, "healthtop: %s\n", err.msg);
		config_free(cfg);
		free(cfg);
		goto out;
	}
	dm.listen = o.metrics_listen;
	if (!(dm.m = m = monitor_new(loop, cfg, db, &none, &err)) || monitor_enable_lease(m, on_role, &dm, &err) < 0) {
		fprintf(stderr, "healthtop: %s\n", err.msg);
		goto out;
	}
	if (dm.listen)
		monitor_metrics_enable(m);
	monitor_lease_wait(m, LEASE_WAIT_S);   /* a viewer shows the poller's targets from the start */
	if (start_metrics(&dm) < 0 || ui_run(loop, m, &theme, color, &err) < 0) {
		if (err.msg[0])
			fprintf(stderr, "healthtop: %s\n", err.msg);
		goto out;
	}
	rc = HT_EXIT_OK;
out:
	metrics_http_stop(dm.http);   /* before the monitor it reads */
	monitor_free(m);
	demo_stop(demo);
	return rc;
}

#include "autoconfig.h"
#include <ev.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define STOP_WAIT_S 10.0

#include "healthtop/core/clock.h"
#include "healthtop/cmd/cli.h"
#include "healthtop/cmd/cmd.h"
#include "healthtop/monitor/monitor.h"
#include "healthtop/monitor/monitor_metrics.h"
#include "healthtop/monitor/monitor_shard.h"
#include "healthtop/store/store_shard.h"
#include "healthtop/monitor/monitor_viewer.h"
#include "healthtop/serve/metrics_http.h"
#include "healthtop/cmd/check_report.h"

struct daemon_ctx {
	struct ev_loop *loop;
	struct monitor *m;
	struct cli_common opts;
	const char *metrics_listen;
	const char *location;   /* --location: PostgreSQL pollers checking every target from there */
	bool lost;   /* the lease went to another process */
	ev_signal sigterm, sigint, sighup;
};

static const char usage[] =
	"usage: healthtop daemon [-c FILE] [--db PATH] [--demo] [--metrics-listen ADDR:PORT] [--location NAME]\n";

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void logf_(const char *fmt, ...)
{
	char when[40];
	va_list ap;

	clock_iso8601(clock_wall_ms(), false, when, sizeof(when));
	fprintf(stderr, "%s ", when);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void on_result(void *user, size_t idx, bool changed, enum ht_class from)
{
	struct daemon_ctx *d = user;
	const struct ht_target *t = monitor_target(d->m, idx);
	const struct target_state *s = monitor_state(d->m, idx);

	/* The first result this process got, even when history read back at start filled the
	 * ring: a restarted daemon says what it sees instead of keeping silent until a change. */
	if (monitor_live_results(d->m, idx) == 1)
		logf_("%s: %s (%s)", t->name, ht_class_name(s->last.cls), s->last.reason);
	else if (changed)
		logf_("%s: %s -> %s (%s)", t->name, ht_class_name(from), ht_class_name(s->last.cls), s->last.reason);
}

static void on_storage(void *user, const char *msg)
{
	if (msg)
		logf_("storage error (results kept in memory and retried): %s", msg);
	else
		logf_("storage recovered");
}

static void on_dropped(void *user, uint64_t count, uint64_t total, const char *why)
{
	logf_("%llu results dropped (%llu since start): %s", (unsigned long long)count,
	      (unsigned long long)total, why);
}

/* Polling, or standing by while another process polls this database. */
static void on_role(void *user)
{
	struct daemon_ctx *d = user;
	struct monitor_role r;

	monitor_role(d->m, &r);
	if (r.lost) {
		/* it stalled past the stale time and was replaced: two must never probe at once */
		logf_("another process took over polling this database (this one stalled); exiting");
		d->lost = true;
		ev_break(d->loop, EVBREAK_ALL);
	} else if (r.kind == MONITOR_POLLER)
		logf_("polling: no other healthtop polls this database");
	else if (r.kind == MONITOR_VIEWER)
		logf_("viewer of pid %lld on %s: standing by, taking over if it stops%s%s", (long long)r.pid, r.host,
		      r.warning ? "; " : "", r.warning ? r.warning : "");
}

/* PostgreSQL: every daemon polls the targets of the shards it leases. */
static void on_shards(void *user)
{
	struct daemon_ctx *d = user;
	struct monitor_shards sh;

	if (monitor_shards(d->m, &sh) < 0)
		return;
	if (sh.error)
		logf_("shards: %d of %d held (%zu targets) as %s; the last round failed: %s", sh.held, STORE_SHARDS,
		      sh.targets, sh.id, sh.error);
	else
		logf_("shards: %d of %d held (%zu targets) as %s", sh.held, STORE_SHARDS, sh.targets, sh.id);
}

static void on_alert_log(void *user, const char *line)
{
	logf_("%s", line);
}

static void on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	logf_("%s: stopping", w->signum == SIGTERM ? "SIGTERM" : "SIGINT");
	ev_break(loop, EVBREAK_ALL);
}

static void on_reload(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon_ctx *d = w->data;
	struct ht_config *cfg = calloc(1, sizeof(*cfg));
	struct ht_err err = { "" };
	struct monitor_role r;

	monitor_role(d->m, &r);
	if (r.kind == MONITOR_VIEWER) {   /* it shows, and would poll, the poller's targets */
		logf_("SIGHUP: standing by as a viewer of pid %lld: reload that poller instead", (long long)r.pid);
		free(cfg);
		return;
	}
	if (d->opts.demo || !cfg) {
		logf_("SIGHUP: %s", cfg ? "the demo fleet has nothing to reload" : "out of memory");
		free(cfg);
		return;
	}
	if (cli_load_config(&d->opts, loop, NULL, cfg) < 0) {
		logf_("SIGHUP: reload failed, keeping the old config (see above)");
		free(cfg);
		return;
	}
	if (monitor_reload(d->m, cfg, &err) < 0) {
		logf_("SIGHUP: reload failed, keeping the old config: %s", err.msg);
		config_free(cfg);
		free(cfg);
		return;
	}
	logf_("SIGHUP: reloaded, %zu targets", monitor_count(d->m));
}

static int parse_opts(int argc, char **argv, struct daemon_ctx *d)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_METRICS_LONGOPT,
		{ "location", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
		if (cli_common_opt(ch, optarg, &d->opts))
			continue;
		switch (ch) {
		case 'h': fputs(usage, stdout); exit(HT_EXIT_OK);
		case CLI_METRICS_OPT: d->metrics_listen = optarg; break;
		case 'L': d->location = optarg; break;
		default:
			return cli_opt_error("healthtop daemon", ch, argv, usage);
		}
	}
	if (cli_no_operands("healthtop daemon", argc, argv, usage) < 0)
		return -1;
	return 0;
}

static void watch_signals(struct daemon_ctx *d)
{
	ev_signal_init(&d->sigterm, on_stop, SIGTERM);
	ev_signal_init(&d->sigint, on_stop, SIGINT);
	ev_signal_init(&d->sighup, on_reload, SIGHUP);
	d->sighup.data = d;
	ev_signal_start(d->loop, &d->sigterm);
	ev_signal_start(d->loop, &d->sigint);
	ev_signal_start(d->loop, &d->sighup);
}

int cmd_daemon(int argc, char **argv)
{
	struct daemon_ctx d = { .loop = ev_default_loop(EVFLAG_AUTO) };
	struct ht_config *cfg = calloc(1, sizeof(*cfg));
	struct demo *demo = NULL;
	struct metrics_http *metrics = NULL;
	struct ht_err err = { "" };
	struct monitor_hooks hooks = { on_result, on_storage, &d };
	char dbbuf[1024], shown[1024];
	const char *db;

	signal(SIGPIPE, SIG_IGN);
	if (!cfg || parse_opts(argc, argv, &d) < 0 || cli_load_config(&d.opts, d.loop, &demo, cfg) < 0 ||
	    !(db = cli_db_path(&d.opts, dbbuf, sizeof(dbbuf)))) {
		if (cfg)
			config_free(cfg);
		free(cfg);
		demo_stop(demo);
		return HT_EXIT_USAGE;
	}
	if (d.location && (!d.location[0] || !store_is_postgres(db))) {
		fprintf(stderr, "healthtop daemon: --location needs a name and a PostgreSQL --db (several pollers"
			" share a fleet only there)\n%s", usage);
		config_free(cfg);
		free(cfg);
		demo_stop(demo);
		return HT_EXIT_USAGE;
	}
	size_t n = cfg->ntargets;
	unsigned want = (unsigned)cfg->concurrency;
	if (!(d.m = monitor_new(d.loop, cfg, db, &hooks, &err))) {
		fprintf(stderr, "healthtop: %s\n", err.msg);
		demo_stop(demo);
		return HT_EXIT_USAGE;
	}
	monitor_set_drop_hook(d.m, on_dropped, &d);
	monitor_set_alert_log(d.m, on_alert_log, &d);
	if ((store_is_postgres(db) ? monitor_enable_shards(d.m, NULL, d.location, on_shards, &d, &err)
				   : monitor_enable_lease(d.m, on_role, &d, &err)) < 0) {
		fprintf(stderr, "healthtop: %s\n", err.msg);
		monitor_free(d.m);
		demo_stop(demo);
		return HT_EXIT_USAGE;
	}
	if (d.metrics_listen && !(metrics = metrics_http_start(d.loop, d.metrics_listen, monitor_metrics_text, d.m, &err))) {
		fprintf(stderr, "healthtop: %s\n", err.msg);
		monitor_free(d.m);
		demo_stop(demo);
		return HT_EXIT_USAGE;
	}
	watch_signals(&d);
	store_db_shown(db, shown, sizeof(shown));   /* a PostgreSQL conninfo's password is never logged */
	logf_("started: %zu targets, database %s", n, shown);
	if (metrics)
		logf_("serving /metrics on %s (port %u)", d.metrics_listen, metrics_http_port(metrics));
	if (monitor_concurrency(d.m) < want)
		logf_("concurrency %u is more than the open-file limit allows; using %u", want, monitor_concurrency(d.m));
	if (d.metrics_listen)
		monitor_metrics_enable(d.m);
	monitor_start(d.m);
	ev_run(d.loop, 0);
	/* Another process may hold the database: wait for it a bounded time, then say what is lost. */
	metrics_http_stop(metrics);   /* before the monitor it reads */
	size_t unwritten = monitor_close(d.m, STOP_WAIT_S);
	demo_stop(demo);
	if (d.lost)
		return HT_EXIT_FAILED;
	if (unwritten > 0) {
		logf_("stopped: %zu results could not be written to %s within %.0f s", unwritten, shown, STOP_WAIT_S);
		return HT_EXIT_FAILED;
	}
	logf_("stopped");
	return HT_EXIT_OK;
}

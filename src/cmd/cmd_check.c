#include "autoconfig.h"
#include <errno.h>
#include <curl/curl.h>
#include <ev.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "healthtop/core/observe.h"
#include "healthtop/cmd/cli.h"
#include "healthtop/cmd/cmd.h"
#include "healthtop/serve/demo.h"
#include "healthtop/probe/probe.h"
#include "healthtop/cmd/check_notify.h"
#include "healthtop/cmd/check_report.h"
#include "healthtop/cmd/cmd_io.h"
#include "healthtop/store/store.h"

enum format { FORMAT_TABLE, FORMAT_JSON };

struct check_opts {
	struct cli_common common;
	enum format format;
	int concurrency;   /* 0: from the config */
	bool notify;       /* --notify: announce changes as a poller would */
};

/* One observation is judged at a time: the report keeps what it needs of each. */
struct check_run {
	struct ev_loop *loop;
	struct check_report *rep;
	size_t remaining;
	bool out_of_memory;
	struct observation obs;   /* judged as the daemon would; reused for every result */
};

/* What a submitted check reports back to: its run and its target's place. */
struct check_slot {
	struct check_run *run;
	size_t idx;
};

static const char usage[] =
	"usage: healthtop check [-c FILE] [--db PATH] [--format table|json] [--concurrency N] [--notify] [--demo]\n";

static int parse_opts(int argc, char **argv, struct check_opts *o)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "format", required_argument, NULL, 'f' },
		{ "concurrency", required_argument, NULL, 'n' },
		{ "notify", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
		char *end;
		long v;
		if (cli_common_opt(ch, optarg, &o->common))
			continue;
		switch (ch) {
		case 'f':
			if (strcmp(optarg, "table") == 0)
				o->format = FORMAT_TABLE;
			else if (strcmp(optarg, "json") == 0)
				o->format = FORMAT_JSON;
			else {
				fprintf(stderr, "healthtop check: --format: \"%s\" is not table or json\n", optarg);
				return -1;
			}
			break;
		case 'n':
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || v < 1 || v > 10000) {
				fprintf(stderr, "healthtop check: --concurrency: \"%s\" is not an integer 1..10000\n", optarg);
				return -1;
			}
			o->concurrency = (int)v;
			break;
		case 'N':
			o->notify = true;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(HT_EXIT_OK);
		default:
			return cli_opt_error("healthtop check", ch, argv, usage);
		}
	}
	if (cli_no_operands("healthtop check", argc, argv, usage) < 0)
		return -1;
	return 0;
}

static void on_checked(void *user, struct probe_result *r)
{
	struct check_slot *slot = user;
	struct check_run *run = slot->run;

	/* No previous state: `check` reports each result on its own; the store records changes. */
	observe(&run->rep->cfg->targets[slot->idx], r, NULL, (int64_t)time(NULL), &run->obs);
	if (report_set(run->rep, slot->idx, &run->obs) < 0)
		run->out_of_memory = true;
	if (--run->remaining == 0)
		ev_break(run->loop, EVBREAK_ALL);
}

/* Runs every target once, all at once within the concurrency limit. */
static int sweep(struct ev_loop *loop, const struct ht_config *cfg, unsigned concurrency,
		 struct check_report *rep)
{
	struct check_run *run = calloc(1, sizeof(*run));
	struct check_slot *slots = calloc(cfg->ntargets ? cfg->ntargets : 1, sizeof(*slots));
	struct ht_err err = { "" };
	struct probe *p = run && slots ? probe_new(loop, concurrency, &err) : NULL;
	int rc = -1;

	if (!p) {
		fprintf(stderr, "healthtop: %s\n", run && slots ? err.msg : "out of memory");
		goto out;
	}
	*run = (struct check_run){ .loop = loop, .rep = rep, .remaining = cfg->ntargets };
	if (probe_concurrency(p) < concurrency)
		fprintf(stderr, "healthtop: concurrency %u is more than the open-file limit allows; using %u\n",
			concurrency, probe_concurrency(p));
	for (size_t i = 0; i < cfg->ntargets; i++) {
		slots[i] = (struct check_slot){ run, i };
		if (probe_submit(p, &cfg->targets[i], on_checked, &slots[i]) < 0) {
			fprintf(stderr, "healthtop: out of memory queueing checks\n");
			goto out;
		}
	}
	if (run->remaining > 0)
		ev_run(loop, 0);
	rc = 0;
	if (run->out_of_memory) {
		fprintf(stderr, "healthtop: out of memory\n");
		rc = -1;
	}
out:
	probe_free(p);
	free(slots);
	free(run);
	return rc;
}

/* Storage trouble is reported as such; it never changes what the checks found. */
static void record(const char *db_path, const struct check_report *rep)
{
	const struct ht_config *cfg = rep->cfg;
	struct ht_err err = { "" };
	struct store *s = NULL;
	struct store_row *rows = calloc(cfg->ntargets ? cfg->ntargets : 1, sizeof(*rows));

	if (!rows || store_open(db_path, &s, &err) < 0 || store_targets_begin(s, &err) < 0)
		goto fail;
	for (size_t i = 0; i < cfg->ntargets; i++) {
		const struct ht_target *t = &cfg->targets[i];
		report_row(rep, i, &rows[i]);
		if (store_target_id(s, t->name, t->project, t->display_url, &rows[i].target_id, &err) < 0)
			goto fail;
	}
	if (store_targets_end(s, &err) < 0 || store_append_batch(s, rows, cfg->ntargets, &err) < 0)
		goto fail;
	/* One bounded step: a 'check' run from cron keeps the database in shape too. */
	struct store_retention ret = { cfg->retention.raw_days, cfg->retention.hourly_days, cfg->retention.daily_days };
	int deleted;
	if (store_prune_step(s, &ret, (int64_t)time(NULL) * 1000, 5000, &deleted, &err) < 0)
		goto fail;
	store_close(s);
	free(rows);
	return;
fail:
	fprintf(stderr, "healthtop: storage error, results not recorded: %s\n", rows ? err.msg : "out of memory");
	store_close(s);
	free(rows);
}

static void notify_changes(struct ev_loop *loop, const char *db, const struct check_notify *cn,
			   const struct check_report *rep)
{
	const struct ht_config *cfg = rep->cfg;
	struct check_outcome *out = calloc(cfg->ntargets ? cfg->ntargets : 1, sizeof(*out));

	if (!out) {
		fprintf(stderr, "healthtop check: --notify: out of memory, nobody was notified\n");
		return;
	}
	for (size_t i = 0; i < cfg->ntargets; i++)
		out[i] = (struct check_outcome){ rep->items[i].cls, report_reason(rep, i),
						 rep->items[i].checked_at_ms };
	check_notify_send(loop, cfg, db, cn, out);
	free(out);
}

int cmd_check(int argc, char **argv)
{
	struct check_opts o = { .format = FORMAT_TABLE };
	struct ht_config cfg;
	struct demo *demo = NULL;
	struct ev_loop *loop;
	char dbbuf[1024];
	const char *db;
	int rc = HT_EXIT_USAGE;

	memset(&cfg, 0, sizeof(cfg));
	if (parse_opts(argc, argv, &o) < 0)
		return HT_EXIT_USAGE;
	loop = ev_default_loop(EVFLAG_AUTO);
	if (cli_load_config(&o.common, loop, &demo, &cfg) < 0 || !(db = cli_db_path(&o.common, dbbuf, sizeof(dbbuf))))
		goto out;
	struct check_report rep;
	ev_tstamp t0 = ev_time();
	if (report_init(&rep, &cfg) < 0) {
		fprintf(stderr, "healthtop: out of memory\n");
		rc = HT_EXIT_DOWN;
		goto out;
	}
	if (sweep(loop, &cfg, (unsigned)(o.concurrency ? o.concurrency : cfg.concurrency), &rep) < 0) {
		report_fini(&rep);
		rc = HT_EXIT_DOWN;   /* we could not look: do not claim health */
		goto out;
	}
	double elapsed = ev_time() - t0;
	struct check_notify cn = { 0 };
	bool notify = o.notify && cfg.nnotify > 0 && check_notify_before(db, &cfg, &cn) == 0;
	record(db, &rep);
	if (notify)
		notify_changes(loop, db, &cn, &rep);
	check_notify_fini(&cn);
	if (o.format == FORMAT_JSON)
		report_json(stdout, &rep);
	else
		report_table(stdout, &rep, elapsed, isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
	rc = report_exit_code(&rep);
	if (cmd_output_close("healthtop check", stdout, "standard output", ferror(stdout) ? errno : 0) < 0)
		rc = HT_EXIT_FAILED;   /* the verdicts did not reach their reader */
	report_fini(&rep);
out:
	config_free(&cfg);
	demo_stop(demo);
	return rc;
}

/* healthtop mute / unmute: maintenance windows from a shell. The mute goes into the database,
 * where every running dashboard and daemon picks it up within a second. */
#include "autoconfig.h"
#include <ev.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/cmd/cli.h"
#include "healthtop/cmd/cmd.h"
#include "healthtop/core/clock.h"
#include "healthtop/core/sanitize.h"
#include "healthtop/core/timeparse.h"
#include "healthtop/store/store_alert.h"

#define REASON_MAX 200

static const char mute_usage[] =
	"usage: healthtop mute [-c FILE] [--db PATH] [--demo] NAME|project:NAME DURATION [--reason TEXT]\n"
	"  DURATION: 90s, 30m, 2h, 1d, 2w from now, or an end time like 2026-11-24T18:00Z\n";
static const char unmute_usage[] = "usage: healthtop unmute [-c FILE] [--db PATH] [--demo] NAME|project:NAME\n";

struct mute_args {
	struct cli_common common;
	const char *scope;
	const char *duration;
	const char *reason;
};

static int parse_args(int argc, char **argv, bool mute, struct mute_args *a)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "reason", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = mute ? "healthtop mute" : "healthtop unmute";
	const char *usage = mute ? mute_usage : unmute_usage;
	const char *words[3];
	int nwords = 0, ch;

	optind = 1;
	opterr = 0;
	/* '-' first: operands come back in order (1), so options may follow them */
	while ((ch = getopt_long(argc, argv, "-:c:h", longopts, NULL)) != -1) {
		if (cli_common_opt(ch, optarg, &a->common))
			continue;
		switch (ch) {
		case 1:
			if (nwords == 3)
				break;
			words[nwords++] = optarg;
			break;
		case 'r':
			if (!mute) {
				fprintf(stderr, "%s: --reason is for healthtop mute\n%s", cmd, usage);
				return -1;
			}
			a->reason = optarg;
			break;
		case 'h': fputs(usage, stdout); exit(HT_EXIT_OK);
		default:
			return cli_opt_error(cmd, ch, argv, usage);
		}
	}
	if (nwords != (mute ? 2 : 1)) {
		fprintf(stderr, "%s: %s\n%s", cmd, nwords < (mute ? 2 : 1) ? "missing arguments" : "too many arguments", usage);
		return -1;
	}
	a->scope = words[0];
	a->duration = mute ? words[1] : NULL;
	if (a->reason && (strlen(a->reason) > REASON_MAX || !sanitize_is_clean(a->reason))) {
		fprintf(stderr, "%s: --reason: at most %d printable characters\n", cmd, REASON_MAX);
		return -1;
	}
	return 0;
}

/* "30m" counts from now; an ISO time is the end itself and must lie ahead. */
static int parse_until(const char *s, int64_t now_ms, int64_t *until)
{
	int64_t at0, at1;
	const int64_t shift = 1000000000000LL;

	if (timeparse(s, 0, &at0) < 0 || timeparse(s, shift, &at1) < 0)
		return -1;
	*until = at1 - at0 == shift ? now_ms - at0 : at0;   /* relative: at0 is minus the duration */
	return *until > now_ms ? 0 : -1;
}

static bool scope_known(const struct ht_config *cfg, const char *scope)
{
	bool project = strncmp(scope, "project:", 8) == 0;

	for (size_t i = 0; i < cfg->ntargets; i++)
		if (strcmp(project ? cfg->targets[i].project : cfg->targets[i].name, project ? scope + 8 : scope) == 0)
			return true;
	return false;
}

/* The config says which names exist: a typo must not mute nothing in silence. */
static int check_scope(const struct mute_args *a, const char *cmd)
{
	struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
	struct ht_config cfg;
	struct demo *demo = NULL;
	int rc;

	if (cli_load_config(&a->common, loop, &demo, &cfg) < 0) {
		demo_stop(demo);
		return HT_EXIT_USAGE;
	}
	rc = scope_known(&cfg, a->scope) ? HT_EXIT_OK : HT_EXIT_FAILED;
	if (rc != HT_EXIT_OK)
		fprintf(stderr, "%s: no %s \"%s\" in %s\n", cmd, strncmp(a->scope, "project:", 8) == 0 ? "project" : "target",
			strncmp(a->scope, "project:", 8) == 0 ? a->scope + 8 : a->scope, cfg.source);
	config_free(&cfg);
	demo_stop(demo);
	return rc;
}

static int run(int argc, char **argv, bool mute)
{
	const char *cmd = mute ? "healthtop mute" : "healthtop unmute";
	struct mute_args a = { 0 };
	struct store *st = NULL;
	struct ht_err err = { "" };
	char dbbuf[1024], when[40];
	const char *db;
	int64_t now = clock_wall_ms(), until = 0;
	int rc;

	if (parse_args(argc, argv, mute, &a) < 0)
		return HT_EXIT_USAGE;
	if (mute && parse_until(a.duration, now, &until) < 0) {
		fprintf(stderr, "%s: \"%s\" is not a duration (30m, 2h, 1d) or a time still to come\n%s", cmd,
			a.duration, mute_usage);
		return HT_EXIT_USAGE;
	}
	if ((rc = check_scope(&a, cmd)) != HT_EXIT_OK)
		return rc;
	if (!(db = cli_db_path(&a.common, dbbuf, sizeof(dbbuf))))
		return HT_EXIT_USAGE;
	if (store_open(db, &st, &err) < 0) {
		fprintf(stderr, "%s: %s\n", cmd, err.msg);
		return HT_EXIT_FAILED;
	}
	bool was = false;
	struct store_mute_row row = { a.scope, until, a.reason ? a.reason : "", now };
	rc = mute ? store_mute_set(st, &row, &err) : store_mute_clear(st, a.scope, now, &was, &err);
	store_close(st);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", cmd, err.msg);
		return HT_EXIT_FAILED;
	}
	clock_iso8601(until, false, when, sizeof(when));
	if (mute)
		printf("%s muted until %s\n", a.scope, when);
	else
		printf("%s %s\n", a.scope, was ? "unmuted" : "was not muted");
	return HT_EXIT_OK;
}

int cmd_mute(int argc, char **argv)
{
	return run(argc, argv, true);
}

int cmd_unmute(int argc, char **argv)
{
	return run(argc, argv, false);
}

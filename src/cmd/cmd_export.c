#include "autoconfig.h"
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "healthtop/core/clock.h"
#include "healthtop/cmd/cli.h"
#include "healthtop/cmd/cmd.h"
#include "healthtop/export/export_format.h"
#include "healthtop/store/store.h"
#include "healthtop/core/timeparse.h"

#define MAX_SELECT 1024

struct export_opts {
	struct cli_common common;
	const char *since, *until, *out;
	const char *targets[MAX_SELECT + 1];
	const char *projects[MAX_SELECT + 1];
	size_t ntargets, nprojects;
	enum export_format format;
	int rollup_s;   /* 0: raw results */
};

struct sink {
	FILE *f;
	enum export_format format;
	unsigned long long rows;
};

static const char usage[] =
	"usage: healthtop export [--db PATH] [--since T] [--until T] [--target NAME]... [--project NAME]...\n"
	"                        [--format csv|jsonl] [-o FILE] [--rollup hour|day]\n"
	"       T: 2026-11-23, 2026-11-23T10:00:00Z, 2026-11-23T12:00:00+02:00, or 24h, 7d, 30m ago\n";

static int bad(const char *what, const char *value, const char *why)
{
	fprintf(stderr, "healthtop export: %s: \"%s\" %s\n", what, value, why);
	return -1;
}

static int add_name(const char **list, size_t *n, const char *name, const char *opt)
{
	if (*n == MAX_SELECT)
		return bad(opt, name, "is one too many (at most 1024)");
	list[(*n)++] = name;
	list[*n] = NULL;
	return 0;
}

static int parse_opts(int argc, char **argv, struct export_opts *o)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' }, { "demo", no_argument, NULL, 'D' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' }, { "target", required_argument, NULL, 't' },
		{ "project", required_argument, NULL, 'p' }, { "format", required_argument, NULL, 'f' },
		{ "rollup", required_argument, NULL, 'r' }, { "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		if (cli_common_opt(ch, optarg, &o->common))
			continue;
		switch (ch) {
		case 's': o->since = optarg; break;
		case 'u': o->until = optarg; break;
		case 'o': o->out = optarg; break;
		case 't': if (add_name(o->targets, &o->ntargets, optarg, "--target") < 0) return -1; break;
		case 'p': if (add_name(o->projects, &o->nprojects, optarg, "--project") < 0) return -1; break;
		case 'f':
			if (strcmp(optarg, "csv") == 0)
				o->format = EXPORT_CSV;
			else if (strcmp(optarg, "jsonl") == 0)
				o->format = EXPORT_JSONL;
			else
				return bad("--format", optarg, "is not csv or jsonl");
			break;
		case 'r':
			if (strcmp(optarg, "hour") == 0)
				o->rollup_s = 3600;
			else if (strcmp(optarg, "day") == 0)
				o->rollup_s = 86400;
			else
				return bad("--rollup", optarg, "is not hour or day");
			break;
		case 'h': fputs(usage, stdout); exit(HT_EXIT_OK);
		default:
			return cli_opt_error("healthtop export", ch, argv, usage);
		}
	}
	if (cli_no_operands("healthtop export", argc, argv, usage) < 0)
		return -1;
	return 0;
}

static int build_query(const struct export_opts *o, struct store_query *q)
{
	int64_t now = clock_wall_ms();

	q->since_ms = 0;
	q->until_ms = INT64_MAX;
	if (o->since && timeparse(o->since, now, &q->since_ms) < 0)
		return bad("--since", o->since, "is not a time (2026-11-23, 2026-11-23T10:00:00Z, 24h, 7d)");
	if (o->until && timeparse(o->until, now, &q->until_ms) < 0)
		return bad("--until", o->until, "is not a time (2026-11-23, 2026-11-23T10:00:00Z, 24h, 7d)");
	if (q->until_ms <= q->since_ms)
		return bad("--until", o->until, "is not after --since");
	q->names = o->ntargets ? o->targets : NULL;
	q->projects = o->nprojects ? o->projects : NULL;
	return 0;
}

static int write_raw(void *user, const struct export_row *row)
{
	struct sink *k = user;

	if (export_row(k->f, k->format, row) < 0)
		return -1;
	k->rows++;
	return 0;
}

static int write_rollup(void *user, const struct export_rollup *row)
{
	struct sink *k = user;

	if (export_rollup_row(k->f, k->format, row) < 0)
		return -1;
	k->rows++;
	return 0;
}

int cmd_export(int argc, char **argv)
{
	struct export_opts o = { .format = EXPORT_CSV };
	struct store_query q;
	struct store *s = NULL;
	struct ht_err err = { "" };
	struct sink k = { stdout, EXPORT_CSV, 0 };
	char dbbuf[1024];
	const char *db;
	static char buf[1 << 16];

	if (parse_opts(argc, argv, &o) < 0 || build_query(&o, &q) < 0 || !(db = cli_db_path(&o.common, dbbuf, sizeof(dbbuf))))
		return HT_EXIT_USAGE;
	if (store_open_readonly(db, &s, &err) < 0) {
		fprintf(stderr, "healthtop export: %s\n", err.msg);
		return HT_EXIT_FAILED;
	}
	if (o.out && !(k.f = fopen(o.out, "w"))) {
		fprintf(stderr, "healthtop export: %s: %s\n", o.out, strerror(errno));
		store_close(s);
		return HT_EXIT_FAILED;
	}
	setvbuf(k.f, buf, _IOFBF, sizeof(buf));
	k.format = o.format;
	int rc;
	if (o.rollup_s) {
		export_rollup_header(k.f, o.format);
		rc = store_export_rollup(s, &q, o.rollup_s, write_rollup, &k, &err);
	} else {
		export_header(k.f, o.format);
		rc = store_export(s, &q, write_raw, &k, &err);
	}
	store_close(s);
	if (fflush(k.f) != 0 || rc > 0 || ferror(k.f))
		fprintf(stderr, "healthtop export: writing %s: %s\n", o.out ? o.out : "standard output", strerror(errno));
	else if (rc < 0)
		fprintf(stderr, "healthtop export: %s\n", err.msg);
	bool failed = rc != 0 || ferror(k.f);
	if (k.f != stdout && fclose(k.f) != 0)
		failed = true;
	return failed ? HT_EXIT_FAILED : HT_EXIT_OK;
}

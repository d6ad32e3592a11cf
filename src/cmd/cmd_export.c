#include "autoconfig.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "healthtop/core/clock.h"
#include "healthtop/cmd/cli.h"
#include "healthtop/cmd/cmd.h"
#include "healthtop/cmd/cmd_io.h"
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
	int write_errno;   /* why the first failed write failed */
};

static const char usage[] =
	"usage: healthtop export [--db PATH | --demo] [--since T] [--until T] [--target NAME]...\n"
	"                        [--project NAME]... [--format csv|jsonl] [-o FILE] [--rollup hour|day]\n"
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

static int write_raw(void *user, const struct store_result *row)
{
	struct sink *k = user;

	if (export_row(k->f, k->format, row) < 0) {
		k->write_errno = errno;
		return 1;
	}
	k->rows++;
	return 0;
}

static int write_rollup(void *user, const struct store_rollup *row)
{
	struct sink *k = user;

	if (export_rollup_row(k->f, k->format, row) < 0) {
		k->write_errno = errno;
		return 1;
	}
	k->rows++;
	return 0;
}

/* -o FILE: created 0600 like the database, whatever the umask (history names internal
 * hosts); a file that exists keeps its mode. */
static FILE *open_output(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd >= 0 && fchmod(fd, 0600) != 0) {
		close(fd);
		return NULL;
	}
	if (fd < 0 && errno == EEXIST)
		fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}

static int export_all(struct store *s, const struct export_opts *o, const struct store_query *q,
		      struct sink *k, struct ht_err *err)
{
	if (o->rollup_s) {
		export_rollup_header(k->f, o->format);
		return store_export_rollup(s, q, o->rollup_s, write_rollup, k, err);
	}
	export_header(k->f, o->format);
	return store_export(s, q, write_raw, k, err);
}

int cmd_export(int argc, char **argv)
{
	static const char cmd[] = "healthtop export";
	struct export_opts o = { .format = EXPORT_CSV };
	struct store_query q;
	struct store *s = NULL;
	struct ht_err err = { "" };
	struct sink k = { stdout, EXPORT_CSV, 0, 0 };
	static char buf[1 << 16];

	if (parse_opts(argc, argv, &o) < 0 || build_query(&o, &q) < 0)
		return HT_EXIT_USAGE;
	if (cmd_history_open(cmd, &o.common, &s) < 0)
		return HT_EXIT_FAILED;
	/* A name that selects nothing is a mistake, not an empty export. */
	if (cmd_history_names(cmd, s, o.targets, o.ntargets, false) < 0 ||
	    cmd_history_names(cmd, s, o.projects, o.nprojects, true) < 0) {
		store_close(s);
		return HT_EXIT_FAILED;
	}
	if (o.out && !(k.f = open_output(o.out))) {
		fprintf(stderr, "%s: %s: %s\n", cmd, o.out, strerror(errno));
		store_close(s);
		return HT_EXIT_FAILED;
	}
	setvbuf(k.f, buf, _IOFBF, sizeof(buf));
	k.format = o.format;
	int rc = export_all(s, &o, &q, &k, &err);
	if (rc < 0)
		fprintf(stderr, "%s: %s\n", cmd, err.msg);
	store_close(s);
	if (cmd_output_close(cmd, k.f, o.out ? o.out : "standard output", k.write_errno) < 0)
		rc = -1;
	return rc != 0 ? HT_EXIT_FAILED : HT_EXIT_OK;
}

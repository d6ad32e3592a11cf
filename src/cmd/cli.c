#include "autoconfig.h"
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <unistd.h>
#include "healthtop/cmd/cli.h"
#include "healthtop/store/store.h"

/* The installed example, or where it is in the source: the README's quick start builds and runs
 * in the source tree without installing, and a hint naming a file that is not there is worse
 * than none. */
static void example_config(char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/example-config.json", HT_DOCDIR);

	if (n < 0 || (size_t)n >= size || access(buf, R_OK) != 0)
		snprintf(buf, size, "docs/example-config.json in healthtop's source");
}

int cli_load_config(const struct cli_common *o, struct ev_loop *loop, struct demo **demo,
		    struct ht_config *cfg)
{
	struct ht_err err = { "" };
	char path[1024];
	const char *file = o->config;

	if (o->demo && o->config) {
		fprintf(stderr, "healthtop: --demo and -c cannot be used together\n");
		return -1;
	}
	if (o->demo) {
		if (!(*demo = demo_start(loop, &err)) || demo_config(*demo, cfg, &err) < 0) {
			fprintf(stderr, "healthtop: %s\n", err.msg);
			return -1;
		}
		return 0;
	}
	if (!file && !(file = config_default_path(path, sizeof(path)))) {
		fprintf(stderr, "healthtop: no config: set HOME or XDG_CONFIG_HOME, or use -c FILE\n");
		return -1;
	}
	int loaded = config_load(file, cfg, &err);
	/* The parse's JSON tree (about 1 KB a target) was just freed between the config's strings:
	 * its pages go back now rather than stay in the heap for the life of a daemon. */
	malloc_trim(0);
	if (loaded < 0) {
		fprintf(stderr, "healthtop: %s\n", err.msg);
		if (!o->config && access(file, F_OK) != 0) { /* a first run: say how to start */
			char example[1100];

			example_config(example, sizeof(example));
			fprintf(stderr, "healthtop: no config yet. To look around: healthtop --demo (a built-in demo fleet)\n"
				"healthtop: to watch your services, write %s or pass -c FILE,\n"
				"healthtop:   starting from %s; every key is in docs/config.md\n",
				file, example);
		}
		return -1;
	}
	return 0;
}

const char *cli_db_path(const struct cli_common *o, char *buf, size_t size)
{
	/* The demo keeps its own history so it never mixes with a real fleet's. */
	const char *p = o->db ? o->db : store_default_path(o->demo ? "demo.db" : "history.db", buf, size);

	if (!p)
		fprintf(stderr, "healthtop: no database path: set HOME or XDG_STATE_HOME, or use --db PATH\n");
	return p;
}

bool cli_common_opt(int ch, const char *arg, struct cli_common *o)
{
	switch (ch) {
	case 'c': o->config = arg; return true;
	case 'd': o->db = arg; return true;
	case 'D': o->demo = true; return true;
	default: return false;
	}
}

int cli_opt_error(const char *cmd, int ch, char **argv, const char *usage)
{
	if (ch == ':')
		fprintf(stderr, "%s: %s needs a value\n%s", cmd, argv[optind - 1], usage);
	else
		fprintf(stderr, "%s: unknown option %s\n%s", cmd, argv[optind - 1], usage);
	return -1;
}

int cli_no_operands(const char *cmd, int argc, char **argv, const char *usage)
{
	if (optind >= argc)
		return 0;
	fprintf(stderr, "%s: unexpected argument \"%s\"\n%s", cmd, argv[optind], usage);
	return -1;
}

/* What every long-running or one-shot command shares: -c FILE, --db PATH, --demo. */
#ifndef HEALTHTOP_CLI_H
#define HEALTHTOP_CLI_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include "healthtop/core/config.h"
#include "healthtop/serve/demo.h"

struct cli_common {
	const char *config;
	const char *db;
	bool demo;
};

/* getopt codes of the shared options: 'c' (-c/--config), 'd' (--db), 'D' (--demo). */
#define CLI_COMMON_LONGOPTS \
	{ "config", required_argument, NULL, 'c' }, { "db", required_argument, NULL, 'd' }, \
	{ "demo", no_argument, NULL, 'D' }

/* --metrics-listen ADDR:PORT (daemon, and the dashboard while it polls). */
#define CLI_METRICS_OPT 'M'
#define CLI_METRICS_LONGOPT { "metrics-listen", required_argument, NULL, CLI_METRICS_OPT }

/* Takes a shared option; false when ch is not one of them. */
bool cli_common_opt(int ch, const char *arg, struct cli_common *o);
/* getopt's ':' (missing value) or '?' (unknown option): prints why and the usage, returns -1. */
int cli_opt_error(const char *cmd, int ch, char **argv, const char *usage);
/* Words left after the options: prints the first and the usage, returns -1; else 0. */
int cli_no_operands(const char *cmd, int argc, char **argv, const char *usage);

/* Loads the config (or starts the demo fleet and uses its config); prints the error and returns
 * -1 on failure. */
int cli_load_config(const struct cli_common *o, struct ev_loop *loop, struct demo **demo,
		    struct ht_config *cfg);
/* --db, else the default history (or demo) database path; prints why and returns NULL if none. */
const char *cli_db_path(const struct cli_common *o, char *buf, size_t size);

#endif

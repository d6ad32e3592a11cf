/* What every long-running or one-shot command shares: -c FILE, --db PATH, --demo. */
#ifndef HEALTHTOP_CLI_H
#define HEALTHTOP_CLI_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include "healthtop/config.h"
#include "healthtop/demo.h"

struct cli_common {
	const char *config;
	const char *db;
	bool demo;
};

/* Loads the config (or starts the demo fleet and uses its config); prints the error and returns
 * -1 on failure. */
int cli_load_config(const struct cli_common *o, struct ev_loop *loop, struct demo **demo,
		    struct ht_config *cfg);
/* --db, else the default history (or demo) database path; prints why and returns NULL if none. */
const char *cli_db_path(const struct cli_common *o, char *buf, size_t size);

#endif

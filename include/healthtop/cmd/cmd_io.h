/* I/O the subcommands share: opening the history to read it (export, stats), and finishing an
 * output so that no write error goes unnoticed (export, stats, check). */
#ifndef HEALTHTOP_CMD_IO_H
#define HEALTHTOP_CMD_IO_H

#include <stddef.h>
#include <stdio.h>
#include "healthtop/cmd/cli.h"
#include "healthtop/store/store.h"

/* The history named by --db/--demo, read-only. On failure prints why on stderr, as "<cmd>: ...",
 * and for a database that does not exist yet its path and how to make one (or --demo). */
int cmd_history_open(const char *cmd, const struct cli_common *o, struct store **out);

/* Checks that every name in names[0..n) is a target (projects false) or a project in s; prints
 * each one that is not. -1 when one is missing (exit 4: no data selected), else 0. */
int cmd_history_names(const char *cmd, struct store *s, const char *const *names, size_t n, bool projects);

/* Flushes f (and closes it unless stdout). A failed write prints "<cmd>: writing <name>: why"
 * (write_errno, else errno) and returns -1; a reader that went away (EPIPE: `| head`) returns -1
 * quietly: it has all it wanted. */
int cmd_output_close(const char *cmd, FILE *f, const char *name, int write_errno);

#endif

/* Subcommands: each parses its own options and returns the process exit code. */
#ifndef HEALTHTOP_CMD_H
#define HEALTHTOP_CMD_H

/* Exit codes scripts depend on; Nagios' meaning for 0-2. */
enum ht_exit {
	HT_EXIT_OK = 0,
	HT_EXIT_DEGRADED = 1,
	HT_EXIT_DOWN = 2,
	HT_EXIT_USAGE = 3,   /* config or usage error */
	HT_EXIT_FAILED = 4,  /* the database or the output failed (daemon: results left unwritten);
			      * mute, unmute: also no such target or project */
};

int cmd_check(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_mute(int argc, char **argv);
int cmd_unmute(int argc, char **argv);
/* No subcommand: the dashboard. */
int cmd_dashboard(int argc, char **argv);

#endif

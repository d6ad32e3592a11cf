#include "autoconfig.h"
#include <curl/curl.h>
#include <locale.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include "healthtop/cmd/cmd.h"

static const char help[] =
	"healthtop " PACKAGE_VERSION " - a terminal dashboard for the health of deployed services\n"
	"\n"
	"usage: healthtop [-c FILE] [--db PATH] [--theme NAME] [--demo] [--metrics-listen ADDR:PORT]\n"
	"       healthtop check [-c FILE] [--db PATH] [--format table|json] [--concurrency N] [--notify]\n"
	"                       [--demo]\n"
	"       healthtop daemon [-c FILE] [--db PATH] [--demo] [--metrics-listen ADDR:PORT]\n"
	"                        [--location NAME]\n"
	"       healthtop export [--db PATH | --demo] [--since T] [--until T] [--target NAME]...\n"
	"                        [--project NAME]... [--format csv|jsonl] [-o FILE] [--rollup hour|day]\n"
	"       healthtop import [--db PATH] < EXPORT.jsonl\n"
	"       healthtop migrate --from SOURCE [--db PATH]\n"
	"       healthtop stats [--db PATH | --demo] [--since T] [--until T] [--target NAME]...\n"
	"                       [--format table|json]\n"
	"       healthtop mute [-c FILE] [--db PATH] [--demo] NAME|project:NAME DURATION\n"
	"                      [--reason TEXT]\n"
	"       healthtop unmute [-c FILE] [--db PATH] [--demo] NAME|project:NAME\n"
	"       healthtop --help | --version\n"
	"\n"
	"  (none)    the live dashboard; press ? in it for the keys\n"
	"  check     check every target once, record the results, print them and exit\n"
	"            0 all healthy, 1 worst is degraded, 2 some down, 3 config or usage error,\n"
	"            4 the output could not be written; --notify: announce changes since the last\n"
	"            stored result to the config's \"notify\" destinations (see docs/alerts.md)\n"
	"\n"
	"  daemon    the dashboard's scheduler without a screen: state changes go to stderr;\n"
	"            SIGHUP reloads the config, SIGTERM/SIGINT stop\n"
	"\n"
	"  export    stored results as CSV (spreadsheet-safe) or JSONL; T: 2026-11-23T10:00Z, 24h, 7d\n"
	"  import    results from 'healthtop export --format jsonl' on standard input into --db (SQLite\n"
	"            or PostgreSQL); results no newer than a target's newest stored one are skipped\n"
	"  migrate   SOURCE's whole history into --db: raw results as import stores them, and the\n"
	"            rollups and state changes older than them (docs/scale-out.md)\n"
	"  stats     uptime, p50/p95/p99, state changes and longest outage per target\n"
	"            export, stats: 4 when the database cannot be read, a --target or --project\n"
	"            names nothing in it, or the output cannot be written\n"
	"  mute      silence a target or a project for DURATION (30m, 2h, 1d, or an end time):\n"
	"            still checked and stored, notifies nobody; running pollers see it within 1 s\n"
	"  unmute    end a mute; mute, unmute: 0 done, 3 usage or config error,\n"
	"            4 no such target or project, or the database failed\n"
	"\n"
	"  -c FILE   config (default $XDG_CONFIG_HOME/healthtop/config.json)\n"
	"  --db PATH history database (default $XDG_STATE_HOME/healthtop/history.db)\n"
	"  --demo    use the built-in demo fleet served on 127.0.0.1; export and stats read its history\n"
	"  --theme NAME  default, mono, light, high-contrast, or a theme file\n"
	"  --metrics-listen ADDR:PORT  dashboard, daemon: serve Prometheus /metrics (docs/operations.md)\n"
	"\n"
	"See healthtop(1).\n";

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct command dashboard = { "", cmd_dashboard };

static const struct command commands[] = {
	{ "check", cmd_check },
	{ "daemon", cmd_daemon },
	{ "export", cmd_export },
	{ "import", cmd_import },
	{ "migrate", cmd_migrate },
	{ "stats", cmd_stats },
	{ "mute", cmd_mute },
	{ "unmute", cmd_unmute },
};

int main(int argc, char **argv)
{
	int rc;

	setlocale(LC_ALL, "");
	/* glibc's defaults, made fixed: left dynamic, each large block freed (a fleet's config text,
	 * the published targets: megabytes at 100 000 targets) raises them, and later ones that size
	 * stay in the heap for good once freed. Only a hint: an allocator that refuses it (the
	 * sanitizers', a preloaded one) costs memory, never a run, so a 0 from mallopt is let be. */
	(void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	(void)mallopt(M_TRIM_THRESHOLD, 128 * 1024);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(help, stdout);
		return HT_EXIT_OK;
	}
	if (argc >= 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
		printf("healthtop %s\n", PACKAGE_VERSION);
		return HT_EXIT_OK;
	}
	const struct command *cmd = &dashboard;
	int shift = 0;
	for (size_t i = 0; argc >= 2 && i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			cmd = &commands[i];
			shift = 1;
		}
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "healthtop: cannot initialise libcurl\n");
		return HT_EXIT_USAGE;
	}
	rc = cmd->run(argc - shift, argv + shift);
	curl_global_cleanup();
	return rc;
}

#include "config.h"
#include <curl/curl.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include "healthtop/cmd.h"

static const char help[] =
	"healthtop " PACKAGE_VERSION " - a terminal dashboard for the health of deployed services\n"
	"\n"
	"usage: healthtop check [-c FILE] [--db PATH] [--format table|json] [--concurrency N] [--demo]\n"
	"       healthtop --help | --version\n"
	"\n"
	"  check     check every target once, record the results, print them and exit\n"
	"            0 all healthy, 1 worst is degraded, 2 some down, 3 config or usage error\n"
	"\n"
	"  -c FILE   config (default $XDG_CONFIG_HOME/healthtop/config.json)\n"
	"  --db PATH history database (default $XDG_STATE_HOME/healthtop/history.db)\n"
	"  --demo    use the built-in demo fleet served on 127.0.0.1\n"
	"\n"
	"See healthtop(1).\n";

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "check", cmd_check },
	{ "daemon", cmd_daemon },
};

int main(int argc, char **argv)
{
	int rc;

	setlocale(LC_ALL, "");
	if (argc < 2) {
		fputs(help, stderr);
		return HT_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(help, stdout);
		return HT_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("healthtop %s\n", PACKAGE_VERSION);
		return HT_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			fprintf(stderr, "healthtop: cannot initialise libcurl\n");
			return HT_EXIT_USAGE;
		}
		rc = commands[i].run(argc - 1, argv + 1);
		curl_global_cleanup();
		return rc;
	}
	fprintf(stderr, "healthtop: unknown command \"%s\" (see healthtop --help)\n", argv[1]);
	return HT_EXIT_USAGE;
}

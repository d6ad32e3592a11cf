/* healthtop import: `healthtop export --format jsonl` read back from standard input into a
 * store (SQLite or PostgreSQL), so a history moves from one to the other. Rollups and state
 * changes are made by the store as rows go in, exactly as when the checks were first stored.
 * Idempotent: a row no newer than its target's newest stored result is skipped, so importing
 * the same file twice (or an export that overlaps what is stored) adds nothing twice. */
#include "autoconfig.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/cmd/cli.h"
#include "healthtop/cmd/cmd.h"
#include "healthtop/core/clock.h"
#include "healthtop/core/timeparse.h"
#include "healthtop/store/store.h"
#include "cmd/import_rows.h"

static const char usage[] = "usage: healthtop import [--db PATH] < export.jsonl\n"
			    "  reads 'healthtop export --format jsonl' and stores its results\n";

static const char *text(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* One JSONL line: 0 stored or skipped, -1 with err. */
static int import_line(struct importer *im, const char *line, struct ht_err *err)
{
	cJSON *o = cJSON_Parse(line);
	const char *at = text(o, "checked_at"), *status = text(o, "status");
	struct store_result r = { .name = text(o, "name"), .project = text(o, "project"), .url = text(o, "url"),
				  .reason = text(o, "reason") };
	int rc = -1;

	if (!o || !at || !r.name || !r.project || !r.url || !status || timeparse(at, 0, &r.checked_at_ms) < 0 ||
	    ht_class_parse(status, &r.cls) < 0) {
		ht_err_set(err, "not a line of 'healthtop export --format jsonl'");
	} else {
		double code = num(o, "http_code");
		r.http_code = code > 0 ? (long)code : 0;
		r.response_ms = num(o, "response_ms");
		r.dns_ms = num(o, "dns_ms");
		r.connect_ms = num(o, "connect_ms");
		r.tls_ms = num(o, "tls_ms");
		r.ttfb_ms = num(o, "ttfb_ms");
		rc = importer_add(im, &r, err);
	}
	cJSON_Delete(o);
	return rc;
}

static int parse_opts(int argc, char **argv, struct cli_common *c)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (ch != 'h' && cli_common_opt(ch, optarg, c))
			continue;
		if (ch == 'h') {
			fputs(usage, stdout);
			exit(HT_EXIT_OK);
		}
		return cli_opt_error("healthtop import", ch, argv, usage);
	}
	return cli_no_operands("healthtop import", argc, argv, usage);
}

static int import_all(struct importer *im, FILE *in, struct ht_err *err)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned long lineno = 0;
	int rc = 0;

	while (rc == 0 && getline(&line, &cap, in) >= 0) {
		lineno++;
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if ((rc = import_line(im, line, err)) < 0) {
			char why[sizeof(err->msg)];
			snprintf(why, sizeof(why), "%s", err->msg);
			ht_err_set(err, "line %lu: %s", lineno, why);
		}
	}
	free(line);
	return rc < 0 ? -1 : importer_flush(im, err);
}

int cmd_import(int argc, char **argv)
{
	struct cli_common c = { 0 };
	struct importer im = { 0 };
	struct ht_err err = { "" };
	char dbbuf[1024], shown[1024];
	const char *db;

	if (parse_opts(argc, argv, &c) < 0 || !(db = cli_db_path(&c, dbbuf, sizeof(dbbuf))))
		return HT_EXIT_USAGE;
	store_db_shown(db, shown, sizeof(shown));
	if (store_open(db, &im.s, &err) < 0) {
		fprintf(stderr, "healthtop import: %s\n", err.msg);
		return HT_EXIT_FAILED;
	}
	int rc = import_all(&im, stdin, &err);
	importer_fini(&im);
	store_close(im.s);
	if (rc < 0) {
		fprintf(stderr, "healthtop import: %s (%llu results stored before it)\n", err.msg,
			(unsigned long long)im.stored);
		return HT_EXIT_FAILED;
	}
	fprintf(stderr, "healthtop import: %llu results stored into %s, %llu already there skipped\n",
		(unsigned long long)im.stored, shown, (unsigned long long)im.skipped);
	return HT_EXIT_OK;
}

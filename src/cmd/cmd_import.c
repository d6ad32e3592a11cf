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

#define BATCH 512

static const char usage[] = "usage: healthtop import [--db PATH] < export.jsonl\n"
			    "  reads 'healthtop export --format jsonl' and stores its results\n";

/* A target seen in the input: its store id and the newest result stored before the import. */
struct seen {
	char *name;
	int64_t id;
	int64_t newest_ms;
};

struct importer {
	struct store *s;
	struct seen *seen;
	size_t nseen, seen_cap;
	size_t *slots;              /* open addressing by name: index + 1 into seen, 0 empty */
	size_t nslots;
	struct store_row rows[BATCH];
	char *strings[BATCH * 2];   /* each row's reason and URL, freed with the batch */
	size_t n;
	uint64_t stored, skipped;
};

static void newest(void *user, const struct store_read_row *row)
{
	*(int64_t *)user = row->checked_at_ms;
}

static size_t hash(const char *s)
{
	size_t h = 14695981039346656037u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* The slot of name: where it is, or the empty one where it goes. */
static size_t *slot_of(struct importer *im, const char *name)
{
	size_t i = hash(name) & (im->nslots - 1);

	while (im->slots[i] && strcmp(im->seen[im->slots[i] - 1].name, name) != 0)
		i = (i + 1) & (im->nslots - 1);
	return &im->slots[i];
}

/* Room for one more target, the table kept at most half full. */
static int grow(struct importer *im)
{
	if (im->nseen == im->seen_cap) {
		size_t cap = im->seen_cap ? im->seen_cap * 2 : 64;
		struct seen *v = realloc(im->seen, cap * sizeof(*v));
		size_t *slots = calloc(cap * 2, sizeof(*slots));
		if (!v || !slots) {
			if (v)
				im->seen = v;
			free(slots);
			return -1;
		}
		im->seen = v;
		im->seen_cap = cap;
		free(im->slots);
		im->slots = slots;
		im->nslots = cap * 2;
		for (size_t i = 0; i < im->nseen; i++)
			*slot_of(im, im->seen[i].name) = i + 1;
	}
	return 0;
}

/* The target of a row, created in the store on first sight. NULL: out of memory or an error. */
static struct seen *target(struct importer *im, const char *name, const char *project, const char *url,
			   struct ht_err *err)
{
	size_t *slot = im->nslots ? slot_of(im, name) : NULL;

	if (slot && *slot)
		return &im->seen[*slot - 1];
	if (grow(im) < 0)
		return NULL;
	struct seen *t = &im->seen[im->nseen];
	*t = (struct seen){ strdup(name), 0, INT64_MIN };
	if (!t->name || store_target_id(im->s, name, project, url, &t->id, err) < 0 ||
	    store_recent(im->s, t->id, 1, newest, &t->newest_ms, err) < 0) {
		free(t->name);
		return NULL;
	}
	im->nseen++;
	*slot_of(im, name) = im->nseen;
	return t;
}

static int flush(struct importer *im, struct ht_err *err)
{
	int rc = im->n ? store_append_batch(im->s, im->rows, im->n, err) : 0;

	if (rc == 0)
		im->stored += im->n;
	for (size_t i = 0; i < im->n * 2; i++)
		free(im->strings[i]);
	im->n = 0;
	return rc;
}

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

/* What the export leaves out, judged as the probe judged it: a check counts towards uptime when
 * it was not down and got a status below 500 other than 429, or (TCP, TLS) no status at all. */
static bool counted_up(enum ht_class cls, long code)
{
	return cls != HT_DOWN && (code == 0 || (code >= 100 && code < 500 && code != 429));
}

/* One JSONL line: 0 stored or skipped, -1 with err. */
static int import_line(struct importer *im, const char *line, struct ht_err *err)
{
	cJSON *o = cJSON_Parse(line);
	const char *at = text(o, "checked_at"), *name = text(o, "name"), *project = text(o, "project");
	const char *url = text(o, "url"), *status = text(o, "status"), *reason = text(o, "reason");
	struct store_row *r = &im->rows[im->n];
	enum ht_class cls;
	int64_t at_ms;
	struct seen *t;
	int rc = -1;

	if (!o || !at || !name || !project || !url || !status || timeparse(at, 0, &at_ms) < 0 ||
	    ht_class_parse(status, &cls) < 0)
		ht_err_set(err, "not a line of 'healthtop export --format jsonl'");
	else if (!(t = target(im, name, project, url, err)))
		ht_err_set(err, "%s", err->msg[0] ? err->msg : "out of memory");
	else if (at_ms <= t->newest_ms) {
		im->skipped++;   /* already stored: imported before, or checked there */
		rc = 0;
	} else {
		double code = num(o, "http_code");
		*r = (struct store_row){ .target_id = t->id, .checked_at_ms = at_ms, .cls = cls,
					 .http_code = code > 0 ? (long)code : 0,
					 .response_ms = num(o, "response_ms"), .dns_ms = num(o, "dns_ms"),
					 .connect_ms = num(o, "connect_ms"), .tls_ms = num(o, "tls_ms"),
					 .ttfb_ms = num(o, "ttfb_ms") };
		r->up = counted_up(cls, r->http_code);
		im->strings[im->n * 2] = strdup(reason ? reason : "");
		im->strings[im->n * 2 + 1] = strdup(url);
		r->reason = im->strings[im->n * 2];
		r->url = im->strings[im->n * 2 + 1];
		im->n++;
		rc = r->reason && r->url ? 0 : -1;
		if (rc < 0)
			ht_err_set(err, "out of memory");
		else if (im->n == BATCH)
			rc = flush(im, err);
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
	return rc < 0 ? -1 : flush(im, err);
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
	for (size_t i = 0; i < im.nseen; i++)
		free(im.seen[i].name);
	free(im.seen);
	free(im.slots);
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

/* healthtop migrate: one store's whole history into another (SQLite into PostgreSQL, or back).
 * The export | import pipe carries raw results only, and raw results are the shortest-kept
 * history (14 days by default): the hourly and daily rollups and the state changes older than
 * them would be left behind. Here the raw results go in as `import` stores them (so rollups and
 * state changes are made from them), and what is older is copied as it is:
 *   1. state changes before each target's oldest raw result (first: the import's first row is
 *      then compared with the class they end in, as the source compared it);
 *   2. the raw results, skipping what the destination holds already;
 *   3. rollup periods up to the one holding the oldest raw result, put whole: that period also
 *      counted results retention has since deleted, which the import cannot know.
 * Running it twice adds nothing twice. */
#include "autoconfig.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/cmd/cli.h"
#include "healthtop/cmd/cmd.h"
#include "healthtop/core/sanitize.h"
#include "healthtop/store/store_migrate.h"
#include "cmd/import_rows.h"

static const char usage[] = "usage: healthtop migrate --from SOURCE [--db PATH]\n"
			    "  copies SOURCE's whole history (a SQLite file or a PostgreSQL conninfo) into --db\n";

struct source_target {
	int64_t src_id;
	size_t seen;        /* index into the importer's targets */
	int64_t first_raw;  /* the source's oldest raw result, INT64_MAX none */
};

struct migration {
	struct store *src;
	struct importer im;
	struct source_target *t;
	size_t nt, cap;
	int64_t *first_raw;   /* by the importer's target index */
	uint64_t changes, rollups[2];
	struct ht_err err;
	int failed;
};

static int add_target(void *user, const struct store_target *st)
{
	struct migration *mg = user;
	struct import_seen *seen;

	if (mg->nt == mg->cap) {
		size_t cap = mg->cap ? mg->cap * 2 : 64;
		struct source_target *v = realloc(mg->t, cap * sizeof(*v));
		if (!v)
			return ht_err_set(&mg->err, "out of memory"), -1;
		mg->t = v;
		mg->cap = cap;
	}
	if (!(seen = importer_target(&mg->im, st->name, st->project, st->url, &mg->err)))
		return -1;
	struct source_target *t = &mg->t[mg->nt];
	*t = (struct source_target){ st->id, (size_t)(seen - mg->im.seen), INT64_MAX };
	if (store_first_raw(mg->src, st->id, &t->first_raw, &mg->err) < 0)
		return -1;
	mg->nt++;
	return 0;
}

static int by_src_id(const void *a, const void *b)
{
	int64_t x = ((const struct source_target *)a)->src_id, y = ((const struct source_target *)b)->src_id;
	return (x > y) - (x < y);
}

static const struct source_target *by_id(const struct migration *mg, int64_t src_id)
{
	struct source_target key = { .src_id = src_id };
	return mg->nt ? bsearch(&key, mg->t, mg->nt, sizeof(*mg->t), by_src_id) : NULL;
}

static void put_change(void *user, int64_t src_id, int64_t at_ms, int from, int to)
{
	struct migration *mg = user;
	const struct source_target *t = by_id(mg, src_id);

	if (mg->failed || !t || at_ms >= t->first_raw)
		return;   /* from the oldest raw result on, the import makes them */
	if (from < 0 || from >= HT_CLASS_COUNT || to < 0 || to >= HT_CLASS_COUNT)
		return;   /* not a class: a damaged source row is left out, not stored */
	int rc = store_change_put(mg->im.s, mg->im.seen[t->seen].id, at_ms, from, to, &mg->err);
	if (rc < 0)
		mg->failed = -1;
	mg->changes += rc > 0;
}

static int put_result(void *user, const struct store_result *r)
{
	struct migration *mg = user;
	return importer_add(&mg->im, r, &mg->err);
}

struct rollup_pass {
	struct migration *mg;
	int period_s;
};

static int put_rollup(void *user, const struct store_rollup *r)
{
	struct rollup_pass *rp = user;
	struct migration *mg = rp->mg;
	struct import_seen *seen = importer_target(&mg->im, r->name, r->project, r->url ? r->url : "", &mg->err);
	int64_t first = INT64_MAX, period_ms = (int64_t)rp->period_s * 1000;

	if (!seen)
		return -1;
	if ((size_t)(seen - mg->im.seen) < mg->nt)
		first = mg->first_raw[seen - mg->im.seen];
	if (first != INT64_MAX && r->period_start_ms > first - first % period_ms)
		return 0;   /* made from the raw results */
	struct store_rollup clean = *r;   /* the source is a file: its URL is untrusted */
	char url[IMPORT_URL_MAX];
	if (r->url) {
		sanitize_url(r->url, url, sizeof(url));
		clean.url = url;
	}
	if (store_rollup_put(mg->im.s, rp->period_s, seen->id, &clean, &mg->err) < 0)
		return -1;
	mg->rollups[rp->period_s == 3600 ? 0 : 1]++;
	return 0;
}

static int migrate(struct migration *mg)
{
	struct store_query all = { .since_ms = 0, .until_ms = INT64_MAX };
	struct store *dst = mg->im.s;
	int rc;

	if (store_targets_begin(dst, &mg->err) < 0)
		return -1;
	rc = store_targets(mg->src, add_target, mg, &mg->err);
	if (store_targets_end(dst, &mg->err) < 0 || rc < 0)
		return -1;
	if (!(mg->first_raw = malloc((mg->nt ? mg->nt : 1) * sizeof(*mg->first_raw))))
		return ht_err_set(&mg->err, "out of memory"), -1;
	for (size_t i = 0; i < mg->nt; i++)   /* a target's index is its place in the source's list */
		mg->first_raw[mg->t[i].seen] = mg->t[i].first_raw;
	if (mg->nt > 1)
		qsort(mg->t, mg->nt, sizeof(*mg->t), by_src_id);
	if (store_migrate_begin(dst, &mg->err) < 0)
		return -1;
	rc = store_changes(mg->src, INT64_MAX, put_change, mg, &mg->err) < 0 || mg->failed ? -1 : 0;
	if (store_migrate_end(dst, rc == 0, &mg->err) < 0 ||
	    store_export(mg->src, &all, put_result, mg, &mg->err) != 0 || importer_flush(&mg->im, &mg->err) < 0)
		return -1;
	for (int period_s = 3600; period_s <= 86400; period_s *= 24) {
		struct rollup_pass rp = { mg, period_s };
		if (store_migrate_begin(dst, &mg->err) < 0)
			return -1;
		rc = store_export_rollup(mg->src, &all, period_s, put_rollup, &rp, &mg->err) != 0 ? -1 : 0;
		if (store_migrate_end(dst, rc == 0, &mg->err) < 0)
			return -1;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct cli_common *c, const char **from)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "from", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (ch == 'f') {
			*from = optarg;
			continue;
		}
		if (ch != 'h' && cli_common_opt(ch, optarg, c))
			continue;
		if (ch == 'h') {
			fputs(usage, stdout);
			exit(HT_EXIT_OK);
		}
		return cli_opt_error("healthtop migrate", ch, argv, usage);
	}
	if (cli_no_operands("healthtop migrate", argc, argv, usage) < 0)
		return -1;
	if (!*from || !**from) {
		fprintf(stderr, "healthtop migrate: --from SOURCE is needed\n%s", usage);
		return -1;
	}
	return 0;
}

int cmd_migrate(int argc, char **argv)
{
	struct cli_common c = { 0 };
	struct migration mg = { .err = { "" } };
	char dbbuf[1024], from_shown[1024], to_shown[1024];
	const char *db, *from = NULL;

	if (parse_opts(argc, argv, &c, &from) < 0 || !(db = cli_db_path(&c, dbbuf, sizeof(dbbuf))))
		return HT_EXIT_USAGE;
	store_db_shown(from, from_shown, sizeof(from_shown));
	store_db_shown(db, to_shown, sizeof(to_shown));
	if (strcmp(from, db) == 0) {
		fprintf(stderr, "healthtop migrate: --from and --db are the same store (%s)\n", to_shown);
		return HT_EXIT_USAGE;
	}
	if (store_open_readonly(from, &mg.src, &mg.err) < 0 || store_open(db, &mg.im.s, &mg.err) < 0) {
		fprintf(stderr, "healthtop migrate: %s\n", mg.err.msg);
		store_close(mg.src);
		return HT_EXIT_FAILED;
	}
	int rc = migrate(&mg);
	importer_fini(&mg.im);
	store_close(mg.im.s);
	store_close(mg.src);
	free(mg.t);
	free(mg.first_raw);
	if (rc < 0) {
		fprintf(stderr, "healthtop migrate: %s (%llu results stored before it)\n", mg.err.msg,
			(unsigned long long)mg.im.stored);
		return HT_EXIT_FAILED;
	}
	fprintf(stderr, "healthtop migrate: from %s into %s: %llu results stored (%llu already there skipped),"
		" %llu older state changes added, %llu hourly and %llu daily rollups put whole\n", from_shown, to_shown,
		(unsigned long long)mg.im.stored, (unsigned long long)mg.im.skipped, (unsigned long long)mg.changes,
		(unsigned long long)mg.rollups[0], (unsigned long long)mg.rollups[1]);
	return HT_EXIT_OK;
}
